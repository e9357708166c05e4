"""Scores of a Gaussian predictive distribution: CRPS, coverage and a reliability curve.

A fill that carries a standard error σ (the ``<var>_standard_error`` coordinate that
``fill(model, uncertainty=True)`` attaches) predicts ``N(fill, σ²)`` at each filled pixel.
These functions score that prediction against the truth from the error ``e = fill − truth``
and σ, as flat arrays of the pixels that count (the hidden sea pixels in
:func:`seainpaint.evaluate`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.special import ndtr, ndtri

from ..errors import SeainpaintError

__all__ = [
    "DEFAULT_LEVELS",
    "calibration_curve",
    "coverage",
    "crps_ensemble",
    "crps_gaussian",
    "gaussian_scores",
]

#: nominal probabilities of the central intervals drawn by the reliability figure
DEFAULT_LEVELS = tuple(round(0.05 * i, 2) for i in range(1, 20))
_SQRT_PI = math.sqrt(math.pi)


def _pairs(error: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat float64 error and σ where both are finite; refuses negative σ."""
    e = np.asarray(error, dtype=np.float64)
    s = np.asarray(sigma, dtype=np.float64)
    if e.shape != s.shape:
        raise SeainpaintError(f"error {e.shape} and standard error {s.shape} differ in shape")
    ok = np.isfinite(e) & np.isfinite(s)
    e, s = e[ok], s[ok]
    if (s < 0).any():
        raise SeainpaintError("a standard error is negative")
    return e, s


def crps_gaussian(error: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """CRPS of the forecast ``N(μ, σ²)`` for an outcome ``y``, with ``error = μ − y``.

    The closed form (Gneiting et al. 2005) ``σ [z (2Φ(z) − 1) + 2φ(z) − 1/√π]`` with
    ``z = error/σ``; ``|error|`` (the MAE) where σ = 0. Same units as the field.

    Parameters
    ----------
    error, sigma : numpy.ndarray
        Arrays of the same shape (σ ≥ 0).

    Returns
    -------
    numpy.ndarray
        The CRPS of each entry (NaN where either input is NaN).
    """
    e = np.abs(np.asarray(error, dtype=np.float64))  # the CRPS is symmetric in the error
    s = np.asarray(sigma, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = e / s
        phi = np.exp(-0.5 * z**2) / math.sqrt(2 * math.pi)
        crps = s * (z * (2 * ndtr(z) - 1) + 2 * phi - 1 / _SQRT_PI)
    return np.where(s == 0, e, crps)


def coverage(error: np.ndarray, sigma: np.ndarray, k: float) -> float:
    """Share of errors within ``k`` standard errors (``|error| ≤ kσ``); NaN when none count."""
    e, s = _pairs(error, sigma)
    return float(np.mean(np.abs(e) <= k * s)) if e.size else math.nan


def gaussian_scores(error: np.ndarray, sigma: np.ndarray) -> dict[str, float]:
    """Mean CRPS and the 1σ and 2σ coverage of errors with their standard errors.

    A calibrated Gaussian prediction covers 68.3 % (1σ) and 95.4 % (2σ) of the errors, and
    its mean CRPS is ``σ/√π`` for errors ``N(0, σ²)``.

    Parameters
    ----------
    error, sigma : numpy.ndarray
        ``fill − truth`` and σ on the pixels that count (entries with a NaN are left out).

    Returns
    -------
    dict
        ``crps``, ``coverage_1``, ``coverage_2`` (NaN when no pixel counts) and ``n``.
    """
    e, s = _pairs(error, sigma)
    if not e.size:
        return {"crps": math.nan, "coverage_1": math.nan, "coverage_2": math.nan, "n": 0}
    return {
        "crps": float(crps_gaussian(e, s).mean()),
        "coverage_1": float(np.mean(np.abs(e) <= s)),
        "coverage_2": float(np.mean(np.abs(e) <= 2 * s)),
        "n": int(e.size),
    }


def calibration_curve(
    error: np.ndarray, sigma: np.ndarray, levels: Sequence[float] = DEFAULT_LEVELS
) -> np.ndarray:
    """Observed coverage of the central prediction intervals of nominal probability ``p``.

    The interval of probability ``p`` is ``μ ± z σ`` with ``z = Φ⁻¹((1 + p)/2)``; a
    calibrated prediction covers a share ``p`` of the errors (the diagonal of the
    reliability figure).

    Parameters
    ----------
    error, sigma : numpy.ndarray
        ``fill − truth`` and σ on the pixels that count.
    levels : sequence of float
        Nominal probabilities in (0, 1).

    Returns
    -------
    numpy.ndarray
        Observed coverage at each level (NaN when no pixel counts).
    """
    p = np.asarray(levels, dtype=np.float64)
    if p.ndim != 1 or not ((p > 0) & (p < 1)).all():
        raise SeainpaintError(f"levels must be probabilities in (0, 1), got {list(p)}")
    e, s = _pairs(error, sigma)
    if not e.size:
        return np.full(p.shape, math.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(s > 0, np.abs(e) / s, np.where(e == 0, 0.0, np.inf))
    ratio.sort()
    return np.searchsorted(ratio, ndtri((1 + p) / 2), side="right") / ratio.size


def crps_ensemble(members: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """The fair CRPS of an ensemble for each outcome (Ferro 2014).

    ``mean|x_i − y| − Σ_{i≠j} |x_i − x_j| / (2 m (m − 1))`` for ``m`` members ``x_i`` and
    the outcome ``y``: unbiased for the CRPS of the distribution the members are drawn
    from, so a small ensemble is not penalised for its size. For members drawn from
    ``N(μ, σ²)`` its mean is :func:`crps_gaussian` of ``μ − y`` and σ.

    Parameters
    ----------
    members : numpy.ndarray
        The members along the first axis (at least two).
    truth : numpy.ndarray
        The outcomes, shape ``members.shape[1:]``.

    Returns
    -------
    numpy.ndarray
        The fair CRPS of each entry, shape of ``truth`` (NaN where an input is NaN).
    """
    x = np.asarray(members, dtype=np.float64)
    y = np.asarray(truth, dtype=np.float64)
    if x.ndim < 1 or x.shape[0] < 2 or x.shape[1:] != y.shape:
        raise SeainpaintError(
            f"members {x.shape} must stack at least two arrays of the truth's shape {y.shape}"
        )
    m = x.shape[0]
    skill = np.abs(x - y).mean(axis=0)
    ordered = np.sort(x, axis=0)  # Σ_{i<j} |x_i − x_j| = Σ_k (2k − m + 1) x_(k), k from 0
    weights = (2 * np.arange(m) - m + 1).reshape((m,) + (1,) * y.ndim)
    spread = (weights * ordered).sum(axis=0) / (m * (m - 1))
    return skill - spread
