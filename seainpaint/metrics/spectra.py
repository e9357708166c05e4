"""Radially averaged spatial power spectra, and the fill's power relative to the truth's."""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from ..field import to_numpy_tyxc
from .regions import MaskLike, land_of, paired

__all__ = ["power_spectrum", "spectrum_ratio"]


def _fill_frames(values: np.ndarray, land: np.ndarray | None) -> np.ndarray:
    """NaN (and land) pixels of each ``(T, Y, X)`` frame replaced by the frame mean."""
    out = values.astype(np.float64, copy=True)
    if land is not None:
        out[:, land] = np.nan
    for i in range(out.shape[0]):
        frame = out[i]
        bad = ~np.isfinite(frame)
        if bad.any():
            frame[bad] = np.nanmean(frame) if not bad.all() else 0.0
    return out


def _radial_psd(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Radially averaged power spectrum of gap-free ``(T, Y, X)`` frames, averaged over T."""
    _, ny, nx = frames.shape
    window = np.outer(np.hanning(ny), np.hanning(nx)) if min(ny, nx) > 2 else 1.0
    anomalies = frames - frames.mean(axis=(1, 2), keepdims=True)
    power = np.abs(np.fft.fft2(anomalies * window)) ** 2
    power = power.mean(axis=0) / (ny * nx)
    ky = np.fft.fftfreq(ny)[:, None]
    kx = np.fft.fftfreq(nx)[None, :]
    k = np.sqrt(ky**2 + kx**2)
    n_bins = min(ny, nx) // 2
    step = 0.5 / max(n_bins, 1)
    index = np.rint(k / step).astype(int)
    wavenumber = np.arange(1, n_bins + 1) * step
    sums = np.bincount(index.ravel(), power.ravel(), minlength=n_bins + 1)
    counts = np.bincount(index.ravel(), minlength=n_bins + 1)
    psd = sums[1 : n_bins + 1] / np.maximum(counts[1 : n_bins + 1], 1)
    return wavenumber, psd


def power_spectrum(da: xr.DataArray, land: np.ndarray | None = None) -> xr.DataArray:
    """Radially averaged spatial power spectrum, per frame and then averaged over time.

    NaN pixels (land, gaps) are replaced by the mean of the frame before the transform, the
    frame mean is removed and a 2-D Hann window tapers the edges, so land areas contribute
    no variance and the non-periodic borders leak little power. Channels are averaged.

    Parameters
    ----------
    da : xarray.DataArray
        Field ``(time, y, x[, channel])``.
    land : numpy.ndarray, optional
        Boolean ``(y, x)`` pixels to treat as NaN in every frame (e.g. the land mask of the
        observation, so truth and fill are compared on the same sea pixels).

    Returns
    -------
    xarray.DataArray
        Power by ``wavenumber`` (cycles per pixel, from 1/N to the Nyquist 0.5).
    """
    values, _ = to_numpy_tyxc(da)
    psds = []
    for c in range(values.shape[-1]):
        wavenumber, psd = _radial_psd(_fill_frames(values[..., c], land))
        psds.append(psd)
    return xr.DataArray(
        np.mean(psds, axis=0),
        dims=("wavenumber",),
        coords={"wavenumber": wavenumber},
        name="power",
        attrs={"long_name": "radially averaged power spectral density"},
    )


RELATIVE_POWER_FLOOR = 1e-6  # bands with less of the truth's power than this give NaN
N_BANDS = 3  # default bands: thirds of the wavenumber range (low, middle, high)


def spectrum_ratio(
    truth: xr.DataArray,
    filled: xr.DataArray,
    obs: xr.DataArray | None = None,
    *,
    mask: MaskLike | None = None,
    n_bands: int = N_BANDS,
) -> dict[str, float]:
    """Power of the fill over power of the truth in wavenumber bands.

    A ratio below 1 in the high band means the fill lost small-scale structure (smooth
    fills); above 1 means it added noise. The land of the observation is masked in both
    fields (see :func:`power_spectrum`). A band where the truth holds less than a
    millionth of its total power (a smooth field has almost none at high wavenumbers) gives
    NaN: a ratio to almost nothing says nothing (it read 270063 on smooth synthetic SST).

    Parameters
    ----------
    truth, filled : xarray.DataArray
        Fields on the same grid.
    obs, mask : optional
        Observation or mask, used only for the land mask.
    n_bands : int
        Number of equal-width wavenumber bands between 1/N and the Nyquist frequency.

    Returns
    -------
    dict
        ``{"k0.00-0.17": ratio, ...}`` from the lowest to the highest band.
    """
    paired(truth, filled)
    land = land_of(truth, obs, mask)
    pt = power_spectrum(truth, land)
    pf = power_spectrum(filled, land)
    k = pt["wavenumber"].values
    edges = np.linspace(0.0, 0.5, n_bands + 1)
    out: dict[str, float] = {}
    floor = RELATIVE_POWER_FLOOR * float(pt.values.sum())
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        sel = (k > lo) & (k <= hi + 1e-12)
        denom = float(pt.values[sel].sum())
        ratio = float(pf.values[sel].sum()) / denom if denom > floor else math.nan
        out[f"k{lo:.2f}-{hi:.2f}"] = ratio
    return out
