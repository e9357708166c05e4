"""Simple baselines: climatological mean and linear interpolation in time.

Both are xarray operations, lazy on dask input.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..field import canonical, validate_field


def climatology(obs: xr.DataArray) -> xr.DataArray:
    """Fill every pixel with its temporal mean over the observed time steps.

    The mean is taken in float64 (a float16 sum overflows to inf after a few thousand
    frames) over finite values only, so it is never infinite. Lazy on dask input, with
    the same result whatever the chunks.

    Parameters
    ----------
    obs : xarray.DataArray
        Field ``(time, y, x[, channel])`` with NaN where missing.

    Returns
    -------
    xarray.DataArray
        The per-pixel mean broadcast over time (NaN where never observed; see
        :func:`seainpaint.fill` for those pixels).
    """
    dims = validate_field(obs)
    wide = _whole_time(obs.astype(np.float64), dims.time)
    mean = wide.where(np.isfinite(wide)).mean(dims.time, skipna=True)
    return mean.broadcast_like(obs).transpose(*obs.dims).astype(obs.dtype)


def _whole_time(da: xr.DataArray, time: str) -> xr.DataArray:
    """Dask input rechunked to hold the whole time axis (spatial chunks sized by dask).

    Reductions and interpolation along time then run on each pixel's whole series in one
    numpy call, so the result does not depend on how the input was chunked.
    """
    if da.chunks is None:
        return da
    return da.chunk({d: (-1 if d == time else "auto") for d in da.dims})


def _hold_edges(values: np.ndarray) -> np.ndarray:
    """Along the last axis, NaN before the first / after the last finite value take it."""
    n = values.shape[-1]
    finite = np.isfinite(values)
    positions = np.arange(n)
    last = np.maximum.accumulate(np.where(finite, positions, 0), axis=-1)
    first = np.minimum.accumulate(np.where(finite, positions, n - 1)[..., ::-1], axis=-1)[
        ..., ::-1
    ]
    forward = np.take_along_axis(values, last, axis=-1)  # last finite at or before
    backward = np.take_along_axis(values, first, axis=-1)  # first finite at or after
    held = np.where(np.isfinite(forward), forward, backward)
    return np.where(finite, values, held)


def linear_in_time(obs: xr.DataArray) -> xr.DataArray:
    """Interpolate each pixel linearly in time between its observations.

    The interpolation uses the time coordinate, so irregularly spaced frames are
    weighted by the time between them (frames at hours 0, 1, 2, 20, 22, 23 with hour 20
    missing give 20, not 12): :meth:`xarray.DataArray.interpolate_na` with
    ``use_coordinate=True``. Before the first and after the last observation of a pixel
    the nearest observation is held. A pixel observed in no frame stays NaN
    (:func:`seainpaint.fill` completes never-observed sea pixels from spatial context).
    Lazy on dask input (each chunk then holds the whole time axis).

    Parameters
    ----------
    obs : xarray.DataArray
        Field ``(time, y, x[, channel])`` with NaN where missing; time sorted and unique.

    Returns
    -------
    xarray.DataArray
        Prediction for every pixel observed at least once.
    """
    dims = validate_field(obs)
    tyx, _ = canonical(obs)
    wide = _whole_time(tyx.astype(np.float64), dims.time)
    use_coordinate = dims.time in tyx.coords
    interior = wide.interpolate_na(dims.time, method="linear", use_coordinate=use_coordinate)
    held = xr.apply_ufunc(
        _hold_edges,
        interior,
        input_core_dims=[[dims.time]],
        output_core_dims=[[dims.time]],
        dask="parallelized",
        output_dtypes=[np.float64],
    )
    out = held.transpose(*obs.dims).astype(obs.dtype)
    return out.assign_attrs(obs.attrs)

