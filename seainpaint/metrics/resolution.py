"""Effective resolution from the PSD score, in space and in time, and per-band power ratios.

The PSD score of a fill is ``1 − PSD(fill − truth) / PSD(truth)`` as a function of the
wavenumber (space) or the frequency (time): 1 where the fill reproduces the truth's
structure at that scale, 0 where its error holds as much power as the truth, negative where
the error holds more. The **effective resolution** is the wavelength (or period) where the
score first drops below 0.5, coming from the largest scales: features larger than it are
resolved. It is the score of the ocean mapping data challenges (Le Guillou et al. 2021,
OceanBench) and of recent SST reconstruction papers.

Missing values. The spectra are taken over the pixels where the truth and the fill are
both finite and that are not land (``valid``). There, each field is an *anomaly* — its
mean over the valid pixels of the frame (space) or of the pixel's series (time) is removed
— and every other pixel is set to 0 (zero padding), so land and gaps add no variance to
either spectrum and the same pixels count in the numerator and the denominator. The error
gets the same treatment: its mean (the bias, reported apart) does not leak into the
lowest wavenumbers. A 2-D (space) or 1-D (time) Hann window tapers the non-periodic edges.
Spatial spectra are radially (isotropically) averaged and averaged over frames and
channels; temporal spectra are averaged over pixels and channels.

The score is computed over every valid pixel, observed or not (as in the data challenges,
where the whole reconstructed map is scored): a fill that keeps its observations has no
error there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import SeainpaintError
from ..field import field_dims, time_index
from .regions import MaskLike, land_of, paired

__all__ = [
    "KM_PER_DEGREE",
    "SCORE_LEVEL",
    "band_power_ratio",
    "band_ratios",
    "crossing_wavelength",
    "effective_resolution",
    "grid_spacing_km",
    "masked_anomaly",
    "psd_score",
    "radial_spectra",
    "score_of",
    "spatial_power_maps",
    "spatial_spectra",
    "temporal_spectra",
    "time_step_hours",
]

#: km per degree of latitude (mean Earth radius 6371.0088 km)
KM_PER_DEGREE = math.pi * 6371.0088 / 180.0
#: the PSD score level whose crossing defines the effective resolution
SCORE_LEVEL = 0.5
#: bins where the truth holds less than this share of its total power give a NaN score
RELATIVE_POWER_FLOOR = 1e-6
BAND_NAMES = ("low", "mid", "high")
_BLOCK = 64  # frames (space) or rows (time) transformed at once: bounds the memory


# ----------------------------------------------------------------------------- helpers


def masked_anomaly(
    values: np.ndarray, valid: np.ndarray, axis: int | tuple[int, ...]
) -> np.ndarray:
    """``values`` minus their mean over the ``valid`` entries along ``axis``, 0 elsewhere.

    Parameters
    ----------
    values : numpy.ndarray
        Any array (NaN allowed where not valid).
    valid : numpy.ndarray
        Boolean array of the same shape.
    axis : int or tuple of int
        Axes of the mean (``(1, 2)``: per frame; ``0``: per pixel series).

    Returns
    -------
    numpy.ndarray
        float64 anomalies, exactly 0 where not valid.
    """
    v = np.where(valid, values, 0.0)
    n = valid.sum(axis=axis, keepdims=True)
    mean = v.sum(axis=axis, keepdims=True) / np.maximum(n, 1)
    return np.where(valid, v - mean, 0.0)


def _hann(n: int) -> np.ndarray:
    return np.hanning(n) if n > 2 else np.ones(n)


def _spatial_power(anomaly: np.ndarray) -> np.ndarray:
    """Mean ``|FFT2|²`` over frames and channels of windowed ``(T, Y, X, C)`` anomalies."""
    _, ny, nx, _ = anomaly.shape
    window = (_hann(ny)[:, None] * _hann(nx)[None, :])[None, :, :, None]
    total = np.zeros((ny, nx))
    for start in range(0, anomaly.shape[0], _BLOCK):
        block = np.fft.fft2(anomaly[start : start + _BLOCK] * window, axes=(1, 2))
        total += (np.abs(block) ** 2).sum(axis=(0, 3))
    return total / (anomaly.shape[0] * anomaly.shape[3] * ny * nx)


def _temporal_power(anomaly: np.ndarray) -> np.ndarray:
    """Mean ``|rFFT|²`` over pixels and channels of windowed ``(T, Y, X, C)`` series."""
    n_time, ny, _, _ = anomaly.shape
    window = _hann(n_time)[:, None, None, None]
    total = np.zeros(n_time // 2 + 1)
    for start in range(0, ny, _BLOCK):
        block = np.fft.rfft(anomaly[:, start : start + _BLOCK] * window, axis=0)
        total += (np.abs(block) ** 2).sum(axis=(1, 2, 3))
    return total / (anomaly[0].size * n_time)


def _radial_average(power: np.ndarray, dy: float, dx: float) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic average of a 2-D power spectrum in bins of the physical wavenumber.

    The bin width is the coarser of the two axes' frequency steps (``1/(N·d)``) and the
    bins run up to the lower of the two Nyquist wavenumbers; the zero bin is left out.
    """
    ny, nx = power.shape
    k = np.hypot(np.fft.fftfreq(ny, d=dy)[:, None], np.fft.fftfreq(nx, d=dx)[None, :])
    dk = max(1.0 / (ny * dy), 1.0 / (nx * dx))
    n_bins = int(math.floor(min(0.5 / dy, 0.5 / dx) / dk + 1e-9))
    index = np.rint(k / dk).astype(int).ravel()
    sums = np.bincount(index, power.ravel(), minlength=n_bins + 1)[1 : n_bins + 1]
    counts = np.bincount(index, minlength=n_bins + 1)[1 : n_bins + 1]
    return np.arange(1, n_bins + 1) * dk, sums / np.maximum(counts, 1)


