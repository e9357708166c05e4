"""How a fill's errors are correlated in space, time and across channels.

A model's standard error σ says how large its error is at each pixel; an ensemble also
needs to know how the errors of neighbouring pixels go together (a wrong front is wrong
along its length and for hours, not pixel by pixel). :func:`error_correlation` measures
that from errors against a known truth (in training: re-hidden observations of the
validation windows), as the correlation of the normalised error ``z = error / σ`` at
lags in pixels and in frames. :mod:`seainpaint.inference.ensemble` draws noise with
those correlations.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import SeainpaintError

__all__ = ["MIN_PAIRS", "error_correlation", "lagged_correlation"]

#: fewer pairs than this at a lag and its correlation is not estimated (the list stops)
MIN_PAIRS = 200


def lagged_correlation(z: np.ndarray, lag: int, axis: int) -> tuple[float, int]:
    """Pearson correlation of ``z`` with itself shifted by ``lag`` along ``axis``.

    Only pairs where both values are finite count.

    Parameters
    ----------
    z : numpy.ndarray
        Values, NaN where they do not count.
    lag : int
        Shift (>= 1) along ``axis``.
    axis : int
        The axis.

    Returns
    -------
    float
        The correlation (NaN with fewer than two pairs or no spread).
    int
        The number of pairs.
    """
    n = z.shape[axis]
    if lag >= n:
        return math.nan, 0
    a = np.take(z, np.arange(0, n - lag), axis=axis)
    b = np.take(z, np.arange(lag, n), axis=axis)
    return _pearson(a, b)


def _pearson(a: np.ndarray, b: np.ndarray) -> tuple[float, int]:
    """Pearson correlation of ``a`` and ``b`` over the pairs where both are finite, and the
    number of pairs (NaN with fewer than two pairs or no spread)."""
    ok = np.isfinite(a) & np.isfinite(b)
    count = int(ok.sum())
    if count < 2:
        return math.nan, count
    a, b = a[ok].astype(np.float64), b[ok].astype(np.float64)
    a -= a.mean()
    b -= b.mean()
    denominator = math.sqrt(float((a * a).sum()) * float((b * b).sum()))
    if denominator == 0:
        return math.nan, count
    return float((a * b).sum()) / denominator, count


def _correlations(z: np.ndarray, axes: tuple[int, ...], max_lag: int) -> list[float]:
    """ρ at lags 0, 1, ... along ``axes`` (averaged over them), stopping at a lag with
    too few pairs or when ρ falls to 0 or below."""
    out = [1.0]
    for lag in range(1, max_lag + 1):
        values = [lagged_correlation(z, lag, axis) for axis in axes]
        values = [(r, n) for r, n in values if n >= MIN_PAIRS and math.isfinite(r)]
        if not values:
            break
        rho = sum(r * n for r, n in values) / sum(n for _, n in values)
        if rho <= 0:
            break
        out.append(round(rho, 4))
    return out


def error_correlation(
    error: np.ndarray,
    sigma: np.ndarray,
    counted: np.ndarray,
    *,
    max_space_lag: int = 32,
    max_time_lag: int = 48,
) -> dict[str, list[float] | float]:
    """Correlation of the normalised errors ``error/σ`` by lag in space, time and channel.

    Parameters
    ----------
    error, sigma : numpy.ndarray
        Errors (fill − truth) and standard errors, shape ``(..., channel, time, y, x)``
        (any leading axes, e.g. windows: lags never cross them).
    counted : numpy.ndarray
        Boolean, broadcastable to ``error``: the pixels whose error counts (hidden pixels
        with a known truth).
    max_space_lag, max_time_lag : int
        Longest lags measured, in pixels and frames.

    Returns
    -------
    dict
        ``space``: ρ at lags 0, 1, ... pixels (the mean of the y and x directions);
        ``time``: ρ at lags 0, 1, ... frames; each list stops at the first lag where ρ
        is no longer positive or has fewer than :data:`MIN_PAIRS` pairs. ``channel``:
        the mean correlation between channels at the same pixel (0 for one channel).

    Raises
    ------
    SeainpaintError
        Shapes that do not match, fewer than four axes, or too few counted pixels.
    """
    e = np.asarray(error, dtype=np.float64)
    s = np.asarray(sigma, dtype=np.float64)
    if e.shape != s.shape or e.ndim < 4:
        raise SeainpaintError(
            f"error {e.shape} and sigma {s.shape} must share one (..., channel, time, y, x) shape"
        )
    keep = np.broadcast_to(np.asarray(counted, dtype=bool), e.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(keep & (s > 0), e / s, np.nan)
    if int(np.isfinite(z).sum()) < MIN_PAIRS:
        raise SeainpaintError(
            f"{int(np.isfinite(z).sum())} counted error(s): too few to measure their correlation"
        )
    channel = 0.0
    n_c = z.shape[-4]
    if n_c > 1:
        pairs = []
        for i in range(n_c):
            for j in range(i + 1, n_c):
                rho, count = _pearson(np.take(z, i, axis=-4), np.take(z, j, axis=-4))
                if count >= MIN_PAIRS and math.isfinite(rho):
                    pairs.append(rho)
        channel = round(max(0.0, float(np.mean(pairs))), 4) if pairs else 0.0
    return {
        "space": _correlations(z, (-2, -1), max_space_lag),
        "time": _correlations(z, (-3,), max_time_lag),
        "channel": channel,
    }
