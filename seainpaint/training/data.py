"""The training data: the field in memory (or read lazily), its statistics, and batches.

A batch holds ``B`` windows of ``window`` frames on ``patch`` pixels, each read with
``reach`` frames of context on both sides, so the temporal context a window's frames are
given (:func:`seainpaint.nn.context.temporal_context`) is computed exactly as the fill
computes it on the whole field. Windows never read outside their time range (training or
validation), so validation pixels are never seen in training.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from ..errors import FieldError
from ..field import FieldInfo, canonical, land_mask, time_in_hours
from ..inference import affine

IN_MEMORY_BYTES = 2 * 2**30  # fields up to 2 GiB (float32) are loaded once


@dataclass(frozen=True)
class Normalization:
    """Per-channel affine map from physical units to the network's: ``(x - mean) / scale``.

    Attributes
    ----------
    mean, std, scale : numpy.ndarray
        Mean and standard deviation of the observed values, and the divisor used (the
        standard deviation, or for the paper's tanh generator the largest deviation from
        the mean over 0.8 so that every observed value lies in (-0.8, 0.8)).
    """

    mean: np.ndarray
    std: np.ndarray
    scale: np.ndarray

    def to_json(self) -> dict[str, list[float]]:
        """Plain lists, for a model's ``config.json``."""
        return {k: np.asarray(getattr(self, k), np.float64).tolist()
                for k in ("mean", "std", "scale")}


def field_statistics(
    can: xr.DataArray, has_channel: bool, bounded: bool, land: xr.DataArray | None = None
) -> tuple[Normalization, np.ndarray]:
    """Normalisation of a field ``(time, y, x[, channel])`` and its land mask, in one pass.

    Parameters
    ----------
    can : xarray.DataArray
        The field in canonical dim order (dask-backed reductions stay lazy until the end).
    has_channel : bool
        Whether the last dim is a channel dim.
    bounded : bool
        Scale for a tanh output (largest deviation / 0.8) instead of the standard deviation.
    land : xarray.DataArray, optional
        Its ``(y, x)`` land mask (maybe lazy) when the caller has it
        (:attr:`FieldInfo.land`); else :func:`seainpaint.field.land_mask`.

    Raises
    ------
    FieldError
        A channel has no finite value.
    """
    import dask
    import dask.array as dsa

    arr = can.data if has_channel else can.data[..., None]
    lib = dsa if isinstance(arr, dsa.Array) else np
    axes = (0, 1, 2)
    finite = lib.isfinite(arr)
    zero = lib.where(finite, arr, 0).astype(np.float64)
    stats = [finite.sum(axis=axes), zero.sum(axis=axes), (zero * zero).sum(axis=axes),
             lib.where(finite, arr, np.inf).min(axis=axes),
             lib.where(finite, arr, -np.inf).max(axis=axes)]
    land = (land_mask(can) if land is None else land).data
    if lib is dsa or isinstance(land, dsa.Array):
        *stats, land = dask.compute(*stats, land)
    count, total, total2, vmin, vmax = (np.asarray(s, np.float64) for s in stats)
    if (count == 0).any():
        raise FieldError(f"field {can.name!r} has nothing observed in at least one channel")
    mean = total / count
    std = np.sqrt(np.maximum(total2 / count - mean**2, 0.0))
    std = np.where(std > 0, std, 1.0)
    if bounded:
        spread = np.maximum(np.abs(vmax - mean), np.abs(vmin - mean))
        scale = np.where(spread > 0, spread / 0.8, 1.0)
    else:
        scale = std
    return Normalization(mean, std, scale), np.asarray(land, dtype=bool)


