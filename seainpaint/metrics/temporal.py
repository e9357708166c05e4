"""Temporal coherence: frame-to-frame change and lag-1 autocorrelation, fill vs truth."""

from __future__ import annotations

import math
import warnings

import numpy as np
import xarray as xr

from ..field import to_numpy_tyxc
from .regions import MaskLike, land_of, paired

__all__ = ["temporal_ratio", "temporal_stats"]


def temporal_stats(da: xr.DataArray, land: np.ndarray | None = None) -> dict[str, float]:
    """Temporal coherence of a field.

    Parameters
    ----------
    da : xarray.DataArray
        Field ``(time, y, x[, channel])``.
    land : numpy.ndarray, optional
        Boolean ``(y, x)`` pixels to ignore.

    Returns
    -------
    dict
        ``diff_std``: standard deviation of ``x[t+1] − x[t]`` over all pixels and steps;
        ``autocorr``: lag-1 autocorrelation of the pixel anomalies (each pixel's temporal
        mean removed), pooled over pixels. NaN and ``land`` pixels are ignored.
    """
    values, _ = to_numpy_tyxc(da)
    values = values.astype(np.float64, copy=True)
    if land is not None:
        values[:, land] = np.nan
    if values.shape[0] < 2:
        return {"diff_std": math.nan, "autocorr": math.nan}
    diff = np.diff(values, axis=0)
    diff = diff[np.isfinite(diff)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pixels: mean is NaN
        anomalies = values - np.nanmean(values, axis=0, keepdims=True)
    a, b = anomalies[:-1], anomalies[1:]
    ok = np.isfinite(a) & np.isfinite(b)
    denom = math.sqrt(float((a[ok] ** 2).sum()) * float((b[ok] ** 2).sum()))
    return {
        "diff_std": float(diff.std()) if diff.size else math.nan,
        "autocorr": float((a[ok] * b[ok]).sum()) / denom if denom else math.nan,
    }


def temporal_ratio(
    truth: xr.DataArray,
    filled: xr.DataArray,
    obs: xr.DataArray | None = None,
    *,
    mask: MaskLike | None = None,
) -> dict[str, float]:
    """Temporal statistics of the fill relative to the truth.

    The parameters are those of :func:`~seainpaint.metrics.spectrum_ratio` (``obs`` or
    ``mask`` give the land, ignored in both fields), without ``n_bands``.

    Returns
    -------
    dict
        ``diff_std_ratio`` (std of frame-to-frame differences, filled / truth: below 1 is
        too smooth in time, above 1 flickers), ``autocorr_truth`` and ``autocorr_filled``.
    """
    paired(truth, filled)
    land = land_of(truth, obs, mask)
    st = temporal_stats(truth, land)
    sf = temporal_stats(filled, land)
    return {
        "diff_std_ratio": sf["diff_std"] / st["diff_std"] if st["diff_std"] else math.nan,
        "autocorr_truth": st["autocorr"],
        "autocorr_filled": sf["autocorr"],
    }