def _spectra_dataset(
    k: np.ndarray, truth: np.ndarray, filled: np.ndarray, error: np.ndarray, units: str
) -> xr.Dataset:
    coords = {"wavenumber": k, "wavelength": ("wavenumber", 1.0 / k, {"units": units})}
    data = {"truth": truth, "filled": filled, "error": error}
    return xr.Dataset({n: ("wavenumber", v) for n, v in data.items()}, coords=coords)


def spatial_power_maps(
    truth: np.ndarray, filled: np.ndarray, valid: np.ndarray
) -> dict[str, np.ndarray]:
    """2-D power spectra ``(Y, X)`` of the truth, the fill and the error, mean over frames.

    Parameters are those of :func:`spatial_spectra`; the result feeds :func:`radial_spectra`
    (once per grid unit without transforming again).
    """
    fields = {"truth": truth, "filled": filled, "error": filled - truth}
    return {n: _spatial_power(masked_anomaly(a, valid, (1, 2))) for n, a in fields.items()}


def radial_spectra(
    maps: dict[str, np.ndarray], spacing: tuple[float, float] = (1.0, 1.0), units: str = "px"
) -> xr.Dataset:
    """Radial averages of :func:`spatial_power_maps` for a grid spacing ``(dy, dx)``."""
    averaged = {n: _radial_average(m, *spacing) for n, m in maps.items()}
    k = averaged["truth"][0]
    return _spectra_dataset(k, *(averaged[n][1] for n in ("truth", "filled", "error")), units)


