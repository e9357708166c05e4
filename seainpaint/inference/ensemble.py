"""Ensemble members drawn from a model's predictive distribution.

A model with an uncertainty head predicts, at every filled pixel, a value μ and a standard
error σ. One member is ``μ + σ z`` where the model filled and the observation elsewhere;
``z`` is Gaussian noise of unit variance whose correlation in space, in time and across
channels is the one the model's own errors had on its validation windows
(:func:`seainpaint.metrics.error_correlation`, recorded in the model's config as
``error_correlation``). So each member varies as much as the model is wrong, and its
variations are as smooth in space and time as the model's errors — a conditional
simulation in the geostatistical sense, not a second network.

The noise is space-time separable: white noise per frame, convolved in space with a kernel
whose autocorrelation is the measured spatial correlation, then along time with a kernel
whose autocorrelation is the measured temporal one. Each frame's white noise comes from its
own seed ``(seed, member, frame index)``, so a member does not depend on how the field is
chunked; time correlation beyond the measured lags decays exponentially.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from scipy.signal import fftconvolve

from ..conventions import MEMBER_ATTRS, MEMBER_DIM
from ..errors import MethodError

__all__ = ["NoiseModel", "check_members", "draw_members"]

_TAIL_FLOOR = 0.01  # extrapolated correlation stops below this
_MAX_REACH = 512  # longest kernel half-width, pixels or frames
_BLOCK_VALUES = 2**24  # a dask block of noise holds about this many values per member
_KERNEL_FLOOR = 1e-3  # kernel entries below this share of the largest are cut
_FRAME_OFFSET = 2**32  # frame seeds must be non-negative; halo frames start below 0


def check_members(members: Any, seed: Any) -> None:
    """Refuse a member count that is not a positive integer or a negative/non-integer seed."""
    for value, what, least in ((members, "members", 1), (seed, "member_seed", 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            kind = "a positive" if least else "a non-negative"
            raise MethodError(f"{what} must be {kind} integer, got {value!r}")


def _extended(rho: Sequence[float], max_extra: int = _MAX_REACH) -> np.ndarray:
    """ρ at lags 0..L, with an exponential tail when the measured list ends above 0.05."""
    values = np.asarray(rho, dtype=np.float64)
    if values.size == 0 or values[0] != 1.0 or np.any(values[1:] <= 0) or np.any(values > 1):
        raise MethodError(f"a correlation list must start at 1 and stay in (0, 1]: {list(rho)}")
    last = values[-1]
    if values.size < 3 or last < 0.05:
        return values
    lags = np.arange(values.size)
    half = lags >= values.size // 2
    slope = np.polyfit(lags[half], np.log(values[half]), 1)[0]
    decay = -1.0 / slope if slope < 0 else float(values.size)
    extra = int(min(_MAX_REACH, max_extra, math.ceil(decay * math.log(last / _TAIL_FLOOR))))
    tail = last * np.exp(-np.arange(1, extra + 1) / decay)
    return np.concatenate([values, tail])


def _factor(correlation: np.ndarray) -> np.ndarray:
    """A symmetric kernel whose autocorrelation is ``correlation`` (an array centred on
    its middle element), unit sum of squares, small outer entries cut."""
    size = [2 * n + 1 for n in correlation.shape]  # odd: the centre stays the centre
    # (the zero padding keeps the lags from wrapping around)
    axes = list(range(correlation.ndim))
    spectrum = np.fft.rfftn(np.fft.ifftshift(_pad(correlation, size)), s=size, axes=axes).real
    amplitude = np.sqrt(np.clip(spectrum, 0, None))
    kernel = np.fft.fftshift(np.fft.irfftn(amplitude, s=size, axes=axes))
    centre = [n // 2 for n in size]
    mask = np.abs(kernel) >= _KERNEL_FLOOR * np.abs(kernel).max()
    reach = max(int(np.max(np.abs(np.argwhere(mask) - centre))), 0)
    reach = min(reach, _MAX_REACH, *centre)
    kernel = kernel[tuple(slice(c - reach, c + reach + 1) for c in centre)]
    return kernel / math.sqrt(float((kernel**2).sum()))


def _pad(array: np.ndarray, size: list[int]) -> np.ndarray:
    """``array`` centred in zeros of shape ``size``."""
    out = np.zeros(size)
    start = [(s - n) // 2 for s, n in zip(size, array.shape, strict=True)]
    out[tuple(slice(a, a + n) for a, n in zip(start, array.shape, strict=True))] = array
    return out


@dataclass(frozen=True)
class NoiseModel:
    """Space-time Gaussian noise with given correlations (see the module docstring).

    Parameters
    ----------
    space : sequence of float
        Correlation at lags 0, 1, ... pixels (starting at 1; an exponential tail at most as
        long as the list when it ends above 0.05, then 0).
    time : sequence of float
        Correlation at lags 0, 1, ... frames (starting at 1; an exponential tail when the
        list ends above 0.05).
    channel : float
        Correlation between channels at the same pixel and time, in [0, 1].
    """

    space: tuple[float, ...]
    time: tuple[float, ...]
    channel: float = 0.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> NoiseModel:
        """The noise of a model's recorded ``error_correlation``."""
        return cls(tuple(config["space"]), tuple(config["time"]), float(config.get("channel", 0)))

    def __post_init__(self) -> None:
        if not 0.0 <= self.channel <= 1.0:
            raise MethodError(f"channel correlation {self.channel} is not in [0, 1]")
        # space: a tail at most as long as the measured lags (at most the validation patch),
        # or a barely trained model's kernel would grow to hundreds of pixels
        space = _extended(self.space, max_extra=len(self.space))
        lags = np.arange(-(space.size - 1), space.size)
        radius = np.hypot(lags[:, None], lags[None, :])
        image = np.interp(radius, np.arange(space.size), space, right=0.0)
        time = _extended(self.time)
        series = np.concatenate([time[:0:-1], time])
        object.__setattr__(self, "_space_kernel", _factor(image))
        object.__setattr__(self, "_time_kernel", _factor(series))

    @property
    def reach(self) -> tuple[int, int]:
        """Half-widths of the kernels: (frames, pixels)."""
        return self._time_kernel.size // 2, self._space_kernel.shape[0] // 2

    def sample(self, member: int, start: int, stop: int, shape: tuple[int, int],
               channels: int = 1, seed: int = 0) -> np.ndarray:
        """Frames ``start..stop-1`` of one member's noise, ``(time, y, x, channel)`` float32.

        Parameters
        ----------
        member : int
            Member number.
        start, stop : int
            Frame indices in the field (the same frame always gets the same noise).
        shape : (int, int)
            Frame size ``(y, x)``.
        channels : int
            Number of channels.
        seed : int
            Seed of the whole ensemble.
        """
        rt, rs = self.reach
        ny, nx = shape
        independent = channels if self.channel < 1 else 0
        draws = (1 if self.channel > 0 else 0) + independent
        frames = np.empty((stop - start + 2 * rt, ny, nx, channels))
        for i, frame in enumerate(range(start - rt, stop + rt)):
            rng = np.random.default_rng([seed, member, frame + _FRAME_OFFSET])
            white = rng.standard_normal((draws, ny + 2 * rs, nx + 2 * rs))
            smooth = fftconvolve(white, self._space_kernel[None], mode="valid", axes=(1, 2))
            if self.channel > 0:
                common = math.sqrt(self.channel) * smooth[0]
                rest = smooth[1:] * math.sqrt(1 - self.channel) if independent else 0.0
                smooth = common + rest
            frames[i] = np.moveaxis(np.broadcast_to(smooth, (channels, ny, nx)), 0, -1)
        out = np.zeros((stop - start, ny, nx, channels))
        for k, weight in enumerate(self._time_kernel):  # a plain sum: chunking-independent
            out += weight * frames[k:k + stop - start]
        return out.astype(np.float32)

    def describe(self) -> str:
        """A short account for a history line."""
        return (f"error correlation {_length(self.space):.3g} px, {_length(self.time):.3g} "
                f"frames (lag where it falls below 1/e)")


