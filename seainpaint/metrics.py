"""Quality metrics for filled fields: masked errors, spectra, temporal statistics, FID/FVD.

Every metric compares a *filled* field with the *truth* on the pixels that matter, chosen
from the observation (``obs``, NaN = missing) or a boolean mask (``True`` = observed):

- **occluded** pixels are missing in ``obs`` but not land (the paper's MAE is computed
  "solely within the occluded area");
- **observed** pixels are the finite pixels of ``obs``;
- **land** pixels are missing at every time step; they never count.

Pixels where the truth itself is NaN are skipped as well. The Fréchet distances (FID on
frames, FVD on sequences, paper §3.5) use a pluggable feature network: a callable mapping a
``torch.Tensor`` batch to feature vectors. :class:`SmallFeatureNet` is a seeded, randomly
initialised convolutional network that needs no download; it is the default and is fine to
*rank* methods on one data set, but its numbers are **not comparable to published FID/FVD**.
For those, load the reference networks from local files with :func:`load_inception` and
:func:`load_i3d` (nothing is ever downloaded).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import scipy.linalg
import xarray as xr

from .errors import FieldError, MaskError, SeainpaintError
from .field import check_mask, field_dims, to_numpy_tyxc

Region = Literal["occluded", "observed", "all"]
FeatureNet = Callable[[Any], Any]

__all__ = [
    "FeatureNetError",
    "PretrainedFeatures",
    "SmallFeatureNet",
    "bias",
    "errors",
    "errors_from_arrays",
    "fid",
    "frechet_distance",
    "fvd",
    "gaussian_stats",
    "load_i3d",
    "load_inception",
    "mae",
    "occlusion_rate",
    "power_spectrum",
    "region_mask",
    "rmse",
    "spectrum_ratio",
    "temporal_ratio",
    "temporal_stats",
]


class FeatureNetError(SeainpaintError):
    """A feature network for FID/FVD is missing, unreadable or gives unusable output."""


# ----------------------------------------------------------------------------- masks


def _observed_and_land(
    template: xr.DataArray, obs: xr.DataArray | None, mask: xr.DataArray | np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Observed ``(T, Y, X)`` and land ``(Y, X)`` boolean arrays on ``template``'s grid."""
    if (obs is None) == (mask is None):
        raise MaskError("give exactly one of obs (NaN = missing) or mask (True = observed)")
    dims = field_dims(template)
    if obs is not None:
        odims = field_dims(obs)
        values, _ = to_numpy_tyxc(obs)
        observed = np.isfinite(values).all(axis=-1)
        shape = tuple(template.sizes[d] for d in (dims.time, dims.y, dims.x))
        if observed.shape != shape:
            raise FieldError(
                f"obs grid {observed.shape} (dims {odims.canonical}) does not match the "
                f"field's {shape}"
            )
    else:
        observed = np.asarray(check_mask(template, mask).values)
    land = ~observed.any(axis=0)
    return observed, land


def region_mask(
    template: xr.DataArray,
    obs: xr.DataArray | None = None,
    *,
    mask: xr.DataArray | np.ndarray | None = None,
    region: Region = "occluded",
) -> np.ndarray:
    """Boolean ``(T, Y, X)`` array selecting the pixels of a region.

    Parameters
    ----------
    template : xarray.DataArray
        A field on the grid (truth or filled), giving the dims.
    obs : xarray.DataArray, optional
        The observed field (NaN = missing). Give this or ``mask``.
    mask : xarray.DataArray or numpy.ndarray, optional
        Boolean ``(time, y, x)`` mask, ``True`` = observed.
    region : {"occluded", "observed", "all"}
        ``"occluded"``: missing but not land; ``"observed"``: observed; ``"all"``: not land.

    Returns
    -------
    numpy.ndarray
        Boolean array in canonical order ``(time, y, x)``.
    """
    observed, land = _observed_and_land(template, obs, mask)
    if region == "occluded":
        return ~observed & ~land[None]
    if region == "observed":
        return observed
    if region == "all":
        return np.broadcast_to(~land[None], observed.shape).copy()
    raise SeainpaintError(f"unknown region {region!r}; use 'occluded', 'observed' or 'all'")