def spatial_spectra(
    truth: np.ndarray,
    filled: np.ndarray,
    valid: np.ndarray,
    spacing: tuple[float, float] = (1.0, 1.0),
    units: str = "px",
) -> xr.Dataset:
    """Radially averaged spatial power of the truth, the fill and the error.

    Parameters
    ----------
    truth, filled : numpy.ndarray
        ``(T, Y, X, C)`` arrays.
    valid : numpy.ndarray
        Boolean ``(T, Y, X, C)``: the pixels that count (finite in both, not land).
    spacing : (float, float)
        Grid spacing ``(dy, dx)`` in ``units``.
    units : str
        Units of the wavelengths (``"px"``, ``"km"``).

    Returns
    -------
    xarray.Dataset
        ``truth``, ``filled`` and ``error`` power by ``wavenumber`` (cycles per unit, from
        the longest resolved wavelength to the Nyquist), with a ``wavelength`` coordinate.
    """
    return radial_spectra(spatial_power_maps(truth, filled, valid), spacing, units)


def temporal_spectra(
    truth: np.ndarray,
    filled: np.ndarray,
    valid: np.ndarray,
    step: float = 1.0,
    units: str = "steps",
) -> xr.Dataset:
    """Power of the truth, the fill and the error in time, averaged over pixels.

    The parameters are those of :func:`spatial_spectra`, with ``step`` the time step in
    ``units`` (``"steps"``, ``"h"``). The ``wavenumber`` coordinate is then a frequency
    (cycles per unit) and ``wavelength`` a period.
    """
    n_time = truth.shape[0]
    powers = [
        _temporal_power(masked_anomaly(a, valid, 0))[1:] for a in (truth, filled, filled - truth)
    ]
    k = np.fft.rfftfreq(n_time, d=step)[1:]
    return _spectra_dataset(k, *powers, units=units)


def score_of(spectra: xr.Dataset) -> xr.DataArray:
    """The PSD score ``1 − error/truth`` of :func:`spatial_spectra`/:func:`temporal_spectra`.

    Bins where the truth holds less than a millionth of its total power give NaN (a ratio
    to almost nothing says nothing).
    """
    truth = spectra["truth"]
    floor = RELATIVE_POWER_FLOOR * float(truth.sum())
    score = (1.0 - spectra["error"] / truth).where(truth > floor)
    score.name = "psd_score"
    score.attrs = {"long_name": "PSD score 1 - PSD(fill - truth) / PSD(truth)"}
    return score


def crossing_wavelength(score: xr.DataArray, level: float = SCORE_LEVEL) -> float:
    """The wavelength where a PSD score first drops below ``level``, from large scales down.

    The crossing is interpolated linearly in wavenumber between the two bins around it.

    Parameters
    ----------
    score : xarray.DataArray
        Score by ascending ``wavenumber`` (from :func:`psd_score`); NaN bins are skipped.
    level : float
        The level (0.5 by convention).

    Returns
    -------
    float
        ``1 / k`` at the crossing, in the units of ``1/wavenumber``. NaN when it cannot be
        computed: the score is already below ``level`` at the longest resolved wavelength
        (the fill resolves no scale the field holds), never drops below it down to the
        Nyquist wavelength (the fill resolves every scale of the grid: its effective
        resolution is finer than the data can tell), or fewer than two bins are defined.
    """
    k = np.asarray(score["wavenumber"].values, dtype=float)
    s = np.asarray(score.values, dtype=float)
    ok = np.isfinite(s)
    k, s = k[ok], s[ok]
    if k.size < 2 or s[0] < level:
        return math.nan
    below = np.flatnonzero(s < level)
    if below.size == 0:
        return math.nan
    i = int(below[0])
    k_cross = k[i - 1] + (s[i - 1] - level) * (k[i] - k[i - 1]) / (s[i - 1] - s[i])
    return float(1.0 / k_cross)


def band_ratios(spectra: xr.Dataset, n_bands: int = 3) -> list[float]:
    """Power of the fill over power of the truth in ``n_bands`` equal wavenumber bands.

    The bands split the resolved range (longest wavelength to Nyquist) into equal widths,
    from low to high wavenumbers. A band where the truth holds less than a millionth of its
    total power gives NaN; so does a band with no bin (fewer bins than bands).
    """
    truth = np.asarray(spectra["truth"].values)
    filled = np.asarray(spectra["filled"].values)
    floor = RELATIVE_POWER_FLOOR * float(truth.sum())
    out = []
    for idx in np.array_split(np.arange(truth.size), n_bands):
        denom = float(truth[idx].sum())
        out.append(float(filled[idx].sum()) / denom if idx.size and denom > floor else math.nan)
    return out


