"""Where the windows and tiles of a fill lie, and their blend weights (:class:`FillPlan`).

Decided once for the whole field, anchored on its global time index and pixel grid, never
on how it is chunked.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from ..checks import first_not_int_at_least
from ..errors import MethodError


@dataclass(frozen=True)
class FillDefaults:
    """The fill's defaults, in one place: :func:`plan_fill`, :func:`predict_array`,
    :func:`predict_dataarray` and a model's ``fill_field`` all read :data:`FILL_DEFAULTS`.

    Attributes
    ----------
    window, overlap : int
        Frames per window and frames shared by consecutive windows (a model fills with
        windows as long as its training ones, and an overlap of at most a third of them).
    tile, halo, align : int or None, int, int
        Spatial tiles (None: chosen from ``max_voxels``), their halo and the multiple
        tile starts fall on. A halo of 8 (tiles of 128 + 2 x 8 on large frames) gave the
        same error as 16 against the truth (0.1496 on a 192x256x256 synthetic field,
        benchmarks/bench_fill_plan.py); the tiles stay 144 pixels wide (the network's
        fastest size per pixel there) and a 1024-pixel side takes 8 of them instead of
        9: 1.27x fewer pixels through the network.
    batch_size : int
        Windows/tiles per call of the network.
    max_voxels : int
        Voxels per call of the network at most (about 400 MB for the "fast" generator).
    """

    window: int = 24
    overlap: int = 8
    tile: int | None = None
    halo: int = 8
    align: int = 8
    batch_size: int = 8
    max_voxels: int = 2**19


FILL_DEFAULTS = FillDefaults()
DEFAULT_HALO = FILL_DEFAULTS.halo


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


def check_fill_options(window: int, overlap: int, tile: int | None, halo: int,
                       batch_size: int, align: int) -> None:
    """Refuse window, overlap, tile, halo, batch size or alignment that are not whole
    numbers in range (:class:`~seainpaint.errors.MethodError`)."""
    bad = first_not_int_at_least(
        [("window", window, 1), ("overlap", overlap, 0), ("halo", halo, 0),
         ("batch_size", batch_size, 1), ("align", align, 1)]
        + ([("tile", tile, 1)] if tile is not None else [])
    )
    if bad is not None:
        name, value, minimum = bad
        raise MethodError(f"{name} must be an int >= {minimum}, got {value!r}")


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

    def work(self, shape: tuple[int, ...], origin: tuple[int, int, int],
             interior: tuple[slice, slice, slice], span: int
             ) -> tuple[list[list[int]], list[list[int]]]:
        """What a region must run to predict its ``interior``.

        Parameters
        ----------
        shape : tuple of int
            The region's shape (its first three axes: time, y, x).
        origin : (int, int, int)
            Where the region starts in the whole field.
        interior : (slice, slice, slice)
            The part of the region to predict, in region coordinates.
        span : int
            Frames a run of consecutive windows may cover at most.

        Returns
        -------
        (list of list of int, list of list of int)
            Per axis (time, y, x), the windows/tiles touching the interior (each checked
            to lie inside the region), and those windows grouped into runs
            (:func:`time_runs`).
        """
        chosen = []
        for axis, sl in enumerate(interior):
            starts, lengths, weights, _ = self.axes[axis]
            lo, hi = origin[axis] + sl.start, origin[axis] + sl.stop
            ks = touching(starts, lengths, weights, lo, hi)
            for k in ks:
                a = starts[k] - origin[axis]
                if a < 0 or a + lengths[k] > shape[axis]:
                    raise MethodError(  # pragma: no cover - guarded by FillPlan.depth
                        "internal error: a window/tile reaches outside its chunk on axis "
                        f"{axis}")
            chosen.append(ks)
        t_starts, t_lens = self.axes[0][0], self.axes[0][1]
        return chosen, time_runs(chosen[0], t_starts, t_lens, span)

    @property
    def depth(self) -> tuple[int, int, int]:
        """Frames and pixels a chunk must see around itself for an exact result."""
        t_lens = self.axes[0][1]
        dt = (max(t_lens) - 1 if t_lens else 0) + (self.reach or 0)
        spatial = [max(ax[1]) if len(ax[0]) > 1 else 0 for ax in self.axes[1:]]
        return (dt, spatial[0], spatial[1])


def plan_fill(shape: tuple[int, int, int], *, window: int = FILL_DEFAULTS.window,
              overlap: int = FILL_DEFAULTS.overlap, tile: int | None = FILL_DEFAULTS.tile,
              halo: int = FILL_DEFAULTS.halo, align: int = FILL_DEFAULTS.align,
              max_voxels: int = FILL_DEFAULTS.max_voxels, reach: int | None = None) -> FillPlan:
    """The :class:`FillPlan` of a field of ``shape`` (see :func:`predict_array`)."""
    n_t, n_y, n_x = shape
    overlap = min(overlap, window - 1)
    t_len = min(window, n_t)
    if tile is None and t_len * n_y * n_x > max_voxels:
        side = math.isqrt(max_voxels // max(t_len, 1))
        tile = max(align, (side - 2 * halo) // align * align, (2 * halo) // align * align)
    return FillPlan((n_t, n_y, n_x), window, overlap, tile, halo, align, reach)


def touching(starts: list[int], lengths: list[int], weights: list[np.ndarray],
              lo: int, hi: int) -> list[int]:
    """Indices of the windows/tiles whose non-zero weights touch ``[lo, hi)``."""
    out = []
    for k, (s, _n, w) in enumerate(zip(starts, lengths, weights, strict=True)):
        nz = np.flatnonzero(w)
        if nz.size and s + nz[0] < hi and s + nz[-1] >= lo:
            out.append(k)
    return out


def time_runs(windows: list[int], starts: list[int], lengths: list[int],
               span: int) -> list[list[int]]:
    """Consecutive ``windows`` grouped into runs covering at most ``span`` frames each."""
    runs: list[list[int]] = []
    for a in windows:
        if runs and starts[a] + lengths[a] - starts[runs[-1][0]] <= span:
            runs[-1].append(a)
        else:
            runs.append([a])
    return runs
