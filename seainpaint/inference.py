"""Apply a generator to fields of any length and size, identically for any chunking.

A network sees windows of ``window`` frames and, on large grids, spatial tiles of
``tile`` pixels plus a ``halo`` of context on each side. Windows overlap by ``overlap``
frames, tiles by ``2 * halo`` pixels, and overlapping predictions are blended with
linear ramps that sum to one, so seams do not show. The first quarter of every overlap
(next to a window's or tile's cut edge) gets zero weight: where the network's receptive
field reaches at most ``overlap // 4`` frames and ``halo // 2`` pixels, the blended result
equals one pass over the whole field.

Where windows and tiles lie is decided once for the whole field (:class:`FillPlan`),
anchored on its global time index and pixel grid, never on how it is chunked. A
generator that is told each pixel's temporal context (:mod:`seainpaint.nn.context`)
gets it computed from the observations within ``reach`` frames, wherever they are.

On dask-backed input :func:`predict_dataarray` is lazy: :func:`dask.array.map_overlap`
gives every chunk enough surrounding frames and pixels that the windows and tiles
touching it, and their context, are complete; each chunk then runs exactly the windows
and tiles of the plan that touch it. The result equals the in-memory fill to float
rounding for any chunking, memory stays bounded by the chunk size, and it works under a
``dask.distributed`` cluster with process workers (:class:`GeneratorPredictor` and the
normalisation travel as plain weights and arrays).
"""

from __future__ import annotations

import functools
import math
import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import xarray as xr

from ._malloc import roomy_malloc
from .errors import DeviceError, FieldError, MethodError
from .field import canonical

PredictFn = Callable[..., Any]
ArrayFn = Callable[[np.ndarray], np.ndarray]

_MOVE_LOCK = threading.Lock()

# Halo of the spatial tiles, in pixels. 8 (tiles of 128 + 2 x 8 on large frames) gave
# the same error as 16 against the truth (0.1496 on a 192x256x256 synthetic field,
# benchmarks/bench_fill_plan.py) and 1.3x fewer pixels to run through the network.
DEFAULT_HALO = 8


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
        use from the main thread, and one from any other thread (a dask task: the
        scheduler runs one task per core, so more would oversubscribe them).

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
        # inside a dask task (a worker thread) one thread per task: the scheduler already
        # runs a task per core
        default = cpu_cores() if threading.current_thread() is threading.main_thread() else 1
        n = threads or default
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
    else:
        raise DeviceError(f"unsupported device type {dev.type!r}; use 'auto', 'cpu' or 'cuda'")
    return dev


class GeneratorPredictor:
    """A picklable ``predict(y, m[, context]) -> phi`` around a generator network.

    Spectral normalisation is folded into the weights
    (:func:`seainpaint.nn.inference_copy`), the network is put in eval mode, and it is
    moved to the device of its input on first use. Pickling sends the plain network
    (weights and config), so it can travel to ``dask.distributed`` workers.

    Parameters
    ----------
    generator : torch.nn.Module
        A generator from :func:`seainpaint.nn.build_generator` (or any module called as
        ``module(y, m)`` that pickles).
    step : float
        The nominal time step of the training data (in hours), for the context.

    Attributes
    ----------
    reach : int or None
        Frames of temporal context the generator is told about; None when it is told
        none (it then only sees ``y`` and ``m``).
    uncertainty : bool
        Whether it also predicts the log-scale of its error.
    """

    def __init__(self, generator: torch.nn.Module, step: float = 1.0) -> None:
        from .nn.generator import Generator, inference_copy

        module = inference_copy(generator) if isinstance(generator, Generator) else generator
        self.module = module.eval()
        uses_context = isinstance(module, Generator) and module.prior != "none"
        self.reach = (module.reach or 0) if uses_context else None
        self.causal = uses_context and module.prior == "causal"
        self.uncertainty = bool(getattr(module, "uncertainty", False))
        self.step = float(step)

    def __call__(self, y: torch.Tensor, m: torch.Tensor,
                 context: tuple[torch.Tensor, torch.Tensor] | None = None,
                 return_scale: bool = False) -> Any:
        param = next(self.module.parameters(), None)
        if param is not None and param.device != y.device:
            with _MOVE_LOCK:
                self.module.to(y.device)
        if context is None and not return_scale:
            return self.module(y, m)
        return self.module(y, m, context, return_scale=return_scale)


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


