"""Frame-by-frame kernels on xarray: spatial baselines and the spatial completion of fills.

Both wrap a numpy kernel on one 2-D frame with :func:`xarray.apply_ufunc`
(``input_core_dims=[[y, x]]``, ``vectorize=True``, ``dask="parallelized"``), the way
xESMF wraps its regridding kernel: numpy input is filled at once, dask input lazily chunk
by chunk (each chunk holds whole frames).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import xarray as xr
from numpy.typing import DTypeLike
from scipy import ndimage
from tqdm.auto import tqdm

from ..field import FieldDims, canonical, field_dims, validate_field

FrameFiller = Callable[[np.ndarray, np.ndarray], np.ndarray]
F = TypeVar("F", bound=Callable[..., Any])

FRAME_BASELINE_DOC = """\
    progress : bool
        Show a progress bar over frames.

    Returns
    -------
    xarray.DataArray
        Prediction for every pixel (use through :func:`seainpaint.fill`).
"""


def frame_baseline_doc(func: F) -> F:
    """Finish the docstring of a frame-by-frame baseline with the part they all share.

    The docstring ends with the baseline's own parameters; the ``progress`` parameter and
    the Returns section (:data:`FRAME_BASELINE_DOC`) are appended to it.
    """
    func.__doc__ = f"{(func.__doc__ or '').rstrip()}\n{FRAME_BASELINE_DOC}    "
    return func


def _whole_frames(da: xr.DataArray, y: str, x: str) -> xr.DataArray:
    """Dask input rechunked so that every chunk holds whole frames."""
    if da.chunks is None:
        return da
    return da.chunk({y: -1, x: -1})


def _per_frame(
    kernel: Callable[..., np.ndarray], dims: FieldDims, *arrays: xr.DataArray, dtype: DTypeLike
) -> xr.DataArray:
    """``kernel`` applied to the matching 2-D ``(y, x)`` frames of ``arrays``.

    Every chunk of the arrays must hold whole frames (:func:`_whole_frames`); the result
    has the frame dims last and dtype ``dtype``, lazy on dask input.
    """
    frame = [dims.y, dims.x]
    return xr.apply_ufunc(
        kernel,
        *arrays,
        input_core_dims=[frame] * len(arrays),
        output_core_dims=[frame],
        vectorize=True,
        dask="parallelized",
        output_dtypes=[dtype],
    )


def _temporal_mean(obs: xr.DataArray, dims: FieldDims) -> xr.DataArray:
    """Each pixel's mean over time, never-observed pixels from their nearest neighbour."""
    wide = obs.astype(np.float64)
    if wide.chunks is not None:  # whole series per chunk: chunking-independent sums
        wide = wide.chunk({d: (-1 if d == dims.time else "auto") for d in wide.dims})
    mean = wide.mean(dims.time, skipna=True)
    return _per_frame(nearest_fill, dims, _whole_frames(mean, dims.y, dims.x), dtype=np.float64)


def _fill_one_frame(frame: np.ndarray, fallback: np.ndarray, fill_frame: FrameFiller) -> np.ndarray:
    values = np.asarray(frame, dtype=np.float64)
    missing = ~np.isfinite(values)
    if not missing.any():
        return frame
    if missing.all():
        return fallback.astype(frame.dtype)
    return fill_frame(values, missing).astype(frame.dtype)


def fill_frames(
    obs: xr.DataArray, fill_frame: FrameFiller, *, desc: str, progress: bool = False
) -> xr.DataArray:
    """Apply ``fill_frame(frame, missing)`` to every 2-D frame and channel of ``obs``.

    ``frame`` is a float64 ``(Y, X)`` array with NaN where missing and ``missing`` the
    boolean mask of its NaN; ``fill_frame`` returns the frame with every pixel predicted.
    A frame with no observed pixel takes each pixel's temporal mean (and the nearest
    pixel's where a pixel is never observed), since a purely spatial method has nothing
    to use. Lazy on dask input, with the same result whatever the chunks.

    Parameters
    ----------
    obs : xarray.DataArray
        Field ``(time, y, x[, channel])``; lazy on dask input (chunks are made to hold
        whole frames).
    fill_frame : callable
        The numpy kernel on one frame.
    desc : str
        Label of the progress bar.
    progress : bool
        Show a progress bar over frames (in-memory input; on dask input use dask's own
        progress reporting, e.g. ``dask.diagnostics.ProgressBar``).

    Returns
    -------
    xarray.DataArray
        Prediction for every pixel, same dims, coords and dtype as ``obs``.
    """
    dims = validate_field(obs)
    tyx = _whole_frames(canonical(obs)[0], dims.y, dims.x)
    fallback = _temporal_mean(obs, dims)
    kernel = functools.partial(_fill_one_frame, fill_frame=fill_frame)
    bar = None
    if progress and tyx.chunks is None:
        bar = tqdm(
            total=tyx.size // (tyx.sizes[dims.y] * tyx.sizes[dims.x]), desc=desc, leave=False
        )
        kernel = _counted(kernel, bar)
    out = _per_frame(kernel, dims, tyx, fallback, dtype=tyx.dtype)
    if bar is not None:
        bar.close()
    return out.transpose(*obs.dims).assign_attrs(obs.attrs)


def _counted(kernel: Callable[..., np.ndarray], bar: tqdm) -> Callable[..., np.ndarray]:
    def counted(*args: np.ndarray) -> np.ndarray:
        bar.update(1)
        return kernel(*args)

    return counted


def nearest_fill(frame: np.ndarray) -> np.ndarray:
    """The NaN of a 2-D frame replaced by the value of the nearest finite pixel."""
    missing = ~np.isfinite(frame)
    if not missing.any() or missing.all():
        return frame
    idx = ndimage.distance_transform_edt(missing, return_distances=False, return_indices=True)
    return frame[tuple(idx)]


def _complete_one_frame(frame: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Biharmonic fill of the non-finite ``target`` pixels of one frame."""
    from skimage.restoration import inpaint_biharmonic

    values = np.asarray(frame, dtype=np.float64)
    holes = target & ~np.isfinite(values)
    if not holes.any() or not np.isfinite(values).any():
        return frame
    # other non-finite pixels (land) take their nearest value so the biharmonic system
    # sees a complete image; only the holes are solved for
    solved = inpaint_biharmonic(nearest_fill(values), holes)
    out = np.array(frame, copy=True)
    out[holes] = solved[holes]
    return out


def complete_frames(predicted: xr.DataArray, target: xr.DataArray) -> xr.DataArray:
    """Fill the non-finite values of a prediction at ``target`` pixels, frame by frame.

    Used by :func:`seainpaint.fill` for sea pixels never observed in the field when the
    method left them empty (climatology, linear in time, DINEOF): each frame's holes are
    solved by biharmonic inpainting (:func:`skimage.restoration.inpaint_biharmonic`) from
    the method's own output around them.

    Parameters
    ----------
    predicted : xarray.DataArray
        The method's prediction ``(time, y, x[, channel])``; lazy on dask input.
    target : xarray.DataArray
        Boolean, dims the spatial dims (and optionally ``channel``): pixels to complete.

    Returns
    -------
    xarray.DataArray
        ``predicted`` with its non-finite target pixels filled, same dims and dtype.
    """
    dims = field_dims(predicted)
    tyx = _whole_frames(canonical(predicted)[0], dims.y, dims.x)
    target = _whole_frames(target.reset_coords(drop=True), dims.y, dims.x)
    out = _per_frame(_complete_one_frame, dims, tyx, target, dtype=tyx.dtype)
    return out.transpose(*predicted.dims).assign_attrs(predicted.attrs)