def time_axis(da: xr.DataArray, hours: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Times of a field as float64 hours since its first time step, and the median step.

    A field without a datetime time coordinate is taken as hourly (index = hours).
    ``hours`` skips converting them when the caller has them (:attr:`FieldInfo.hours`).
    """
    hours = time_in_hours(da) if hours is None else hours
    diffs = np.diff(hours)
    step = float(np.median(diffs)) if diffs.size and np.median(diffs) > 0 else 1.0
    return hours, step


class FieldSource:
    """The field as a source of training data: windows of it, normalised, as float32
    arrays ``(t, h, w, C)`` (NaN missing).

    The field is loaded into memory once when it fits in ``max_bytes`` (the common case:
    a year of hourly 64x64 SST is 140 MB); otherwise windows are read lazily from its
    dask (or NetCDF/Zarr) backing, a batch per dask computation.

    Parameters
    ----------
    da : xarray.DataArray
        The field.
    norm : Normalization
        Applied to every value read.
    land : numpy.ndarray
        Boolean ``(Y, X)`` land mask.
    max_bytes : int
        Largest field (as float32) loaded into memory.
    info : FieldInfo, optional
        The field's description (:func:`seainpaint.field.describe`), when the caller has
        it: its dim order and time stamps are used instead of looking them up.
    """

    def __init__(self, da: xr.DataArray, norm: Normalization, land: np.ndarray,
                 max_bytes: int = IN_MEMORY_BYTES, info: FieldInfo | None = None) -> None:
        if info is None:
            can, dims = canonical(da)
            hours = None
        else:
            can, dims, hours = da.transpose(*info.canonical), info.dims, info.hours
        self.has_channel = dims.channel is not None
        self.shape = tuple(int(s) for s in can.shape[:3])
        self.channels = int(can.shape[3]) if self.has_channel else 1
        self.hours, self.step = time_axis(da, hours)
        self.land = np.asarray(land, dtype=bool)
        self.sea = ~self.land
        # the fill's own normalisation (one implementation, float32)
        self.normalize = functools.partial(affine, mean=norm.mean, scale=norm.scale)
        n_bytes = 4 * can.size
        self.in_memory = n_bytes <= max_bytes or can.chunks is None
        if self.in_memory:
            values = np.asarray(can.values, dtype=np.float32)
            if not self.has_channel:
                values = values[..., None]
            self.data: Any = self.normalize(values)
        else:
            self.data = can.data

    def read_many(self, boxes: list[tuple[int, int, int, int, int, int]]) -> list[np.ndarray]:
        """Normalised windows for boxes ``(t0, t1, y0, y1, x0, x1)``."""
        if self.in_memory:
            return [self.data[t0:t1, y0:y1, x0:x1] for t0, t1, y0, y1, x0, x1 in boxes]
        import dask

        blocks = [self.data[t0:t1, y0:y1, x0:x1] for t0, t1, y0, y1, x0, x1 in boxes]
        out = []
        for block in dask.compute(*blocks):
            block = np.asarray(block, dtype=np.float32)
            if not self.has_channel:
                block = block[..., None]
            out.append(self.normalize(block))
        return out


@dataclass(frozen=True)
class TrainingData:
    """The data of one run (:func:`training_data`).

    Attributes
    ----------
    norm : Normalization
        The field's normalisation.
    land : numpy.ndarray
        Boolean ``(Y, X)`` land mask.
    source : FieldSource
        The field, as windows.
    sampler, val_sampler : WindowSampler
        Training windows and validation windows (of the fill's length).
    """

    norm: Normalization
    land: np.ndarray
    source: FieldSource
    sampler: WindowSampler
    val_sampler: WindowSampler


def training_data(da: xr.DataArray, info: FieldInfo, *, window: int, fill_window: int,
                  patch: tuple[int, int], reach: int, bounded: bool) -> TrainingData:
    """Statistics, land, the field as a data source and its training/validation windows.

    The last tenth of the record (at least one fill window) is kept for validation when
    the record holds five fill windows, else the whole record validates.

    Parameters
    ----------
    da : xarray.DataArray
        The training field.
    info : FieldInfo
        Its description (:func:`seainpaint.field.describe`).
    window, fill_window : int
        Frames per training window and per validation (fill) window.
    patch : (int, int)
        Patch size.
    reach : int
        Context frames on each side of a window.
    bounded : bool
        Normalise for a tanh output (see :func:`field_statistics`).

    Raises
    ------
    FieldError
        Nothing observed, or too few frames for the windows.
    """
    norm, land = field_statistics(da.transpose(*info.canonical), info.dims.channel is not None,
                                  bounded=bounded, land=info.land)
    if land.all():
        raise FieldError(f"field {da.name!r} has nothing observed: every value is NaN")
    source = FieldSource(da, norm, land, info=info)
    n_t = info.shape[0]
    n_val_frames = max(fill_window, n_t // 10) if n_t >= 5 * fill_window else 0
    t_train = (0, n_t - n_val_frames)
    t_val = (n_t - n_val_frames, n_t) if n_val_frames else (0, n_t)
    sampler = WindowSampler(source, window, patch, reach, t_train)
    val_sampler = WindowSampler(source, fill_window, patch, reach, t_val)
    return TrainingData(norm, land, source, sampler, val_sampler)


@dataclass
class Batch:
    """Windows with their context frames, as numpy arrays.

    ``values`` ``(B, L, h, w, C)`` normalised, NaN where missing; ``observed`` ``(B, L, h,
    w)`` (observed and sea); ``sea`` ``(B, h, w)``; ``hours`` ``(B, L)``; the window
    proper is frames ``[lead, lead + T)`` of the ``L = T + 2 reach`` frames read.
    """

    values: np.ndarray
    observed: np.ndarray
    sea: np.ndarray
    hours: np.ndarray
    lead: int
    length: int


class WindowSampler:
    """Random (or given) window positions and the batches read there.

    Parameters
    ----------
    source : FieldSource
        The field.
    window : int
        Frames per window ``T``.
    patch : (int, int)
        Patch size.
    reach : int
        Context frames read on each side of a window (missing frames beyond the time
        range are padded as unobserved).
    t_range : (int, int)
        Frames windows and their context may use.
    """

    def __init__(self, source: FieldSource, window: int, patch: tuple[int, int], reach: int,
                 t_range: tuple[int, int]) -> None:
        self.source = source
        self.window = int(window)
        self.patch = (int(patch[0]), int(patch[1]))
        self.reach = int(reach)
        lo, hi = t_range
        if hi - lo < self.window:
            raise FieldError(
                f"{hi - lo} frames available for windows of {self.window} frames"
            )
        self.t_range = (int(lo), int(hi))

    def positions(self, rng: np.random.Generator, n: int,
                  min_sea: float = 0.25) -> list[tuple[int, int, int]]:
        """``n`` random window positions ``(t0, y0, x0)`` on patches that are mostly sea."""
        lo, hi = self.t_range
        _, n_y, n_x = self.source.shape
        ph, pw = self.patch
        out = []
        for _ in range(n):
            best = None
            for _ in range(20):
                t0 = int(rng.integers(lo, hi - self.window + 1))
                y0 = int(rng.integers(0, n_y - ph + 1))
                x0 = int(rng.integers(0, n_x - pw + 1))
                sea = float(self.source.sea[y0:y0 + ph, x0:x0 + pw].mean())
                if sea >= min_sea:
                    best = (sea, (t0, y0, x0))
                    break
                if best is None or sea > best[0]:
                    best = (sea, (t0, y0, x0))
            out.append(best[1])  # type: ignore[index]
        return out

    def observed_masks(self, rng: np.random.Generator,
                       positions: list[tuple[int, int, int]]) -> np.ndarray:
        """The field's own observed masks ``(B, T, h, w)`` at the places of ``positions``,
        each at another random time of the range (the adversarial game's ``m″``).

        True where observed sea; land is never observed, so it shows the constant c in a
        fake exactly as in a real window.
        """
        lo, hi = self.t_range
        ph, pw = self.patch
        starts = rng.integers(lo, hi - self.window + 1, size=len(positions))
        boxes = [(int(t), int(t) + self.window, y0, y0 + ph, x0, x0 + pw)
                 for t, (_, y0, x0) in zip(starts, positions, strict=True)]
        blocks = self.source.read_many(boxes)
        sea = self.source.sea
        return np.stack([np.isfinite(block).all(axis=-1) & sea[y0:y1, x0:x1]
                         for block, (_, _, y0, y1, x0, x1) in zip(blocks, boxes, strict=True)])

    def read(self, positions: list[tuple[int, int, int]]) -> Batch:
        """The windows at ``positions`` with ``reach`` context frames on each side."""
        lo, hi = self.t_range
        ph, pw = self.patch
        lead, t_len = self.reach, self.window
        length = t_len + 2 * lead
        src = self.source
        boxes, spans = [], []
        for t0, y0, x0 in positions:
            a, b = max(t0 - lead, lo), min(t0 + t_len + lead, hi)
            boxes.append((a, b, y0, y0 + ph, x0, x0 + pw))
            spans.append((a - (t0 - lead), b - a))
        blocks = src.read_many(boxes)
        n = len(positions)
        values = np.full((n, length, ph, pw, src.channels), np.nan, dtype=np.float32)
        hours = np.empty((n, length), dtype=np.float64)
        idx = np.arange(length)
        for i, ((t0, _, _), (off, count), block) in enumerate(
            zip(positions, spans, blocks, strict=True)
        ):
            values[i, off:off + count] = block
            # frames outside the field: extrapolate the time axis with the nominal step
            frames = t0 - lead + idx
            inside = np.clip(frames, 0, src.shape[0] - 1)
            hours[i] = src.hours[inside] + (frames - inside) * src.step
        sea = np.stack([src.sea[y0:y0 + ph, x0:x0 + pw] for _, y0, x0 in positions])
        observed = np.isfinite(values).all(axis=-1) & sea[:, None]
        return Batch(values, observed, sea, hours, lead, t_len)
