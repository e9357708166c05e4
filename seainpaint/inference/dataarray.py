"""DataArrays in physical units, lazily on dask: :func:`predict_dataarray` and the
``map_overlap`` glue that runs :func:`~.region.predict_region` chunk by chunk."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any

import dask.array as dsk
import numpy as np
import xarray as xr
from dask.array.overlap import ensure_minimum_chunksize

from ..field import FieldInfo, canonical, time_in_hours
from .device import default_threads
from .plan import FILL_DEFAULTS, FillPlan, check_fill_options, plan_fill
from .region import PredictFn, predict_region

ArrayFn = Callable[[np.ndarray], np.ndarray]


def affine(values: np.ndarray, *, mean: np.ndarray, scale: np.ndarray,
           inverse: bool = False) -> np.ndarray:
    """``(values - mean) / scale`` (or its inverse) on arrays ending with the channel axis.

    A plain function of arrays, so ``functools.partial(affine, mean=..., scale=...)``
    pickles and travels to dask workers by value.
    """
    # float32 throughout: the fill's arrays are float32, and float64 temporaries of a
    # chunk with its margins cost gigabytes
    mean, scale = np.float32(mean), np.float32(scale)
    if inverse:
        return values.astype(np.float32, copy=False) * scale + mean
    return (values.astype(np.float32, copy=False) - mean) / scale


def _predict_block(block: np.ndarray, t_index: np.ndarray, y_index: np.ndarray,
                   x_index: np.ndarray, hours: np.ndarray, *, predict: PredictFn,
                   plan: FillPlan, normalize: ArrayFn, denormalize: ArrayFn,
                   scale_out: ArrayFn | None, fill_value: float,
                   opts: dict[str, Any], depth: tuple[int, int, int] = (0, 0, 0),
                   block_info: dict[Any, Any] | None = None) -> np.ndarray:
    """A chunk with its margins (physical units) -> the prediction of the chunk proper
    (dask task; the margins serve as context only and are not returned).

    ``depth`` is the margin map_overlap added on each side of an inner chunk boundary;
    ``block_info`` (from dask) says which chunk this is, hence where margins are.
    """
    if block.size == 0:
        n_out = block.shape[-1] * (2 if scale_out is not None else 1)
        return np.zeros(block.shape[:3] + (n_out,), dtype=np.float32)
    origin = (int(t_index.ravel()[0]), int(y_index.ravel()[0]), int(x_index.ravel()[0]))
    interior = []
    for axis, n in enumerate(block.shape[:3]):
        lo, hi = 0, n
        if block_info is not None:
            where, count = block_info[0]["chunk-location"][axis], block_info[0]["num-chunks"][axis]
            lo = depth[axis] if where > 0 else 0
            hi = n - (depth[axis] if where < count - 1 else 0)
        interior.append(slice(lo, max(hi, lo)))
    if opts.get("threads") is None and block_info is not None:
        # fewer chunks than cores (a 240-frame field in a few spatial chunks): share the
        # cores out among them instead of one torch thread per task
        tasks = int(np.prod(block_info[0]["num-chunks"][:3]))
        opts = {**opts, "threads": max(1, default_threads() // tasks)}
    norm = np.asarray(normalize(np.asarray(block, dtype=np.float32)), dtype=np.float32)
    pred = predict_region(predict, norm, plan, origin=origin, interior=tuple(interior),
                           hours=np.asarray(hours).ravel(), fill_value=fill_value,
                           uncertainty=scale_out is not None, **opts)
    del norm
    c = block.shape[-1]
    out = np.empty(pred.shape, dtype=np.float32)
    out[..., :c] = denormalize(pred[..., :c])
    if scale_out is not None:
        out[..., c:] = scale_out(pred[..., c:])
    return out


def predict_dataarray(
    predict: PredictFn,
    da: xr.DataArray,
    *,
    normalize: ArrayFn,
    denormalize: ArrayFn,
    fill_value: float,
    scale_out: ArrayFn | None = None,
    info: FieldInfo | None = None,
    **opts: Any,
) -> xr.DataArray | tuple[xr.DataArray, xr.DataArray]:
    """Predict every pixel of a field in physical units, lazily on dask-backed input.

    Parameters
    ----------
    predict : callable
        ``predict(y, m) -> phi``, see :func:`predict_array`. Under a
        ``dask.distributed`` cluster with worker processes it must pickle (e.g.
        :class:`GeneratorPredictor`, not a closure over a lock or a CUDA tensor).
    da : xarray.DataArray
        Field ``(time, y, x[, channel])`` in physical units, NaN = missing.
    normalize, denormalize : callable
        Map ``(T, H, W, C)`` numpy arrays from physical units to the network's and back
        (picklable for a process-based cluster, e.g. ``functools.partial(affine, ...)``).
    fill_value : float
        The constant c for missing values (in normalised units).
    scale_out : callable, optional
        Maps the predicted error scale ``exp(log_b)`` to a standard error in physical
        units; when given, the standard error is returned too.
    info : FieldInfo, optional
        The description of ``da`` (:func:`seainpaint.field.describe`), when the caller
        has it: its dim order and time stamps are used instead of looking them up.
    **opts
        ``window``, ``overlap``, ``tile``, ``halo``, ``batch_size``, ``device``,
        ``threads``, ``align``, ``max_voxels``, ``progress`` of :func:`predict_array`.
        On dask input ``threads`` defaults to the cores shared out among the chunks
        (one per task when there are at least as many chunks as cores).

    Returns
    -------
    xarray.DataArray, or (prediction, standard error) with ``scale_out``
        Prediction for every pixel, float32, same dims (in ``da``'s order), coordinates,
        name and attributes; dask-backed (computed chunk by chunk) when ``da`` is. The
        caller (:func:`seainpaint.fill`) restores observed pixels and land.
    """
    if info is None:
        tyx, dims = canonical(da)
        hours = time_in_hours(tyx, dims.time)
    else:
        tyx, dims, hours = da.transpose(*info.canonical), info.dims, info.hours
    window = opts.pop("window", FILL_DEFAULTS.window)
    overlap = opts.pop("overlap", FILL_DEFAULTS.overlap)
    tile = opts.pop("tile", FILL_DEFAULTS.tile)
    halo = opts.pop("halo", FILL_DEFAULTS.halo)
    align = opts.pop("align", FILL_DEFAULTS.align)
    max_voxels = opts.setdefault("max_voxels", FILL_DEFAULTS.max_voxels)
    opts.setdefault("batch_size", FILL_DEFAULTS.batch_size)
    opts.setdefault("device", "auto")
    opts.setdefault("threads", None)
    opts.setdefault("progress", False)
    check_fill_options(window, overlap, tile, halo, opts["batch_size"], align)
    shape = tuple(int(tyx.sizes[d]) for d in (dims.time, dims.y, dims.x))
    plan = plan_fill(shape, window=window, overlap=overlap, tile=tile, halo=halo, align=align,
                     max_voxels=max_voxels, reach=getattr(predict, "reach", None))
    block_fn = functools.partial(_predict_block, predict=predict, plan=plan,
                                 normalize=normalize, denormalize=denormalize,
                                 scale_out=scale_out, fill_value=fill_value, opts=dict(opts))
    has_channel = dims.channel is not None
    n_t, n_y, n_x = shape
    if tyx.chunks is None:
        values = np.asarray(tyx.values, dtype=np.float32)
        if not has_channel:
            values = values[..., None]
        result = block_fn(values, np.arange(n_t), np.arange(n_y), np.arange(n_x), hours)
    else:
        # one progress bar per chunk would interleave: dask reports progress instead
        block_fn.keywords["opts"]["progress"] = False
        result = _lazy(block_fn, tyx.data, hours, plan, has_channel=has_channel,
                       n_out_factor=2 if scale_out is not None else 1)
    c = tyx.sizes[dims.channel] if has_channel else 1
    pieces = [result[..., :c]]
    if scale_out is not None:
        pieces.append(result[..., c:])
    out = []
    for piece in pieces:
        data = piece if has_channel else piece[..., 0]
        arr = xr.DataArray(data, dims=tyx.dims, coords=tyx.coords, name=da.name,
                           attrs=dict(da.attrs))
        out.append(arr.transpose(*da.dims))
    return out[0] if scale_out is None else (out[0], out[1])


def _lazy(block_fn: Callable[..., np.ndarray], data: Any, hours: np.ndarray, plan: FillPlan,
          *, has_channel: bool, n_out_factor: int) -> Any:
    """map_overlap ``block_fn`` over a dask array ``(T, H, W[, C])``."""
    if not has_channel:
        data = data[..., None]
    data = data.astype(np.float32).rechunk({3: -1})
    given = data.chunks  # the result is handed back in these (Zarr wants regular chunks)
    chunks = list(data.chunks)
    depth = list(plan.depth)
    for axis in (1, 2):
        starts = plan.axes[axis][0]
        if plan.tile is None or len(starts) == 1:
            chunks[axis] = (data.shape[axis],)  # whole frames: one chunk across
            depth[axis] = 0
        else:
            # chunks aligned on the tile grid and at least 4 tiles wide: a chunk then runs
            # about one tile more than its share, and reads its margins once
            step = starts[1] - starts[0]
            size = max(4 * step, max(chunks[axis]) // step * step)
            n = data.shape[axis]
            chunks[axis] = tuple(min(size, n - i) for i in range(0, n, size))
    # time chunks at least twice the margin: a chunk then reads at most twice its frames
    # (a 240-frame field stays one chunk; the network only runs the windows it owns)
    if depth[0] and len(chunks[0]) > 1:
        chunks[0] = ensure_minimum_chunksize(min(2 * depth[0], data.shape[0]), chunks[0])
    for axis in range(3):
        if len(chunks[axis]) == 1:
            depth[axis] = 0  # one chunk along this axis: nothing to share
        depth[axis] = min(depth[axis], data.shape[axis])
        if depth[axis]:
            chunks[axis] = ensure_minimum_chunksize(depth[axis], chunks[axis])
    data = data.rechunk(tuple(chunks))
    t_index = dsk.from_array(np.arange(data.shape[0]).reshape(-1, 1, 1, 1),
                             chunks=(chunks[0], 1, 1, 1))
    t_hours = dsk.from_array(hours.reshape(-1, 1, 1, 1), chunks=(chunks[0], 1, 1, 1))
    y_index = dsk.from_array(np.arange(data.shape[1]).reshape(1, -1, 1, 1),
                             chunks=(1, chunks[1], 1, 1))
    x_index = dsk.from_array(np.arange(data.shape[2]).reshape(1, 1, -1, 1),
                             chunks=(1, 1, chunks[2], 1))
    dt, dy, dx = depth
    depths = [{0: dt, 1: dy, 2: dx, 3: 0}, {0: dt, 1: 0, 2: 0, 3: 0},
              {0: 0, 1: dy, 2: 0, 3: 0}, {0: 0, 1: 0, 2: dx, 3: 0},
              {0: dt, 1: 0, 2: 0, 3: 0}]
    # each task returns its own chunk only (no margins to carry, trim or send around)
    out_chunks = data.chunks[:3] + ((data.shape[3] * n_out_factor,),)
    block_fn = functools.partial(block_fn, depth=(dt, dy, dx))
    result = dsk.map_overlap(
        block_fn, data, t_index, y_index, x_index, t_hours, depth=depths, boundary="none",
        trim=False, dtype=np.float32, chunks=out_chunks,
        meta=np.empty((0,) * 4, dtype=np.float32),
        name=f"seainpaint-predict-{uuid.uuid4().hex}",
    )
    return result.rechunk(given[:3] + (out_chunks[3],))