# ----------------------------------------------------------------------------- grid units


def _coord_1d(da: xr.DataArray, dim: str) -> np.ndarray | None:
    if dim not in da.coords or da.coords[dim].ndim != 1:
        return None
    values = np.asarray(da.coords[dim].values)
    return values.astype(float) if values.dtype.kind in "fiu" else None


def _is_lat(da: xr.DataArray, dim: str) -> bool:
    attrs = da.coords[dim].attrs if dim in da.coords else {}
    return dim.lower() in ("latitude", "lat") or attrs.get("standard_name") == "latitude"


def _is_lon(da: xr.DataArray, dim: str) -> bool:
    attrs = da.coords[dim].attrs if dim in da.coords else {}
    return dim.lower() in ("longitude", "lon") or attrs.get("standard_name") == "longitude"


def grid_spacing_km(da: xr.DataArray) -> tuple[float, float] | None:
    """Grid spacing ``(dy, dx)`` in km of a regular latitude/longitude grid, or None.

    ``dy`` is the mean latitude step times :data:`KM_PER_DEGREE`; ``dx`` the mean longitude
    step times the same at the mean latitude (times its cosine). None when the spatial
    dims are not 1-D latitude/longitude coordinates.
    """
    dims = field_dims(da)
    if not (_is_lat(da, dims.y) and _is_lon(da, dims.x)):
        return None
    lat, lon = _coord_1d(da, dims.y), _coord_1d(da, dims.x)
    if lat is None or lon is None or lat.size < 2 or lon.size < 2:
        return None
    dlat = abs(float(np.mean(np.diff(lat))))
    dlon = abs(float(np.mean(np.diff(lon))))
    cos = math.cos(math.radians(float(np.mean(lat))))
    if dlat == 0 or dlon == 0 or cos <= 1e-6:
        return None
    return dlat * KM_PER_DEGREE, dlon * KM_PER_DEGREE * cos


def time_step_hours(da: xr.DataArray) -> float | None:
    """Median time step in hours, or None when time has no datetime/timedelta coordinate."""
    index = time_index(da)
    if index is None or len(index) < 2:
        return None
    if not isinstance(index, (pd.DatetimeIndex, pd.TimedeltaIndex, xr.CFTimeIndex)):
        return None
    steps = pd.to_timedelta(np.diff(np.asarray(index.values)))
    hours = float(steps.median() / pd.Timedelta(hours=1))
    return hours if hours > 0 else None


# ----------------------------------------------------------------------------- public


def _valid(t: np.ndarray, f: np.ndarray, land: np.ndarray | None) -> np.ndarray:
    valid = np.isfinite(t) & np.isfinite(f)
    if land is not None:
        valid &= ~np.asarray(land, dtype=bool)[None, :, :, None]
    return valid


def axis_spectra(
    truth: xr.DataArray,
    t: np.ndarray,
    f: np.ndarray,
    valid: np.ndarray,
    along: str,
    units: str | None = None,
) -> xr.Dataset:
    """Spectra of arrays ``t``, ``f`` of field ``truth`` along space or time, in ``units``.

    Space: ``"px"`` (default) or ``"km"`` (needs 1-D latitude/longitude); time:
    ``"steps"`` (default) or ``"h"`` (needs a datetime time coordinate).

    Raises
    ------
    SeainpaintError
        Unknown ``along`` or ``units``, or units the field's coordinates cannot give.
    """
    if along == "space":
        if units in (None, "px"):
            return spatial_spectra(t, f, valid)
        if units == "km":
            spacing = grid_spacing_km(truth)
            if spacing is None:
                raise SeainpaintError(
                    "units='km' needs 1-D latitude/longitude coordinates on the spatial dims"
                )
            return spatial_spectra(t, f, valid, spacing, "km")
        raise SeainpaintError(f"unknown units {units!r} in space; use 'px' or 'km'")
    if along == "time":
        if units in (None, "steps"):
            return temporal_spectra(t, f, valid)
        if units == "h":
            step = time_step_hours(truth)
            if step is None:
                raise SeainpaintError("units='h' needs a datetime time coordinate")
            return temporal_spectra(t, f, valid, step, "h")
        raise SeainpaintError(f"unknown units {units!r} in time; use 'steps' or 'h'")
    raise SeainpaintError(f"along must be 'space' or 'time', got {along!r}")