def occlusion_rate(
    obs: xr.DataArray | None = None, *, mask: xr.DataArray | np.ndarray | None = None
) -> float:
    """Fraction of non-land pixels that are occluded (0..1), over all frames."""
    template = obs if obs is not None else mask
    if not isinstance(template, xr.DataArray):
        raise MaskError("occlusion_rate needs obs or a mask DataArray with dims")
    observed, land = _observed_and_land(template, obs, mask)
    sea = np.broadcast_to(~land[None], observed.shape)
    n = int(sea.sum())
    return float((~observed & sea).sum() / n) if n else float("nan")


def _pair(truth: xr.DataArray, filled: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    t, tdims = to_numpy_tyxc(truth)
    f, fdims = to_numpy_tyxc(filled)
    if t.shape != f.shape:
        raise FieldError(
            f"truth {t.shape} and filled {f.shape} differ in shape (canonical (T, Y, X, C))"
        )
    return t.astype(np.float64), f.astype(np.float64)


# ----------------------------------------------------------------------------- errors


def errors(
    truth: xr.DataArray,
    filled: xr.DataArray,
    obs: xr.DataArray | None = None,
    *,
    mask: xr.DataArray | np.ndarray | None = None,
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
        Which pixels count (see :func:`region_mask`).

    Returns
    -------
    dict
        ``mae``, ``rmse``, ``bias`` (NaN when no pixel counts), ``n`` (pixel values
        compared) and ``unfilled`` (fraction of region values left NaN by the fill, which
        are excluded from the errors: check it is 0).
    """
    t, f = _pair(truth, filled)
    sel = region_mask(truth, obs, mask=mask, region=region)
    return errors_from_arrays(t, f, sel)


def errors_from_arrays(truth: np.ndarray, filled: np.ndarray, select: np.ndarray) -> dict:
    """:func:`errors` on ``(T, Y, X, C)`` arrays and a boolean ``(T, Y, X)`` selection."""
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

    See :func:`errors` for the parameters.
    """
    return errors(truth, filled, obs, mask=mask, region=region)["mae"]


def rmse(truth, filled, obs=None, *, mask=None, region: Region = "occluded") -> float:
    """Root-mean-square error over a region (default: occluded non-land pixels).

    See :func:`errors` for the parameters.
    """
    return errors(truth, filled, obs, mask=mask, region=region)["rmse"]


def bias(truth, filled, obs=None, *, mask=None, region: Region = "occluded") -> float:
    """Mean of filled − truth over a region (default: occluded non-land pixels).

    See :func:`errors` for the parameters.
    """
    return errors(truth, filled, obs, mask=mask, region=region)["bias"]


# ----------------------------------------------------------------------------- spectra


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
    t_len, ny, nx = frames.shape
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


def spectrum_ratio(
    truth: xr.DataArray,
    filled: xr.DataArray,
    obs: xr.DataArray | None = None,
    *,
    mask: xr.DataArray | np.ndarray | None = None,
    n_bands: int = 3,
) -> dict[str, float]:
    """Power of the fill over power of the truth in wavenumber bands.

    A ratio below 1 in the high band means the fill lost small-scale structure (smooth
    fills); above 1 means it added noise. The land of the observation is masked in both
    fields (see :func:`power_spectrum`).

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
    _pair(truth, filled)
    land = None
    if obs is not None or mask is not None:
        _, land = _observed_and_land(truth, obs, mask)
    pt = power_spectrum(truth, land)
    pf = power_spectrum(filled, land)
    k = pt["wavenumber"].values
    edges = np.linspace(0.0, 0.5, n_bands + 1)
    out: dict[str, float] = {}
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        sel = (k > lo) & (k <= hi + 1e-12)
        denom = float(pt.values[sel].sum())
        out[f"k{lo:.2f}-{hi:.2f}"] = float(pf.values[sel].sum()) / denom if denom else math.nan
    return out


# ----------------------------------------------------------------------------- temporal


def temporal_stats(da: xr.DataArray, land: np.ndarray | None = None) -> dict[str, float]:
    """Temporal coherence of a field.

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
    mask: xr.DataArray | np.ndarray | None = None,
) -> dict[str, float]:
    """Temporal statistics of the fill relative to the truth.

    Returns
    -------
    dict
        ``diff_std_ratio`` (std of frame-to-frame differences, filled / truth: below 1 is
        too smooth in time, above 1 flickers), ``autocorr_truth`` and ``autocorr_filled``.
    """
    _pair(truth, filled)
    land = None
    if obs is not None or mask is not None:
        _, land = _observed_and_land(truth, obs, mask)
    st = temporal_stats(truth, land)
    sf = temporal_stats(filled, land)
    return {
        "diff_std_ratio": sf["diff_std"] / st["diff_std"] if st["diff_std"] else math.nan,
        "autocorr_truth": st["autocorr"],
        "autocorr_filled": sf["autocorr"],
    }


# ----------------------------------------------------------------------------- Fréchet


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


class SmallFeatureNet:
    """A seeded, randomly initialised conv net mapping frames or clips to feature vectors.

    It needs no download and runs fast on a CPU, so it is the default feature network for
    FID (``dims=2``: input ``(N, C, H, W)``) and FVD (``dims=3``: input ``(N, C, T, H, W)``).
    Random features are good enough to rank fills of one data set against each other, but
    **numbers computed with it are not comparable to published FID/FVD values**, which use
    InceptionV3 / I3D (see :func:`load_inception`, :func:`load_i3d`).

    Parameters
    ----------
    in_channels : int
        Channels of the input (1 for SST, 3 for RGB video).
    dims : {2, 3}
        2-D convolutions on frames or 3-D convolutions on clips.
    width : int
        Channels of the first layer (doubled at each of the three stages); the features
        are the ``4 * width`` channels of the last stage, averaged over space (and time).
    seed : int
        Seed of the weight initialisation: same seed, same features.
    """

    def __init__(self, in_channels: int = 1, dims: int = 2, width: int = 16, seed: int = 0):
        import torch
        from torch import nn

        if dims not in (2, 3):
            raise FeatureNetError(f"dims must be 2 (frames) or 3 (clips), got {dims}")
        conv = nn.Conv2d if dims == 2 else nn.Conv3d
        pool = nn.AdaptiveAvgPool2d if dims == 2 else nn.AdaptiveAvgPool3d
        gen = torch.Generator().manual_seed(seed)
        layers: list[nn.Module] = []
        channels = in_channels
        for stage in range(3):
            out = width * 2**stage
            layers += [conv(channels, out, 3, stride=2, padding=1), nn.LeakyReLU(0.2)]
            channels = out
        self.net = nn.Sequential(*layers, pool(1), nn.Flatten())
        with torch.no_grad():
            for module in self.net.modules():
                if isinstance(module, conv):
                    fan_in = module.weight[0].numel()
                    w = torch.randn(module.weight.shape, generator=gen) * math.sqrt(2.0 / fan_in)
                    module.weight.copy_(w)
                    module.bias.zero_()
        self.net.eval()
        self.in_channels = in_channels
        self.dims = dims
        self.seed = seed
        self.n_features = channels

    def __call__(self, batch):
        import torch

        with torch.no_grad():
            return self.net(batch.float())

    def to(self, device: Any) -> SmallFeatureNet:
        """Move the network to a torch device (batches follow it); returns self."""
        self.net.to(device)
        return self

    def __repr__(self) -> str:
        return (
            f"SmallFeatureNet(in_channels={self.in_channels}, dims={self.dims}, seed={self.seed})"
        )


class PretrainedFeatures:
    """Adapter around a loaded reference network (InceptionV3 or I3D).

    It repeats single-channel input to 3 channels, resizes frames to ``size``, maps the
    normalised input range [-1, 1] to ``value_range`` and calls the module with
    ``call_kwargs`` (falling back to a plain call when the module rejects them).

    Parameters
    ----------
    module : torch.nn.Module or torch.jit.ScriptModule
        The network; its output (a tensor, or a tuple whose first item is one) is
        flattened to ``(N, D)`` features.
    dims : {2, 3}
        Frames ``(N, C, H, W)`` or clips ``(N, C, T, H, W)``.
    size : tuple of int or None
        Spatial size the network expects, or None to pass frames unchanged.
    value_range : tuple of float
        Range of the network's input.
    call_kwargs : dict
        Keyword arguments of the call (e.g. ``{"return_features": True}``).
    """

    def __init__(
        self,
        module: Any,
        *,
        dims: int,
        size: tuple[int, int] | None,
        value_range: tuple[float, float] = (-1.0, 1.0),
        call_kwargs: Mapping[str, Any] | None = None,
    ):
        self.module = module
        self.dims = dims
        self.size = size
        self.value_range = value_range
        self.call_kwargs = dict(call_kwargs or {})
        self.in_channels = 3
        if hasattr(module, "eval"):
            module.eval()

    def to(self, device: Any) -> PretrainedFeatures:
        """Move the network to a torch device (batches follow it); returns self."""
        self.module.to(device)
        return self

    def __call__(self, batch):
        import torch
        import torch.nn.functional as F

        x = batch.float()
        if x.shape[1] == 1:
            x = x.expand(-1, 3, *x.shape[2:])
        if self.size is not None:
            if self.dims == 2:
                x = F.interpolate(x, size=self.size, mode="bilinear", align_corners=False)
            else:
                size = (x.shape[2], *self.size)
                x = F.interpolate(x, size=size, mode="trilinear", align_corners=False)
        lo, hi = self.value_range
        x = (x.clamp(-1, 1) + 1) / 2 * (hi - lo) + lo
        with torch.no_grad():
            if self.call_kwargs:
                try:
                    out = self.module(x, **self.call_kwargs)
                except (TypeError, RuntimeError):
                    self.call_kwargs = {}
                    out = self.module(x)
            else:
                out = self.module(x)
        if isinstance(out, (tuple, list)):
            out = out[0]
        return out.reshape(out.shape[0], -1)


_INCEPTION_HINT = (
    "FID needs InceptionV3 weights in a local file: a TorchScript export such as "
    "'inception-2015-12-05.pt' (the NVlabs StyleGAN2-ADA metrics network, "
    "https://api.ngc.nvidia.com/v2/models/nvidia/research/stylegan3/versions/1/files/"
    "metrics/inception-2015-12-05.pkl converted, or any torch.jit.save'd InceptionV3 "
    "returning pool features), or a state dict together with model=<architecture>; "
    "seainpaint never downloads weights"
)
_I3D_HINT = (
    "FVD needs I3D weights in a local file: a TorchScript file such as 'i3d_torchscript.pt' "
    "(the Kinetics-400 I3D used by StyleGAN-V / the FVD reference implementation of "
    "Unterthiner et al. 2018), or a state dict together with model=<architecture>; "
    "seainpaint never downloads weights"
)


def _load_module(path: str | Path, model: Any, hint: str) -> Any:
    import torch

    path = Path(path).expanduser()
    if not path.is_file():
        raise FeatureNetError(f"feature network file {str(path)!r} not found. {hint}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return torch.jit.load(str(path), map_location="cpu")
    except Exception:  # not TorchScript: try a state dict
        pass
    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as err:
        raise FeatureNetError(
            f"cannot read {str(path)!r} as TorchScript or a state dict ({err}). {hint}"
        ) from None
    if isinstance(state, torch.nn.Module):
        return state
    if not isinstance(state, Mapping):
        raise FeatureNetError(f"{str(path)!r} holds a {type(state).__name__}, not weights. {hint}")
    if model is None:
        raise FeatureNetError(
            f"{str(path)!r} is a state dict: pass model=<torch module of the matching "
            f"architecture> to load it into, or give a TorchScript file. {hint}"
        )
    if "state_dict" in state and isinstance(state["state_dict"], Mapping):
        state = state["state_dict"]
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise FeatureNetError(f"weights in {str(path)!r} do not fit the model: {err}") from None
    return model


def load_inception(
    path: str | Path,
    *,
    model: Any = None,
    size: tuple[int, int] | None = (299, 299),
    value_range: tuple[float, float] = (0.0, 255.0),
    call_kwargs: Mapping[str, Any] | None = None,
) -> PretrainedFeatures:
    """Load an InceptionV3 feature network for FID from a local file.

    Parameters
    ----------
    path : str or Path
        TorchScript file, or a state dict (then ``model`` is required).
    model : torch.nn.Module, optional
        Architecture to load a state dict into (its output must be the features).
    size : tuple of int or None
        Input frame size (299 × 299 for InceptionV3).
    value_range : tuple of float
        Input value range; the default (0, 255) suits the StyleGAN2-ADA TorchScript network.
    call_kwargs : dict, optional
        Call keywords; default ``{"return_features": True}`` for TorchScript files.

    Returns
    -------
    PretrainedFeatures
        A feature network to pass to :func:`fid` or :func:`seainpaint.evaluate`.

    Raises
    ------
    FeatureNetError
        The file is missing or unreadable; the message says which file is needed.
    """
    module = _load_module(path, model, _INCEPTION_HINT)
    if call_kwargs is None:
        call_kwargs = {"return_features": True} if model is None else {}
    return PretrainedFeatures(
        module, dims=2, size=size, value_range=value_range, call_kwargs=call_kwargs
    )


def load_i3d(
    path: str | Path,
    *,
    model: Any = None,
    size: tuple[int, int] | None = (224, 224),
    value_range: tuple[float, float] = (-1.0, 1.0),
    call_kwargs: Mapping[str, Any] | None = None,
) -> PretrainedFeatures:
    """Load an I3D feature network for FVD from a local file.

    Parameters are as in :func:`load_inception`; the defaults (224 × 224 input in [-1, 1],
    ``{"rescale": False, "resize": False, "return_features": True}``) suit the StyleGAN-V
    ``i3d_torchscript.pt`` file.

    Raises
    ------
    FeatureNetError
        The file is missing or unreadable; the message says which file is needed.
    """
    module = _load_module(path, model, _I3D_HINT)
    if call_kwargs is None:
        call_kwargs = (
            {"rescale": False, "resize": False, "return_features": True} if model is None else {}
        )
    return PretrainedFeatures(
        module, dims=3, size=size, value_range=value_range, call_kwargs=call_kwargs
    )


# ----------------------------------------------------------------------------- FID / FVD


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


def _batches(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def _net_device(net: FeatureNet) -> Any:
    """The torch device of a feature network's weights (None when it has none)."""
    for module in (getattr(net, "net", None), getattr(net, "module", None), net):
        params = getattr(module, "parameters", None)
        if callable(params):
            try:
                return next(iter(params())).device
            except (StopIteration, TypeError):
                continue
    return None


def _features(net: FeatureNet, arrays: np.ndarray, batch_size: int) -> np.ndarray:
    import torch

    device = _net_device(net)
    feats = []
    for sl in _batches(arrays.shape[0], batch_size):
        batch = torch.from_numpy(np.ascontiguousarray(arrays[sl]))
        out = net(batch.to(device) if device is not None else batch)
        out = out.detach().cpu().numpy() if hasattr(out, "detach") else np.asarray(out)
        feats.append(out.reshape(out.shape[0], -1).astype(np.float64))
    result = np.concatenate(feats)
    if not np.isfinite(result).all():
        raise FeatureNetError("the feature network returned non-finite features")
    return result


def _prepared(truth, filled, obs, mask) -> tuple[np.ndarray, np.ndarray]:
    """Both fields scaled to [-1, 1] by the truth, land and NaN at 0, ``(T, Y, X, C)``."""
    t, f = _pair(truth, filled)
    land = None
    if obs is not None or mask is not None:
        _, land = _observed_and_land(truth, obs, mask)
    scaler = _Scaler(t)
    return scaler(t, land), scaler(f, land)


def _default_net(net: FeatureNet | None, channels: int, dims: int) -> FeatureNet:
    return SmallFeatureNet(in_channels=channels, dims=dims) if net is None else net


def fid(
    truth: xr.DataArray,
    filled: xr.DataArray,
    obs: xr.DataArray | None = None,
    *,
    mask: xr.DataArray | np.ndarray | None = None,
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
        :class:`SmallFeatureNet` (numbers not comparable to published FID). Batches are
        sent to the device of the network's weights (``features.to("cuda")``).
    batch_size : int
        Frames per forward pass.
    eps : float
        Regularisation of :func:`frechet_distance`.
    """
    t, f = _prepared(truth, filled, obs, mask)
    net = _default_net(features, t.shape[-1], 2)
    to_nchw = (0, 3, 1, 2)
    ft = _features(net, t.transpose(to_nchw), batch_size)
    ff = _features(net, f.transpose(to_nchw), batch_size)
    return frechet_distance(*gaussian_stats(ft), *gaussian_stats(ff), eps=eps)


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
    mask: xr.DataArray | np.ndarray | None = None,
    features: FeatureNet | None = None,
    clip_length: int = 16,
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
        :class:`SmallFeatureNet` (numbers not comparable to published FVD).
    clip_length : int
        Frames per clip.

    See :func:`fid` for the other parameters.
    """
    if clip_length < 1:
        raise SeainpaintError(f"clip_length must be >= 1, got {clip_length}")
    t, f = _prepared(truth, filled, obs, mask)
    net = _default_net(features, t.shape[-1], 3)
    ft = _features(net, _clips(t, clip_length), batch_size)
    ff = _features(net, _clips(f, clip_length), batch_size)
    return frechet_distance(*gaussian_stats(ft), *gaussian_stats(ff), eps=eps)