def _length(rho: Sequence[float]) -> float:
    """The lag where ρ falls below 1/e (linear interpolation; the extended tail counts)."""
    values = _extended(rho)
    below = np.nonzero(values < math.exp(-1))[0]
    if below.size == 0:
        return float(values.size - 1)
    i = int(below[0])
    return float(i - 1 + (values[i - 1] - math.exp(-1)) / (values[i - 1] - values[i]))


def _noise(noise: NoiseModel, members: range, start: int, stop: int, shape: tuple[int, int],
           channels: int, has_channel: bool, seed: int) -> np.ndarray:
    """Frames ``start..stop-1`` of ``members``' noise, ``(member, time, y, x[, channel])``."""
    out = np.stack([noise.sample(m, start, stop, shape, channels, seed) for m in members])
    return out if has_channel else out[..., 0]


def _noise_block(noise: NoiseModel, seed: int, shape: tuple[int, int], channels: int,
                 has_channel: bool, block_info: dict | None = None) -> np.ndarray:
    """One dask block of the members' noise (:func:`_noise` at the block's location)."""
    (m0, m1), (t0, t1) = block_info[None]["array-location"][:2]
    return _noise(noise, range(m0, m1), t0, t1, shape, channels, has_channel, seed)


def _noise_chunks(noise: NoiseModel, n_t: int, field_chunks: tuple[int, ...],
                  shape: tuple[int, int], channels: int) -> tuple[int, ...]:
    """Time chunks of the noise: each block also draws its kernel's reach on both sides, so
    blocks are made long against it (at least four reaches and the field's longest chunk),
    within about :data:`_BLOCK_VALUES` values."""
    reach = noise.reach[0]
    by_memory = max(1, _BLOCK_VALUES // max(1, shape[0] * shape[1] * channels))
    length = max(max(field_chunks), min(by_memory, max(4 * reach, 32)))
    full, rest = divmod(n_t, length)
    return (length,) * full + ((rest,) if rest else ())


def draw_members(filled: xr.DataArray, sigma: xr.DataArray, noise: NoiseModel, members: int,
                 *, dims: Any, seed: int = 0) -> xr.DataArray:
    """``members`` draws of ``filled + sigma * z`` (z from ``noise``), dim ``member`` first.

    Parameters
    ----------
    filled : xarray.DataArray
        The filled field (observed values and land as they must stay).
    sigma : xarray.DataArray
        The standard error, same dims, NaN where nothing was filled (no noise there).
    noise : NoiseModel
        The noise.
    members : int
        Number of members (>= 1).
    dims : seainpaint.field.FieldDims
        The field's dims.
    seed : int
        Seed of the ensemble: the same seed gives the same members.

    Returns
    -------
    xarray.DataArray
        Dims ``(member, *filled.dims)``; lazy when ``filled`` is dask-backed. Observed
        values and land are those of ``filled`` in every member.
    """
    check_members(members, seed)
    order = [dims.time, dims.y, dims.x] + ([dims.channel] if dims.channel else [])
    shape = (filled.sizes[dims.y], filled.sizes[dims.x])
    channels = filled.sizes[dims.channel] if dims.channel else 1
    n_t = filled.sizes[dims.time]
    if filled.chunks is not None:
        import dask.array as dsa

        time_chunks = filled.chunksizes[dims.time]
        chunks = ((1,) * members, _noise_chunks(noise, n_t, time_chunks, shape, channels),
                  (shape[0],), (shape[1],))
        chunks += ((channels,),) if dims.channel else ()
        data = dsa.map_blocks(_noise_block, noise, seed, shape, channels, bool(dims.channel),
                              chunks=chunks, dtype=np.float32, meta=np.empty((0,) * len(chunks),
                                                                             np.float32))
        data = data.rechunk({1: time_chunks})
    else:
        data = _noise(noise, range(members), 0, n_t, shape, channels, bool(dims.channel), seed)
    z = xr.DataArray(data, dims=[MEMBER_DIM, *order])
    step = (sigma.fillna(0) * z).astype(filled.dtype)
    out = xr.where(np.isfinite(sigma), filled + step, filled, keep_attrs=False)
    out = out.transpose(MEMBER_DIM, *filled.dims)
    out = out.assign_coords({MEMBER_DIM: xr.Variable(MEMBER_DIM, np.arange(members, dtype=np.int32),
                                                     MEMBER_ATTRS)})
    out = out.assign_coords({name: filled.coords[name] for name in filled.coords})
    out.attrs = dict(filled.attrs)
    out.name = filled.name
    out.encoding = dict(filled.encoding)
    return out
