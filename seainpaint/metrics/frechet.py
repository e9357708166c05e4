"""Fréchet distances: between Gaussians, and FID (frames) / FVD (clips) of fill vs truth.

Both fields are scaled to [-1, 1] with the truth's range, land and NaN pixels set to 0,
and mapped to feature vectors by a feature network (:mod:`seainpaint.metrics.features`);
the distance between the two feature distributions, each summarised by its mean and
covariance, is the FID / FVD of paper §3.5.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg
import xarray as xr

from ..errors import FeatureNetError, FieldError, SeainpaintError
from .features import FeatureNet, SmallFeatureNet, extract_features
from .regions import MaskLike, land_of, paired

__all__ = ["fid", "frechet_distance", "fvd", "gaussian_stats"]


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean vector and covariance matrix of ``(N, D)`` feature vectors."""
    feats = np.asarray(features, dtype=np.float64)
    if feats.ndim != 2 or feats.shape[0] < 1:
        raise FeatureNetError(f"features must be a non-empty (N, D) array, got {feats.shape}")
    mu = feats.mean(axis=0)
    if feats.shape[0] < 2:
        return mu, np.zeros((feats.shape[1], feats.shape[1]))
    return mu, np.atleast_2d(np.cov(feats, rowvar=False))


def frechet_distance(
    mu1: np.ndarray,
    sigma1: np.ndarray,
    mu2: np.ndarray,
    sigma2: np.ndarray,
    eps: float = 1e-6,
) -> float:
    """Fréchet (2-Wasserstein) distance between two Gaussians.

    ``d² = ||mu1 − mu2||² + Tr(S1 + S2 − 2 (S1 S2)^½)``, with the matrix square root from
    :func:`scipy.linalg.sqrtm` (real part kept). When the product is singular or the root
    is not finite, ``eps`` is added to both diagonals (as in Heusel et al. 2017).

    Returns
    -------
    float
        The squared distance (the quantity reported as FID/FVD), clipped at 0.
    """
    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    s1, s2 = np.atleast_2d(sigma1).astype(np.float64), np.atleast_2d(sigma2).astype(np.float64)
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (mu1.size, mu1.size):
        raise FeatureNetError(
            f"Gaussian statistics do not match: mu {mu1.shape} vs {mu2.shape}, "
            f"sigma {s1.shape} vs {s2.shape}"
        )
    diff = mu1 - mu2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", scipy.linalg.LinAlgWarning)
        covmean = scipy.linalg.sqrtm(s1 @ s2)
    singular = any(issubclass(w.category, scipy.linalg.LinAlgWarning) for w in caught)
    if singular or not np.isfinite(covmean).all():
        offset = np.eye(s1.shape[0]) * eps
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
            covmean = scipy.linalg.sqrtm((s1 + offset) @ (s2 + offset))
    covmean = np.real(covmean)
    value = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean))
    return max(value, 0.0)


class _Scaler:
    """Maps field values to [-1, 1] with the truth's range; NaN and land become 0."""

    def __init__(self, truth: np.ndarray):
        finite = truth[np.isfinite(truth)]
        if finite.size == 0:
            raise FieldError("the truth has no finite value")
        self.lo, self.hi = float(finite.min()), float(finite.max())
        if self.hi <= self.lo:
            self.hi = self.lo + 1.0

    def __call__(self, values: np.ndarray, land: np.ndarray | None) -> np.ndarray:
        out = 2.0 * (values - self.lo) / (self.hi - self.lo) - 1.0
        if land is not None:
            out[:, land, :] = np.nan
        return np.nan_to_num(out, nan=0.0).astype(np.float32)


def _prepared(truth, filled, obs, mask) -> tuple[np.ndarray, np.ndarray]:
    """Both fields scaled to [-1, 1] by the truth, land and NaN at 0, ``(T, Y, X, C)``."""
    t, f = paired(truth, filled)
    land = land_of(truth, obs, mask)
    scaler = _Scaler(t)
    return scaler(t, land), scaler(f, land)


def _distance(
    net: FeatureNet, truth: np.ndarray, filled: np.ndarray, batch_size: int, eps: float
) -> float:
    """Fréchet distance between the features of two batches of network inputs."""
    ft = extract_features(net, truth, batch_size)
    ff = extract_features(net, filled, batch_size)
    return frechet_distance(*gaussian_stats(ft), *gaussian_stats(ff), eps=eps)


def fid(
    truth: xr.DataArray,
    filled: xr.DataArray,
    obs: xr.DataArray | None = None,
    *,
    mask: MaskLike | None = None,
    features: FeatureNet | None = None,
    batch_size: int = 64,
    eps: float = 1e-6,
) -> float:
    """Fréchet distance between the feature distributions of filled and true frames (FID).

    Both fields are scaled to [-1, 1] with the truth's range; land (from ``obs``/``mask``)
    and NaN pixels are set to 0 in both. Every frame counts, including observed pixels
    (paper §3.5).

    Parameters
    ----------
    truth, filled : xarray.DataArray
        Fields on the same grid.
    obs, mask : optional
        Observation or mask, for the land mask.
    features : callable, optional
        Maps a ``(N, C, H, W)`` float tensor to ``(N, D)`` features. Default: a
        :class:`~seainpaint.metrics.SmallFeatureNet` (numbers not comparable to published
        FID). Batches are sent to the device of the network's weights
        (``features.to("cuda")``).
    batch_size : int
        Frames per forward pass.
    eps : float
        Regularisation of :func:`frechet_distance`.

    Returns
    -------
    float
        The FID (a squared distance, >= 0).
    """
    t, f = _prepared(truth, filled, obs, mask)
    net = SmallFeatureNet(in_channels=t.shape[-1], dims=2) if features is None else features
    to_nchw = (0, 3, 1, 2)
    return _distance(net, t.transpose(to_nchw), f.transpose(to_nchw), batch_size, eps)


def _clips(values: np.ndarray, length: int) -> np.ndarray:
    """Non-overlapping clips ``(N, C, L, Y, X)`` of ``(T, Y, X, C)`` values."""
    t_len = values.shape[0]
    length = min(length, t_len)
    n = t_len // length
    clips = values[: n * length].reshape(n, length, *values.shape[1:])
    return clips.transpose(0, 4, 1, 2, 3)


def fvd(
    truth: xr.DataArray,
    filled: xr.DataArray,
    obs: xr.DataArray | None = None,
    *,
    clip_length: int = 16,
    mask: MaskLike | None = None,
    features: FeatureNet | None = None,
    batch_size: int = 16,
    eps: float = 1e-6,
) -> float:
    """Fréchet distance between feature distributions of filled and true clips (FVD).

    The time axis is cut into non-overlapping clips of ``clip_length`` frames (all frames
    when shorter; a last partial clip is dropped); scaling as in :func:`fid`.

    Parameters
    ----------
    features : callable, optional
        Maps a ``(N, C, L, H, W)`` float tensor to ``(N, D)`` features. Default: a 3-D
        :class:`~seainpaint.metrics.SmallFeatureNet` (numbers not comparable to published
        FVD).
    clip_length : int
        Frames per clip.

    See :func:`fid` for the other parameters.

    Returns
    -------
    float
        The FVD (a squared distance, >= 0).
    """
    if clip_length < 1:
        raise SeainpaintError(f"clip_length must be >= 1, got {clip_length}")
    t, f = _prepared(truth, filled, obs, mask)
    net = SmallFeatureNet(in_channels=t.shape[-1], dims=3) if features is None else features
    return _distance(net, _clips(t, clip_length), _clips(f, clip_length), batch_size, eps)
