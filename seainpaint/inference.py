"""Apply a generator to fields of any length and size.

A network sees windows of ``window`` frames and, on large grids, spatial tiles of
``tile`` pixels plus a ``halo`` of context on each side. Windows overlap by ``overlap``
frames, tiles by ``2 * halo`` pixels, and overlapping predictions are blended with
linear ramps that sum to one, so seams do not show. The first quarter of every overlap
(next to a window's or tile's cut edge) gets zero weight: where the network's receptive
field reaches at most ``overlap // 4`` frames and ``halo // 2`` pixels, the blended result
equals one pass over the whole field.

On dask-backed input :func:`predict_dataarray` is lazy: :func:`dask.array.map_overlap`
runs :func:`predict_array` chunk by chunk with ``overlap`` frames and ``halo`` pixels of
context, so memory stays bounded by the chunk size, and it works under a
``dask.distributed`` client (the ``predict`` callable must then pickle:
:class:`GeneratorPredictor` does).
"""

from __future__ import annotations

import functools
import math
import os
import threading
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import xarray as xr

from .errors import FieldError, MethodError, SeainpaintError
from .field import canonical

PredictFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
ArrayFn = Callable[[np.ndarray], np.ndarray]

_MOVE_LOCK = threading.Lock()


class DeviceError(SeainpaintError, RuntimeError):
    """The requested compute device is unknown or not available."""


