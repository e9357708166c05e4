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

One module per job: :mod:`~seainpaint.metrics.regions` (which pixels count),
:mod:`~seainpaint.metrics.pointwise` (MAE, RMSE, bias), :mod:`~seainpaint.metrics.spectra`,
:mod:`~seainpaint.metrics.resolution` (PSD score, effective resolution in space and time,
power ratio per band), :mod:`~seainpaint.metrics.probabilistic` (CRPS, coverage and
reliability of a standard error; the CRPS of an ensemble),
:mod:`~seainpaint.metrics.correlation` (how errors correlate in space and time),
:mod:`~seainpaint.metrics.gaps` (how far a hidden pixel lies from an observation),
:mod:`~seainpaint.metrics.temporal`,
:mod:`~seainpaint.metrics.frechet` (FID, FVD) and
:mod:`~seainpaint.metrics.features` (the feature networks, the only one using torch).
"""

from __future__ import annotations

from ..errors import FeatureNetError
from .correlation import error_correlation
from .features import FeatureNet, PretrainedFeatures, SmallFeatureNet, load_i3d, load_inception
from .frechet import fid, frechet_distance, fvd, gaussian_stats
from .gaps import distance_to_observation
from .pointwise import bias, errors_from_arrays, mae, masked_errors, rmse
from .probabilistic import (
    calibration_curve,
    coverage,
    crps_ensemble,
    crps_gaussian,
    gaussian_scores,
)
from .regions import Region, occlusion_rate, region_mask
from .resolution import (
    band_power_ratio,
    effective_resolution,
    grid_spacing_km,
    psd_score,
    time_step_hours,
)
from .spectra import power_spectrum, spectrum_ratio
from .temporal import temporal_ratio, temporal_stats

__all__ = [
    "FeatureNet",
    "FeatureNetError",
    "PretrainedFeatures",
    "Region",
    "SmallFeatureNet",
    "band_power_ratio",
    "bias",
    "calibration_curve",
    "coverage",
    "crps_ensemble",
    "crps_gaussian",
    "distance_to_observation",
    "effective_resolution",
    "error_correlation",
    "errors_from_arrays",
    "fid",
    "frechet_distance",
    "fvd",
    "gaussian_scores",
    "gaussian_stats",
    "grid_spacing_km",
    "load_i3d",
    "load_inception",
    "mae",
    "masked_errors",
    "occlusion_rate",
    "power_spectrum",
    "psd_score",
    "region_mask",
    "rmse",
    "spectrum_ratio",
    "temporal_ratio",
    "temporal_stats",
    "time_step_hours",
]
