"""Masked pointwise errors: MAE, RMSE and bias (filled − truth) over a region."""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from .regions import MaskLike, Region, paired, region_mask

__all__ = ["bias", "errors_from_arrays", "mae", "masked_errors", "rmse"]


def masked_errors(
    truth: xr.DataArray,
    filled: xr.DataArray,
    obs: xr.DataArray | None = None,
    *,
    mask: MaskLike | None = None,
    region: Region = "occluded",
) -> dict[str, float]:
    """MAE, RMSE and bias (filled − truth) over a region.

    Parameters
    ----------
    truth, filled : xarray.DataArray
        Fields on the same grid ``(time, y, x[, channel])`` (any dim order).
    obs : xarray.DataArray, optional
        The observed field (NaN = missing); or give ``mask``.
    mask : xarray.DataArray or numpy.ndarray, optional
        Boolean ``(time, y, x)`` mask, ``True`` = observed.
    region : {"occluded", "observed", "all"}
        Which pixels count (see :func:`~seainpaint.metrics.region_mask`).

    Returns
    -------
    dict
        ``mae``, ``rmse``, ``bias`` (NaN when no pixel counts), ``n`` (pixel values
        compared) and ``unfilled`` (fraction of region values left NaN by the fill, which
        are excluded from the errors: check it is 0).
    """
    t, f = paired(truth, filled)
    sel = region_mask(truth, obs, mask=mask, region=region)
    return errors_from_arrays(t, f, sel)


def errors_from_arrays(truth: np.ndarray, filled: np.ndarray, select: np.ndarray) -> dict:
    """:func:`masked_errors` on ``(T, Y, X, C)`` arrays and a boolean ``(T, Y, X)`` selection."""
    t, f = np.asarray(truth, dtype=np.float64), np.asarray(filled, dtype=np.float64)
    sel = np.broadcast_to(np.asarray(select, dtype=bool)[..., None], t.shape) & np.isfinite(t)
    n_region = int(sel.sum())
    ok = sel & np.isfinite(f)
    diff = f[ok] - t[ok]
    n = int(diff.size)
    unfilled = float(1 - n / n_region) if n_region else 0.0
    if n == 0:
        return {"mae": math.nan, "rmse": math.nan, "bias": math.nan, "n": 0, "unfilled": unfilled}
    return {
        "mae": float(np.abs(diff).mean()),
        "rmse": float(np.sqrt(np.mean(diff**2))),
        "bias": float(diff.mean()),
        "n": n,
        "unfilled": unfilled,
    }


def mae(truth, filled, obs=None, *, mask=None, region: Region = "occluded") -> float:
    """Mean absolute error over a region (default: occluded non-land pixels).

    See :func:`masked_errors` for the parameters.
    """
    return masked_errors(truth, filled, obs, mask=mask, region=region)["mae"]


def rmse(truth, filled, obs=None, *, mask=None, region: Region = "occluded") -> float:
    """Root-mean-square error over a region (default: occluded non-land pixels).

    See :func:`masked_errors` for the parameters.
    """
    return masked_errors(truth, filled, obs, mask=mask, region=region)["rmse"]


def bias(truth, filled, obs=None, *, mask=None, region: Region = "occluded") -> float:
    """Mean of filled − truth over a region (default: occluded non-land pixels).

    See :func:`masked_errors` for the parameters.
    """
    return masked_errors(truth, filled, obs, mask=mask, region=region)["bias"]