def cpu_cores() -> int:
    """Number of CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def select_device(device: str | torch.device | None = "auto",
                  threads: int | None = None) -> torch.device:
    """Choose the torch device to compute on.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"`` (CUDA when present, else the CPU), ``"cpu"``, ``"cuda"``,
        ``"cuda:1"``...
    threads : int, optional
        On the CPU, the number of torch threads; default all the cores this process may
        use. (On a machine shared with other busy processes, fewer threads can be faster.)

    Returns
    -------
    torch.device

    Raises
    ------
    DeviceError
        Unknown device name, or CUDA asked for but not available.
    """
    if device is None or (isinstance(device, str) and device.lower() == "auto"):
        dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        try:
            dev = torch.device(device)
        except (RuntimeError, TypeError) as err:
            raise DeviceError(
                f"unknown device {device!r}; use 'auto', 'cpu' or 'cuda[:N]'"
            ) from err
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"device {str(device)!r} asked for, but CUDA is not available")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise DeviceError(
                f"device {str(device)!r} asked for, but only {torch.cuda.device_count()} "
                "CUDA device(s) are present"
            )
    elif dev.type == "cpu":
        n = threads or cpu_cores()
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
    else:
        raise DeviceError(f"unsupported device type {dev.type!r}; use 'auto', 'cpu' or 'cuda'")
    return dev


class GeneratorPredictor:
    """A picklable ``predict(y, m) -> phi`` around a generator network.

    Spectral normalisation is folded into the weights
    (:func:`seainpaint.nn.inference_copy`), the network is put in eval mode, and it is
    moved to the device of its input on first use. Pickling sends the plain network
    (weights and config), so it can travel to ``dask.distributed`` workers.

    Parameters
    ----------
    generator : torch.nn.Module
        A generator from :func:`seainpaint.nn.build_generator` (or any module called as
        ``module(y, m)`` that pickles).
    """

    def __init__(self, generator: torch.nn.Module) -> None:
        from .nn.generator import Generator, inference_copy

        module = inference_copy(generator) if isinstance(generator, Generator) else generator
        self.module = module.eval()

    def __call__(self, y: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        param = next(self.module.parameters(), None)
        if param is not None and param.device != y.device:
            with _MOVE_LOCK:
                self.module.to(y.device)
        return self.module(y, m)


# ---------------------------------------------------------------------------- windows


def _ramp(n: int) -> np.ndarray:
    """Rising blend weights over an overlap of ``n`` samples.

    Zero over the first ``n // 4`` samples, then linear up to 1; the mirrored ramp of the
    neighbour adds up to exactly 1 across the overlap.
    """
    q = n // 4
    d = np.arange(n, dtype=np.float64)
    return np.clip((d + 0.5 - q) / (n - 2 * q), 0.0, 1.0)


def _weights(size: int, lead: int, trail: int) -> np.ndarray:
    """Weights of one window of ``size`` with blend ramps of ``lead``/``trail`` samples."""
    w = np.ones(size, dtype=np.float64)
    if lead:
        w[:lead] *= _ramp(lead)
    if trail:  # where both ramps meet (small steps) the weights multiply
        w[size - trail:] *= _ramp(trail)[::-1]
    return w


def _time_windows(length: int, window: int, overlap: int) -> tuple[list[int], int, list]:
    """Starts, window length and per-window weights along time (no padding)."""
    if length <= window:
        return [0], length, [np.ones(length)]
    step = window - overlap
    starts = list(range(0, length - window, step)) + [length - window]
    weights = []
    for i, s in enumerate(starts):
        lead = 0 if i == 0 else starts[i - 1] + window - s
        trail = 0 if i == len(starts) - 1 else s + window - starts[i + 1]
        weights.append(_weights(window, lead, trail))
    return starts, window, weights


def _space_tiles(length: int, tile: int | None, halo: int,
                 align: int) -> tuple[list[int], list[int], list]:
    """Starts, lengths and weights of the tiles along one spatial axis.

    Tiles are ``tile + 2 * halo`` wide (the last one may be shorter, never narrower than
    the overlap) and start at multiples of ``step`` (``tile`` rounded down to a multiple
    of ``align``), so a strided network sees the same pixel grid in every tile as in one
    pass over the whole frame.
    """
    size = (tile or 0) + 2 * halo
    if tile is None or length <= size:
        return [0], [length], [np.ones(length)]
    step = max(align, tile // align * align)
    n = 1 + math.ceil((length - size) / step)
    starts = [k * step for k in range(n)]
    lengths = [min(size, length - s) for s in starts]
    ov = size - step
    weights = [_weights(lengths[k], ov if k else 0, ov if k < n - 1 else 0) for k in range(n)]
    return starts, lengths, weights


def _check_options(window: int, overlap: int, tile: int | None, halo: int,
                   batch_size: int, align: int) -> None:
    def positive(name: str, value: Any, minimum: int) -> None:
        if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < minimum:
            raise MethodError(f"{name} must be an int >= {minimum}, got {value!r}")

    positive("window", window, 1)
    positive("overlap", overlap, 0)
    positive("halo", halo, 0)
    positive("batch_size", batch_size, 1)
    positive("align", align, 1)
    if tile is not None:
        positive("tile", tile, 1)


def predict_array(
    predict: PredictFn,
    values: np.ndarray,
    *,
    fill_value: float,
    window: int = 24,
    overlap: int = 8,
    tile: int | None = None,
    halo: int = 16,
    batch_size: int = 8,
    device: str | torch.device = "auto",
    threads: int | None = None,
    align: int = 8,
    max_voxels: int = 2**19,
    progress: bool = False,
) -> np.ndarray:
    """Predict every pixel of a normalised field with overlapping windows and tiles.

    Parameters
    ----------
    predict : callable
        ``predict(y, m) -> phi`` with ``y`` ``(B, C, t, h, w)`` (missing pixels set to
        ``fill_value``), ``m`` ``(B, 1, t, h, w)`` float (1 = observed) and ``phi`` of
        ``y``'s shape; called with tensors on the selected device, under
        :func:`torch.inference_mode`.
    values : numpy.ndarray
        ``(T, H, W, C)`` field, already normalised, NaN = missing. A pixel is observed
        when all its channels are finite.
    fill_value : float
        The constant c that replaces missing values in ``y``.
    window, overlap : int
        Frames per window and frames shared by consecutive windows (``overlap`` is
        capped at ``window - 1``).
    tile, halo : int
        With ``tile`` set and a side longer than ``tile + 2 * halo``, the frames are cut
        into tiles of ``tile + 2 * halo`` pixels sharing ``2 * halo`` pixels.
    batch_size : int
        Windows/tiles per call of ``predict``.
    device : str or torch.device
        See :func:`select_device`.
    threads : int, optional
        Torch threads on the CPU (default: all cores; under a multi-threaded dask
        scheduler, cores / dask threads avoids oversubscription).
    align : int
        Tile starts are multiples of this (8 suits the "fast" generator's downsampling).
    max_voxels : int
        Memory bound: at most about this many voxels (``batch * t * h * w``) per call of
        ``predict``. Batches shrink (down to 1) to fit, and when ``tile`` is None and one
        window of whole frames exceeds it, a tile size is chosen automatically. The
        "fast" generator (base 16) holds roughly 700 bytes per voxel at its peak on the
        CPU: the default 2**19 keeps a call under about 400 MB.
    progress : bool
        Show a progress bar.

    Returns
    -------
    numpy.ndarray
        ``(T, H, W, C)`` float32 prediction phi for every pixel.

    Raises
    ------
    FieldError
        ``values`` is not 4-D.
    MethodError
        Bad options, or ``predict`` returns the wrong shape.
    """
    values = np.asarray(values)
    if values.ndim != 4:
        raise FieldError(f"values must be (T, H, W, C); got shape {values.shape}")
    _check_options(window, overlap, tile, halo, batch_size, align)
    if not isinstance(max_voxels, int | np.integer) or max_voxels < 1:
        raise MethodError(f"max_voxels must be an int >= 1, got {max_voxels!r}")
    dev = select_device(device, threads)
    overlap = min(overlap, window - 1)
    n_t, n_y, n_x, n_c = values.shape
    t_starts, t_len, t_w = _time_windows(n_t, window, overlap)
    if tile is None and t_len * n_y * n_x > max_voxels:
        side = math.isqrt(max_voxels // t_len)
        tile = max(align, (side - 2 * halo) // align * align, (2 * halo) // align * align)
    y_starts, y_lens, y_w = _space_tiles(n_y, tile, halo, align)
    x_starts, x_lens, x_w = _space_tiles(n_x, tile, halo, align)

    observed = np.isfinite(values).all(axis=-1)
    y_all = np.where(observed[..., None], values, np.float32(fill_value)).astype(np.float32)
    # (C, T, H, W) layout makes every patch a ready-to-stack slice
    y_all = np.ascontiguousarray(np.moveaxis(y_all, -1, 0))
    m_all = observed.astype(np.float32)

    out = np.zeros((n_c, n_t, n_y, n_x), dtype=np.float64)
    norm = [np.zeros(n) for n in (n_t, n_y, n_x)]
    for axis, (starts, lens, ws) in enumerate(((t_starts, [t_len] * len(t_starts), t_w),
                                               (y_starts, y_lens, y_w),
                                               (x_starts, x_lens, x_w))):
        for s, n, w in zip(starts, lens, ws, strict=True):
            norm[axis][s:s + n] += w

    # patches of equal shape are batched together (edge tiles may be shorter)
    groups: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
    for yi in range(len(y_starts)):
        for xi in range(len(x_starts)):
            key = (y_lens[yi], x_lens[xi])
            groups.setdefault(key, []).extend((ti, yi, xi) for ti in range(len(t_starts)))
    batches = []
    for (h, w), group in groups.items():
        n = max(1, min(batch_size, max_voxels // max(1, t_len * h * w)))
        batches += [group[i:i + n] for i in range(0, len(group), n)]
    if progress:
        from tqdm.auto import tqdm

        batches = tqdm(batches, desc="inpainting", unit="batch")
    with torch.inference_mode():
        for batch in batches:
            sl = [(slice(t_starts[a], t_starts[a] + t_len),
                   slice(y_starts[b], y_starts[b] + y_lens[b]),
                   slice(x_starts[c], x_starts[c] + x_lens[c])) for a, b, c in batch]
            yb = torch.from_numpy(np.stack([y_all[(slice(None),) + s] for s in sl]))
            mb = torch.from_numpy(np.stack([m_all[s] for s in sl]))[:, None]
            phi = predict(yb.to(dev), mb.to(dev))
            if tuple(phi.shape) != tuple(yb.shape):
                raise MethodError(
                    f"predict returned shape {tuple(phi.shape)} for input {tuple(yb.shape)}"
                )
            phi = phi.detach().float().cpu().numpy()
            for k, (a, b, c) in enumerate(batch):
                w = t_w[a][:, None, None] * y_w[b][None, :, None] * x_w[c][None, None, :]
                out[(slice(None),) + sl[k]] += phi[k] * w
    out /= norm[0][:, None, None] * norm[1][None, :, None] * norm[2][None, None, :]
    return np.ascontiguousarray(np.moveaxis(out, 0, -1), dtype=np.float32)


# ------------------------------------------------------------------------- DataArrays


def _predict_block(block: np.ndarray, *, predict: PredictFn, normalize: ArrayFn,
                   denormalize: ArrayFn, fill_value: float, opts: dict[str, Any]) -> np.ndarray:
    """Physical-unit block ``(T, H, W, C)`` -> physical-unit prediction (dask task)."""
    if block.size == 0:
        return np.zeros(block.shape, dtype=np.float32)
    norm = np.asarray(normalize(np.asarray(block, dtype=np.float32)), dtype=np.float32)
    phi = predict_array(predict, norm, fill_value=fill_value, **opts)
    return np.asarray(denormalize(phi), dtype=np.float32)


def predict_dataarray(
    predict: PredictFn,
    da: xr.DataArray,
    *,
    normalize: ArrayFn,
    denormalize: ArrayFn,
    fill_value: float,
    **opts: Any,
) -> xr.DataArray:
    """Predict every pixel of a field in physical units, lazily on dask-backed input.

    Parameters
    ----------
    predict : callable
        ``predict(y, m) -> phi``, see :func:`predict_array`. Under a
        ``dask.distributed`` client with worker processes it must pickle (e.g.
        :class:`GeneratorPredictor`, not a closure over a lock or a CUDA tensor).
    da : xarray.DataArray
        Field ``(time, y, x[, channel])`` in physical units, NaN = missing.
    normalize, denormalize : callable
        Map ``(T, H, W, C)`` numpy arrays from physical units to the network's and back.
    fill_value : float
        The constant c for missing values (in normalised units).
    **opts
        ``window``, ``overlap``, ``tile``, ``halo``, ``batch_size``, ``device``,
        ``threads``, ``align``, ``max_voxels``, ``progress`` of :func:`predict_array`.

    Returns
    -------
    xarray.DataArray
        Prediction for every pixel, float32, same dims (in ``da``'s order), coordinates,
        name and attributes. Dask-backed (computed chunk by chunk with ``overlap``
        frames and ``halo`` pixels of context) when ``da`` is; the caller
        (:func:`seainpaint.fill`) restores observed pixels and land.
    """
    can, dims = canonical(da)
    window = opts.get("window", 24)
    overlap = opts.get("overlap", 8)
    halo = opts.get("halo", 16)
    _check_options(window, overlap, opts.get("tile"), halo, opts.get("batch_size", 8),
                   opts.get("align", 8))
    overlap = min(overlap, window - 1)
    block_fn = functools.partial(_predict_block, predict=predict, normalize=normalize,
                                 denormalize=denormalize, fill_value=fill_value,
                                 opts=dict(opts))
    if can.chunks is None:
        values = np.asarray(can.values, dtype=np.float32)
        if dims.channel is None:
            values = values[..., None]
        result = block_fn(values)
        if dims.channel is None:
            result = result[..., 0]
    else:
        # one progress bar per chunk would interleave: dask reports progress instead
        block_fn.keywords["opts"]["progress"] = False
        result = _lazy(block_fn, can.data, has_channel=dims.channel is not None,
                       depth=(overlap, halo, halo))
    out = xr.DataArray(result, dims=can.dims, coords=can.coords, name=da.name,
                       attrs=dict(da.attrs))
    return out.transpose(*da.dims)


def _lazy(block_fn: Callable[[np.ndarray], np.ndarray], data: Any, *, has_channel: bool,
          depth: tuple[int, int, int]) -> Any:
    """map_overlap ``block_fn`` over a dask array ``(T, H, W[, C])``."""
    import dask.array as dsk
    from dask.array.overlap import ensure_minimum_chunksize

    if not has_channel:
        data = data[..., None]
    data = data.astype(np.float32).rechunk({3: -1})
    depth_map: dict[int, int] = {3: 0}
    chunks = list(data.chunks)
    for axis, d in enumerate(depth):
        if len(chunks[axis]) == 1:
            d = 0  # one chunk along this axis: nothing to share
        d = min(d, data.shape[axis])
        if d:
            chunks[axis] = ensure_minimum_chunksize(d, chunks[axis])
        depth_map[axis] = d
    data = data.rechunk(tuple(chunks))
    result = dsk.map_overlap(
        block_fn, data, depth=depth_map, boundary="none", trim=True, dtype=np.float32,
        meta=np.empty((0,) * 4, dtype=np.float32), name=f"seainpaint-predict-{uuid.uuid4().hex}",
    )
    return result if has_channel else result[..., 0]