# ---------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class FillPlan:
    """Where the windows and tiles of a fill lie, for the whole field.

    Attributes
    ----------
    shape : (int, int, int)
        ``(T, H, W)`` of the whole field.
    window, overlap : int
        Frames per window and frames shared by consecutive windows.
    tile, halo, align : int or None, int, int
        Spatial tiling (None: whole frames).
    reach : int or None
        Frames of temporal context computed for the generator (None: none).
    """

    shape: tuple[int, int, int]
    window: int
    overlap: int
    tile: int | None
    halo: int
    align: int
    reach: int | None

    @functools.cached_property
    def axes(self) -> list[tuple[list[int], list[int], list[np.ndarray], np.ndarray]]:
        """Per axis (time, y, x): starts, lengths, weights and the summed weights."""
        n_t, n_y, n_x = self.shape
        t_starts, t_len, t_w = _time_windows(n_t, self.window, self.overlap)
        out = [(t_starts, [t_len] * len(t_starts), t_w)]
        out.append(_space_tiles(n_y, self.tile, self.halo, self.align))
        out.append(_space_tiles(n_x, self.tile, self.halo, self.align))
        result = []
        for (starts, lengths, weights), n in zip(out, self.shape, strict=True):
            total = np.zeros(n)
            for s, ln, w in zip(starts, lengths, weights, strict=True):
                total[s:s + ln] += w
            result.append((starts, lengths, weights, total))
        return result

    @property
    def depth(self) -> tuple[int, int, int]:
        """Frames and pixels a chunk must see around itself for an exact result."""
        t_lens = self.axes[0][1]
        dt = (max(t_lens) - 1 if t_lens else 0) + (self.reach or 0)
        spatial = [max(ax[1]) if len(ax[0]) > 1 else 0 for ax in self.axes[1:]]
        return (dt, spatial[0], spatial[1])