def _spectra_for(
    truth: xr.DataArray,
    filled: xr.DataArray,
    obs: xr.DataArray | None,
    mask: MaskLike | None,
    along: str,
    units: str | None,
) -> xr.Dataset:
    t, f = paired(truth, filled)
    return axis_spectra(truth, t, f, _valid(t, f, land_of(truth, obs, mask)), along, units)


def psd_score(
    truth: xr.DataArray,
    filled: xr.DataArray,
    obs: xr.DataArray | None = None,
    *,
    mask: MaskLike | None = None,
    along: str = "space",
    units: str | None = None,
) -> xr.DataArray:
    """PSD score ``1 − PSD(filled − truth) / PSD(truth)`` by wavenumber or frequency.

    See the module documentation for how land and missing values are handled.

    Parameters
    ----------
    truth, filled : xarray.DataArray
        Fields on the same grid ``(time, y, x[, channel])``.
    obs, mask : optional
        Observation (NaN = missing) or mask (True = observed), used for the land only.
    along : {"space", "time"}
        Radially averaged spatial spectrum (averaged over frames), or the spectrum of each
        pixel's time series (averaged over pixels).
    units : str, optional
        Space: ``"px"`` (default) or ``"km"`` (needs latitude/longitude); time: ``"steps"``
        (default) or ``"h"`` (needs a datetime time coordinate).

    Returns
    -------
    xarray.DataArray
        Score by ``wavenumber`` (cycles per unit), with a ``wavelength`` coordinate.
    """
    return score_of(_spectra_for(truth, filled, obs, mask, along, units))


def effective_resolution(
    truth: xr.DataArray,
    filled: xr.DataArray,
    obs: xr.DataArray | None = None,
    *,
    mask: MaskLike | None = None,
    along: str = "space",
    units: str | None = None,
) -> float:
    """Wavelength (space) or period (time) where the PSD score first drops below 0.5.

    Parameters are those of :func:`psd_score`. NaN when it cannot be computed (see
    :func:`crossing_wavelength`): the score never drops below 0.5 down to the grid scale, is
    below 0.5 already at the longest resolved wavelength, or the field is too small.

    Returns
    -------
    float
        In ``units`` (px by default in space, time steps in time).
    """
    return crossing_wavelength(psd_score(truth, filled, obs, mask=mask, along=along, units=units))


def band_power_ratio(
    truth: xr.DataArray,
    filled: xr.DataArray,
    obs: xr.DataArray | None = None,
    *,
    mask: MaskLike | None = None,
    bands: Sequence[str] = BAND_NAMES,
) -> dict[str, float]:
    """Spatial power of the fill over the truth's in equal thirds of the wavenumber range.

    Radially averaged spectra over frames, on the same valid pixels as :func:`psd_score`.
    1 is ideal; below 1 the fill is too smooth at those scales, above 1 it adds noise.

    Returns
    -------
    dict
        ``{"low": ratio, "mid": ratio, "high": ratio}`` (one entry per name in ``bands``).
    """
    spectra = _spectra_for(truth, filled, obs, mask, "space", None)
    return dict(zip(bands, band_ratios(spectra, len(bands)), strict=True))