def plan_fill(shape: tuple[int, int, int], *, window: int = 24, overlap: int = 8,
              tile: int | None = None, halo: int = DEFAULT_HALO, align: int = 8,
              max_voxels: int = 2**19, reach: int | None = None) -> FillPlan:
    """The :class:`FillPlan` of a field of ``shape`` (see :func:`predict_array`)."""
    n_t, n_y, n_x = shape
    overlap = min(overlap, window - 1)
    t_len = min(window, n_t)
    if tile is None and t_len * n_y * n_x > max_voxels:
        side = math.isqrt(max_voxels // max(t_len, 1))
        tile = max(align, (side - 2 * halo) // align * align, (2 * halo) // align * align)
    return FillPlan((n_t, n_y, n_x), window, overlap, tile, halo, align, reach)


def _touching(starts: list[int], lengths: list[int], weights: list[np.ndarray],
              lo: int, hi: int) -> list[int]:
    """Indices of the windows/tiles whose non-zero weights touch ``[lo, hi)``."""
    out = []
    for k, (s, _n, w) in enumerate(zip(starts, lengths, weights, strict=True)):
        nz = np.flatnonzero(w)
        if nz.size and s + nz[0] < hi and s + nz[-1] >= lo:
            out.append(k)
    return out


def _time_runs(windows: list[int], starts: list[int], lengths: list[int],
               span: int) -> list[list[int]]:
    """Consecutive ``windows`` grouped into runs covering at most ``span`` frames each."""
    runs: list[list[int]] = []
    for a in windows:
        if runs and starts[a] + lengths[a] - starts[runs[-1][0]] <= span:
            runs[-1].append(a)
        else:
            runs.append([a])
    return runs


def _window_inputs(values: np.ndarray, hours: np.ndarray | None, fill_value: float,
                   predict: Any, t_sl: slice, y_sl: slice, x_sl: slice,
                   ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """Network inputs of one window/tile: ``y`` ``(C, t, h, w)``, ``m`` ``(t, h, w)`` and,
    when the predictor wants it, the temporal context ``(prior, gaps)`` computed from the
    frames within ``reach`` of the window (so it is the same as on the whole field)."""
    reach = getattr(predict, "reach", None)
    lead = 0
    lo, hi = t_sl.start, t_sl.stop
    if reach is not None:
        lo, hi = max(0, lo - reach), min(values.shape[0], hi + reach)
        lead = t_sl.start - lo
    block = values[lo:hi, y_sl, x_sl]
    observed = np.isfinite(block).all(axis=-1)
    y = np.where(observed[..., None], block, np.float32(fill_value)).astype(np.float32)
    y = np.ascontiguousarray(np.moveaxis(y, -1, 0))
    m = observed.astype(np.float32)
    keep = slice(lead, lead + t_sl.stop - t_sl.start)
    if reach is None:
        return y, m, None
    from .nn.context import temporal_context

    h = None if hours is None else torch.from_numpy(np.asarray(hours[lo:hi], np.float64))
    prior, features = temporal_context(
        torch.from_numpy(y)[None], torch.from_numpy(m)[None, None], h, reach=reach or None,
        step=getattr(predict, "step", 1.0), causal=getattr(predict, "causal", False),
        frames=keep)
    return y[:, keep], m[keep], (prior[0].numpy(), features[0].numpy())


def _predict_region(predict: PredictFn, values: np.ndarray, plan: FillPlan, *,
                    origin: tuple[int, int, int], interior: tuple[slice, slice, slice],
                    hours: np.ndarray | None, fill_value: float, uncertainty: bool,
                    batch_size: int, device: str | torch.device, threads: int | None,
                    max_voxels: int, progress: bool) -> np.ndarray:
    """Predict the ``interior`` of a region of the field that starts at global ``origin``.

    Runs every window and tile of ``plan`` that touches the interior (they must lie
    inside the region) and blends them with the plan's global weights. The inputs (and
    temporal context) of a tile are built for a run of consecutive windows at a time, so
    memory holds the region, the interior's result and one run of one tile. Returns
    ``(t, h, w, C)`` (or ``2C`` with the scale) for the interior only.
    """
    dev = select_device(device, threads)
    n_c = values.shape[3]
    n_out = 2 * n_c if uncertainty else n_c
    inner_shape = tuple(sl.stop - sl.start for sl in interior)
    out = np.zeros((n_out, *inner_shape), dtype=np.float32)
    chosen = []
    for axis, sl in enumerate(interior):
        starts, lengths, weights, _ = plan.axes[axis]
        lo, hi = origin[axis] + sl.start, origin[axis] + sl.stop
        ks = _touching(starts, lengths, weights, lo, hi)
        for k in ks:
            a = starts[k] - origin[axis]
            if a < 0 or a + lengths[k] > values.shape[axis]:
                raise MethodError(  # pragma: no cover - guarded by FillPlan.depth
                    f"internal error: a window/tile reaches outside its chunk on axis {axis}")
        chosen.append(ks)
    (t_starts, t_lens, t_w, t_tot), (y_starts, y_lens, y_w, y_tot), \
        (x_starts, x_lens, x_w, x_tot) = plan.axes
    ot, oy, ox = origin
    reach = getattr(predict, "reach", None)
    # the temporal context of a tile is computed once for a run of consecutive windows
    # (not once per window, which would redo 2 * reach frames each time)
    span = max(256, 4 * (reach or 0))
    total = len(chosen[0]) * len(chosen[1]) * len(chosen[2])
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc="inpainting", unit="window")
    # patches of equal shape are batched together (edge tiles may be shorter)
    pending: dict[tuple[int, int, int], list[tuple[tuple[slice, ...], tuple, int, int, int]]]
    pending = {}

    def flush(key: tuple[int, int, int]) -> None:
        items = pending.pop(key, [])
        if not items:
            return
        yb = torch.from_numpy(np.stack([it[1][0] for it in items])).to(dev)
        mb = torch.from_numpy(np.stack([it[1][1] for it in items]))[:, None].to(dev)
        ctx = None
        if items[0][1][2] is not None:
            ctx = tuple(torch.from_numpy(np.stack([it[1][2][k] for it in items])).to(dev)
                        for k in range(2))
        if uncertainty:
            res = predict(yb, mb, ctx, return_scale=True)
        elif ctx is not None:
            res = predict(yb, mb, ctx)
        else:
            res = predict(yb, mb)
        phi = res[0] if uncertainty else res
        if tuple(phi.shape) != tuple(yb.shape):
            raise MethodError(
                f"predict returned shape {tuple(phi.shape)} for input {tuple(yb.shape)}"
            )
        parts = [phi.detach().float().cpu().numpy()]
        if uncertainty:
            parts.append(torch.exp(res[1].detach().float()).cpu().numpy())
        pred = np.concatenate(parts, axis=1)
        for k, (sl, _, a, b, c) in enumerate(items):
            # the part of the window/tile inside the interior: where it lands, what it is
            dst, src = zip(*(_overlap(s_, i_) for s_, i_ in zip(sl, interior, strict=True)),
                           strict=True)
            ws, wy, wx = t_w[a][src[0]], y_w[b][src[1]], x_w[c][src[2]]
            w = (ws[:, None, None] * wy[None, :, None] * wx[None, None, :]).astype(np.float32)
            out[(slice(None), *dst)] += pred[k][(slice(None), *src)] * w
        if bar is not None:
            bar.update(len(items))

    # glibc's default thresholds map and zero the activations afresh: 1.5-2.5x slower
    with torch.inference_mode(), roomy_malloc():
        for b in chosen[1]:
            y_sl = slice(y_starts[b] - oy, y_starts[b] - oy + y_lens[b])
            for c in chosen[2]:
                x_sl = slice(x_starts[c] - ox, x_starts[c] - ox + x_lens[c])
                for run in _time_runs(chosen[0], t_starts, t_lens, span):
                    lo = t_starts[run[0]] - ot
                    hi = max(t_starts[a] + t_lens[a] for a in run) - ot
                    y, m, context = _window_inputs(values, hours, fill_value, predict,
                                                   slice(lo, hi), y_sl, x_sl)
                    for a in run:
                        t_sl = slice(t_starts[a] - ot, t_starts[a] - ot + t_lens[a])
                        keep = slice(t_sl.start - lo, t_sl.stop - lo)
                        inputs = (y[:, keep], m[keep], None if context is None else
                                  (context[0][:, keep], context[1][:, keep]))
                        key = (t_lens[a], y_lens[b], x_lens[c])
                        n = max(1, min(batch_size, max_voxels // max(1, key[0] * key[1]
                                                                      * key[2])))
                        pending.setdefault(key, []).append(((t_sl, y_sl, x_sl), inputs,
                                                            a, b, c))
                        if len(pending[key]) >= n:
                            flush(key)
        for key in list(pending):
            flush(key)
    if bar is not None:
        bar.close()
    it, iy, ix = interior
    norm = (t_tot[ot + it.start:ot + it.stop][:, None, None]
            * y_tot[oy + iy.start:oy + iy.stop][None, :, None]
            * x_tot[ox + ix.start:ox + ix.stop][None, None, :]).astype(np.float32)
    out /= norm
    return np.moveaxis(out, 0, -1)


def _overlap(part: slice, interior: slice) -> tuple[slice, slice]:
    """Where ``part`` (region coordinates) meets ``interior``: that stretch in interior
    coordinates and in ``part``'s own."""
    lo, hi = max(part.start, interior.start), min(part.stop, interior.stop)
    hi = max(hi, lo)
    return slice(lo - interior.start, hi - interior.start), slice(lo - part.start, hi - part.start)


def predict_array(
    predict: PredictFn,
    values: np.ndarray,
    *,
    fill_value: float,
    window: int = 24,
    overlap: int = 8,
    tile: int | None = None,
    halo: int = DEFAULT_HALO,
    batch_size: int = 8,
    device: str | torch.device = "auto",
    threads: int | None = None,
    align: int = 8,
    max_voxels: int = 2**19,
    hours: np.ndarray | None = None,
    uncertainty: bool = False,
    progress: bool = False,
) -> np.ndarray:
    """Predict every pixel of a normalised field with overlapping windows and tiles.

    Parameters
    ----------
    predict : callable
        ``predict(y, m) -> phi`` with ``y`` ``(B, C, t, h, w)`` (missing pixels set to
        ``fill_value``), ``m`` ``(B, 1, t, h, w)`` float (1 = observed) and ``phi`` of
        ``y``'s shape; called with tensors on the selected device, under
        :func:`torch.inference_mode`. A predictor with a ``reach`` attribute (e.g.
        :class:`GeneratorPredictor`) is called as ``predict(y, m, context)`` with the
        temporal context of every pixel computed on the whole field.
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
        Torch threads on the CPU (see :func:`select_device`).
    align : int
        Tile starts are multiples of this (8 suits the "fast" generator's downsampling).
    max_voxels : int
        Memory bound: at most about this many voxels (``batch * t * h * w``) per call of
        ``predict``. Batches shrink (down to 1) to fit, and when ``tile`` is None and one
        window of whole frames exceeds it, a tile size is chosen automatically. The
        "fast" generator (base 16) holds roughly 700 bytes per voxel at its peak on the
        CPU: the default 2**19 keeps a call under about 400 MB.
    hours : numpy.ndarray, optional
        ``(T,)`` time stamps (hours) for the temporal context (frame indices if omitted).
    uncertainty : bool
        Also return the predicted error scale ``exp(log_b)`` (needs a predictor with an
        uncertainty head): the result then has ``2C`` channels.
    progress : bool
        Show a progress bar.

    Returns
    -------
    numpy.ndarray
        ``(T, H, W, C)`` float32 prediction phi for every pixel (``2C`` channels with
        ``uncertainty``).

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
    plan = plan_fill(values.shape[:3], window=window, overlap=overlap, tile=tile, halo=halo,
                     align=align, max_voxels=max_voxels, reach=getattr(predict, "reach", None))
    return np.ascontiguousarray(_predict_region(
        predict, values, plan, origin=(0, 0, 0),
        interior=tuple(slice(0, n) for n in values.shape[:3]), hours=hours,
        fill_value=fill_value, uncertainty=uncertainty, batch_size=batch_size, device=device,
        threads=threads, max_voxels=max_voxels, progress=progress))


# ------------------------------------------------------------------------- DataArrays


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
    """A chunk with its margins (physical units) -> its prediction (dask task).

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
        opts = {**opts, "threads": max(1, cpu_cores() // tasks)}
    norm = np.asarray(normalize(np.asarray(block, dtype=np.float32)), dtype=np.float32)
    pred = _predict_region(predict, norm, plan, origin=origin, interior=tuple(interior),
                           hours=np.asarray(hours).ravel(), fill_value=fill_value,
                           uncertainty=scale_out is not None, **opts)
    del norm
    c = block.shape[-1]
    # the whole block's shape (map_overlap trims the margins off): zeros there, whose pages
    # are never touched
    out = np.zeros(block.shape[:3] + (pred.shape[-1],), dtype=np.float32)
    inner = out[tuple(interior)]
    inner[..., :c] = denormalize(pred[..., :c])
    if scale_out is not None:
        inner[..., c:] = scale_out(pred[..., c:])
    return out


def _hours(can: xr.DataArray, time_dim: str) -> np.ndarray:
    coord = can.coords.get(time_dim)
    n = can.sizes[time_dim]
    if coord is not None and np.issubdtype(coord.dtype, np.datetime64) and n:
        ns = coord.values.astype("datetime64[ns]").astype(np.int64)
        return (ns - ns[0]).astype(np.float64) / 3.6e12
    if coord is not None and coord.dtype.kind in "iuf" and n:
        return np.asarray(coord.values, np.float64) - float(coord.values[0])
    return np.arange(n, dtype=np.float64)


def predict_dataarray(
    predict: PredictFn,
    da: xr.DataArray,
    *,
    normalize: ArrayFn,
    denormalize: ArrayFn,
    fill_value: float,
    scale_out: ArrayFn | None = None,
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
    can, dims = canonical(da)
    window = opts.pop("window", 24)
    overlap = opts.pop("overlap", 8)
    tile = opts.pop("tile", None)
    halo = opts.pop("halo", DEFAULT_HALO)
    align = opts.pop("align", 8)
    max_voxels = opts.setdefault("max_voxels", 2**19)
    opts.setdefault("batch_size", 8)
    opts.setdefault("device", "auto")
    opts.setdefault("threads", None)
    opts.setdefault("progress", False)
    _check_options(window, overlap, tile, halo, opts["batch_size"], align)
    shape = tuple(int(can.sizes[d]) for d in (dims.time, dims.y, dims.x))
    plan = plan_fill(shape, window=window, overlap=overlap, tile=tile, halo=halo, align=align,
                     max_voxels=max_voxels, reach=getattr(predict, "reach", None))
    hours = _hours(can, dims.time)
    block_fn = functools.partial(_predict_block, predict=predict, plan=plan,
                                 normalize=normalize, denormalize=denormalize,
                                 scale_out=scale_out, fill_value=fill_value, opts=dict(opts))
    has_channel = dims.channel is not None
    n_t, n_y, n_x = shape
    if can.chunks is None:
        values = np.asarray(can.values, dtype=np.float32)
        if not has_channel:
            values = values[..., None]
        result = block_fn(values, np.arange(n_t), np.arange(n_y), np.arange(n_x), hours)
    else:
        # one progress bar per chunk would interleave: dask reports progress instead
        block_fn.keywords["opts"]["progress"] = False
        result = _lazy(block_fn, can.data, hours, plan, has_channel=has_channel,
                       n_out_factor=2 if scale_out is not None else 1)
    c = can.sizes[dims.channel] if has_channel else 1
    pieces = [result[..., :c]]
    if scale_out is not None:
        pieces.append(result[..., c:])
    out = []
    for piece in pieces:
        data = piece if has_channel else piece[..., 0]
        arr = xr.DataArray(data, dims=can.dims, coords=can.coords, name=da.name,
                           attrs=dict(da.attrs))
        out.append(arr.transpose(*da.dims))
    return out[0] if scale_out is None else (out[0], out[1])


def _lazy(block_fn: Callable[..., np.ndarray], data: Any, hours: np.ndarray, plan: FillPlan,
          *, has_channel: bool, n_out_factor: int) -> Any:
    """map_overlap ``block_fn`` over a dask array ``(T, H, W[, C])``."""
    import dask.array as dsk
    from dask.array.overlap import ensure_minimum_chunksize

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
    # map_overlap hands ``chunks`` to map_blocks on the overlapped blocks: give their sizes
    grown = []
    for axis, d in enumerate((dt, dy, dx)):
        sizes = data.chunks[axis]
        last = len(sizes) - 1
        grown.append(tuple(n + (d if i > 0 else 0) + (d if i < last else 0)
                           for i, n in enumerate(sizes)))
    out_chunks = tuple(grown) + ((data.shape[3] * n_out_factor,),)
    block_fn = functools.partial(block_fn, depth=(dt, dy, dx))
    result = dsk.map_overlap(
        block_fn, data, t_index, y_index, x_index, t_hours, depth=depths, boundary="none",
        trim=True, dtype=np.float32, chunks=out_chunks,
        meta=np.empty((0,) * 4, dtype=np.float32),
        name=f"seainpaint-predict-{uuid.uuid4().hex}",
    )
    return result.rechunk(given[:3] + (out_chunks[3],))
