"""Tests of seainpaint.metrics: masked errors, spectra, temporal stats, Fréchet, FID/FVD."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr

from seainpaint import metrics
from seainpaint.errors import MaskError, SeainpaintError


def smooth_field(n_time: int = 16, size: int = 24, seed: int = 0) -> xr.DataArray:
    rng = np.random.default_rng(seed)
    t = np.arange(n_time)[:, None, None]
    y = np.arange(size)[None, :, None]
    x = np.arange(size)[None, None, :]
    phase = rng.uniform(0, 2 * np.pi)
    values = (
        20.0
        + np.sin(2 * np.pi * (x / size + t / 20) + phase)
        + 0.5 * np.cos(2 * np.pi * 2 * y / size)
    )
    return xr.DataArray(
        values,
        dims=("time", "latitude", "longitude"),
        coords={
            "time": np.arange(n_time),
            "latitude": np.linspace(-10, 10, size),
            "longitude": np.linspace(0, 20, size),
        },
        name="sst",
    )


def make_obs(truth: xr.DataArray, seed: int = 1, rate: float = 0.4) -> xr.DataArray:
    rng = np.random.default_rng(seed)
    keep = rng.random(truth.shape) > rate
    keep[:, :3, :3] = False  # land: never observed
    return truth.where(keep)


def test_errors_hand_made_case():
    truth = xr.DataArray(np.zeros((2, 2, 2)), dims=("time", "y", "x"))
    obs = truth.copy()
    obs[0, 0, 0] = np.nan  # occluded (observed at t=1)
    obs[1, 1, 1] = np.nan  # occluded (observed at t=0)
    obs[:, 0, 1] = np.nan  # land
    filled = truth.copy()
    filled[0, 0, 0] = 3.0
    filled[1, 1, 1] = -1.0
    filled[:, 0, 1] = 100.0  # land must not count
    filled[1, 0, 0] = 0.5  # observed pixel
    err = metrics.masked_errors(truth, filled, obs)
    assert err["n"] == 2
    assert err["mae"] == pytest.approx(2.0)
    assert err["rmse"] == pytest.approx(np.sqrt((9 + 1) / 2))
    assert err["bias"] == pytest.approx(1.0)
    assert err["unfilled"] == 0
    # observed pixels: 4 values (8 - 2 occluded - 2 land), one off by 0.5
    assert metrics.mae(truth, filled, obs, region="observed") == pytest.approx(0.5 / 4)
    # the same through a boolean mask instead of obs
    mask = np.isfinite(obs.values)
    assert metrics.rmse(truth, filled, mask=mask) == pytest.approx(err["rmse"])
    assert metrics.bias(truth, filled, mask=mask) == pytest.approx(1.0)
    assert metrics.occlusion_rate(obs) == pytest.approx(2 / 6)


def test_errors_count_unfilled_and_transposed_input():
    truth = smooth_field()
    obs = make_obs(truth)
    filled = truth + 0.25
    filled = filled.where(~(np.isnan(obs) & (truth.time == 0)))  # leave frame 0 gaps NaN
    err = metrics.masked_errors(truth, filled.transpose("longitude", "time", "latitude"), obs)
    assert err["mae"] == pytest.approx(0.25)
    assert 0 < err["unfilled"] < 0.2


def test_errors_bad_input():
    truth = smooth_field()
    with pytest.raises(MaskError, match="exactly one"):
        metrics.masked_errors(truth, truth)
    with pytest.raises(SeainpaintError, match="shape"):
        metrics.masked_errors(truth, truth.isel(time=slice(0, 4)), make_obs(truth))
    with pytest.raises(MaskError):
        metrics.masked_errors(truth, truth, mask=np.ones((2, 2, 2), dtype=bool))


def test_frechet_distance_closed_form_diagonal():
    rng = np.random.default_rng(0)
    d = 6
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    v1, v2 = rng.uniform(0.5, 2, d), rng.uniform(0.5, 2, d)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(v1) - np.sqrt(v2)) ** 2)
    got = metrics.frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2))
    assert got == pytest.approx(expected, rel=1e-6)
    assert metrics.frechet_distance(mu1, np.diag(v1), mu1, np.diag(v1)) == pytest.approx(
        0.0, abs=1e-8
    )


def test_frechet_distance_full_covariance_and_samples():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(4, 4))
    s1 = a @ a.T + np.eye(4)
    # commuting case: s2 = 4 s1 gives Tr(s1 + 4 s1 - 2*2 s1) = Tr(s1)
    got = metrics.frechet_distance(np.zeros(4), s1, np.ones(4), 4 * s1)
    assert got == pytest.approx(4 + np.trace(s1), rel=1e-6)
    # estimates from samples converge to the analytic value
    x = rng.normal(size=(20000, 3))
    y = rng.normal(size=(20000, 3)) * 2 + 1
    est = metrics.frechet_distance(*metrics.gaussian_stats(x), *metrics.gaussian_stats(y))
    assert est == pytest.approx(3 * 1 + 3 * (2 - 1) ** 2, rel=0.05)


def test_frechet_distance_singular_covariance():
    rng = np.random.default_rng(2)
    feats = rng.normal(size=(5, 32))  # 5 samples, 32 dims: rank-deficient covariance
    mu, s = metrics.gaussian_stats(feats)
    assert metrics.frechet_distance(mu, s, mu, s) == pytest.approx(0.0, abs=1e-6)
    mu2, s2 = metrics.gaussian_stats(feats + 1.0)
    assert metrics.frechet_distance(mu, s, mu2, s2) == pytest.approx(32.0, rel=1e-3)


def test_fid_fvd_small_net_end_to_end():
    truth = smooth_field(n_time=16, size=24)
    obs = make_obs(truth)
    assert metrics.fid(truth, truth, obs) == pytest.approx(0.0, abs=1e-6)
    assert metrics.fvd(truth, truth, obs, clip_length=4) == pytest.approx(0.0, abs=1e-6)
    near = metrics.fid(truth, truth + 0.05, obs)
    far = metrics.fid(truth, truth + 0.5, obs)
    assert 0 < near < far
    fvd_near = metrics.fvd(truth, truth + 0.05, obs, clip_length=4)
    fvd_far = metrics.fvd(truth, truth + 0.5, obs, clip_length=4)
    assert 0 < fvd_near < fvd_far
    # shuffling frames in time leaves FID but not FVD unchanged
    shuffled = truth.copy(data=truth.values[np.random.default_rng(0).permutation(16)])
    assert metrics.fid(truth, shuffled) == pytest.approx(0.0, abs=1e-4)
    assert metrics.fvd(truth, shuffled, clip_length=4) > 1e-3


def test_small_feature_net_seeded_and_rgb():
    a = metrics.SmallFeatureNet(in_channels=3, dims=3, seed=5)
    b = metrics.SmallFeatureNet(in_channels=3, dims=3, seed=5)
    c = metrics.SmallFeatureNet(in_channels=3, dims=3, seed=6)
    x = torch.randn(2, 3, 4, 16, 16)
    assert torch.equal(a(x), b(x))
    assert not torch.equal(a(x), c(x))
    assert a(x).shape == (2, a.n_features)


def test_load_feature_nets_from_local_files(tmp_path):
    missing = tmp_path / "inception-2015-12-05.pt"
    with pytest.raises(metrics.FeatureNetError, match="InceptionV3.*never downloads"):
        metrics.load_inception(missing)
    with pytest.raises(metrics.FeatureNetError, match="I3D"):
        metrics.load_i3d(tmp_path / "i3d_torchscript.pt")
    # a TorchScript file is used as is
    net = metrics.SmallFeatureNet(in_channels=3, dims=2, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        scripted = torch.jit.trace(net.net, torch.randn(1, 3, 32, 32))
    path = tmp_path / "frames.pt"
    scripted.save(str(path))
    loaded = metrics.load_inception(path, size=(32, 32), value_range=(-1, 1))
    truth = smooth_field(n_time=8, size=32)
    assert metrics.fid(truth, truth, features=loaded) == pytest.approx(0.0, abs=1e-6)
    assert metrics.fid(truth, truth + 1.0, features=loaded) > 0
    # a state dict needs the architecture
    state_path = tmp_path / "i3d_state.pt"
    net3 = metrics.SmallFeatureNet(in_channels=3, dims=3, seed=4)
    torch.save(net3.net.state_dict(), state_path)
    with pytest.raises(metrics.FeatureNetError, match="state dict"):
        metrics.load_i3d(state_path)
    fresh = metrics.SmallFeatureNet(in_channels=3, dims=3, seed=99)
    i3d = metrics.load_i3d(state_path, model=fresh.net, size=None)
    x = torch.rand(2, 1, 4, 16, 16) * 2 - 1
    assert torch.allclose(i3d(x), net3(x.expand(-1, 3, -1, -1, -1)))
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not weights")
    with pytest.raises(metrics.FeatureNetError, match="cannot read"):
        metrics.load_inception(garbage)


def test_spectrum_ratio_detects_smoothing():
    truth = smooth_field(n_time=8, size=32)
    rng = np.random.default_rng(3)
    truth = truth + 0.3 * rng.normal(size=truth.shape)  # small-scale structure
    obs = make_obs(truth)
    same = metrics.spectrum_ratio(truth, truth, obs)
    assert all(v == pytest.approx(1.0) for v in same.values())
    smooth = truth.rolling(latitude=5, longitude=5, center=True, min_periods=1).mean()
    ratio = metrics.spectrum_ratio(truth, smooth, obs, n_bands=3)
    values = list(ratio.values())
    assert len(values) == 3
    assert values[-1] < 0.2 < values[0]
    psd = metrics.power_spectrum(truth)
    assert psd.dims == ("wavenumber",) and float(psd["wavenumber"].max()) == pytest.approx(0.5)


def test_temporal_statistics():
    truth = smooth_field(n_time=20, size=16)
    rng = np.random.default_rng(4)
    noisy = truth + 0.5 * rng.normal(size=truth.shape)
    obs = make_obs(truth)
    stats = metrics.temporal_ratio(truth, noisy, obs)
    assert stats["diff_std_ratio"] > 1.5
    assert stats["autocorr_filled"] < stats["autocorr_truth"]
    frozen = truth.isel(time=[0] * 20).assign_coords(time=truth.time)
    assert metrics.temporal_ratio(truth, frozen, obs)["diff_std_ratio"] == pytest.approx(0.0)
    assert metrics.temporal_stats(truth)["autocorr"] > 0.8


def test_fid_with_a_plain_callable_matches_closed_form():
    truth = smooth_field(n_time=12, size=16)
    shift = 0.3
    span = float(truth.max() - truth.min())

    def mean_and_std(batch):  # any callable mapping (N, C, H, W) to (N, D) works
        return torch.stack([batch.mean(dim=(1, 2, 3)), batch.std(dim=(1, 2, 3))], dim=1)

    got = metrics.fid(truth, truth + shift, features=mean_and_std)
    # both sets are scaled by the truth's range: frame means move by 2*shift/span, the
    # std feature and the covariance are unchanged
    assert got == pytest.approx((2 * shift / span) ** 2, rel=1e-3)
    net = metrics.SmallFeatureNet(seed=1).to("cpu")
    assert metrics.fid(truth, truth, features=net) == pytest.approx(0.0, abs=1e-6)


def test_only_the_feature_network_module_imports_torch():
    """The error, spectrum and Fréchet metrics work without torch; FID/FVD features need it."""
    import ast
    from pathlib import Path

    folder = Path(metrics.__file__).parent
    users = set()
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name.split(".")[0] == "torch" for name in names):
                users.add(path.name)
    assert users == {"features.py"}


# ------------------------------------------------- field-standard scores (issue 16)

# PSD score of a Gaussian smoothing (std s) of white noise: the error is (T − 1)·truth with
# the transfer function T(k) = exp(−2π²s²k²), so score(k) = 1 − (1 − T)². It is 0.5 where
# T = 1 − 1/√2, i.e. at the wavelength λ = 1/k = s·√(2π² / ln(1/(1 − 1/√2))) ≈ 4.01 s.
CROSSING_T = 1 - 1 / np.sqrt(2)


def gaussian_crossing(s: float) -> float:
    """Wavelength (in the units of s) where the PSD score of a Gaussian smoothing is 0.5."""
    return s * np.sqrt(2 * np.pi**2 / np.log(1 / CROSSING_T))


def white_noise(shape, seed=0, *, dims=("time", "y", "x"), coords=None) -> xr.DataArray:
    rng = np.random.default_rng(seed)
    return xr.DataArray(20 + rng.normal(size=shape), dims=dims, coords=coords, name="sst")


@pytest.mark.parametrize("s", [1.5, 2.5])
def test_effective_resolution_of_gaussian_smoothing(s):
    from scipy.ndimage import gaussian_filter

    truth = white_noise((8, 64, 64))
    smooth = truth.copy(data=gaussian_filter(truth.values, sigma=(0, s, s), mode="nearest"))
    expected = gaussian_crossing(s)
    got = metrics.effective_resolution(truth, smooth)
    assert got == pytest.approx(expected, rel=0.05)
    # the score curve itself follows 1 − (1 − T)² around the crossing
    score = metrics.psd_score(truth, smooth)
    k = score["wavenumber"].values
    theory = 1 - (1 - np.exp(-2 * np.pi**2 * s**2 * k**2)) ** 2
    near = np.abs(1 / k - expected) < 0.5 * expected
    np.testing.assert_allclose(score.values[near], theory[near], atol=0.1)
    # land (NaN in both) and a mean offset of the fill do not move it
    land = np.zeros((64, 64), dtype=bool)
    land[:20, :25] = True
    on_land = metrics.effective_resolution(truth.where(~land), (smooth + 3).where(~land))
    assert on_land == pytest.approx(expected, rel=0.05)


def test_effective_resolution_cannot_be_computed():
    truth = white_noise((6, 32, 32))
    # perfect fill: the score is 1 at every wavelength, it never crosses 0.5
    assert np.isnan(metrics.effective_resolution(truth, truth))
    # unrelated noise: the score is about −1 already at the longest wavelength
    assert np.isnan(metrics.effective_resolution(truth, white_noise((6, 32, 32), seed=9)))
    # a grid too small for two wavenumber bins
    assert np.isnan(metrics.effective_resolution(truth[:, :3, :3], truth[:, :3, :3] * 0))
    with pytest.raises(SeainpaintError, match="km"):
        metrics.effective_resolution(truth, truth, units="km")  # no latitude/longitude
    with pytest.raises(SeainpaintError, match="along"):
        metrics.psd_score(truth, truth, along="depth")


def test_effective_resolution_in_km_at_60_degrees():
    from scipy.ndimage import gaussian_filter

    # 0.1° grid at 60°N: 11.1 km in latitude, 5.56 km in longitude; a smoothing of 2 px in
    # y and 4 px in x is one isotropic Gaussian of 2 × 11.1 km
    lat = 60 + 0.1 * (np.arange(64) - 31.5)
    lon = 0.1 * np.arange(128)
    truth = white_noise(
        (6, 64, 128),
        dims=("time", "latitude", "longitude"),
        coords={"latitude": lat, "longitude": lon},
    )
    dy, dx = metrics.grid_spacing_km(truth)
    assert dy == pytest.approx(0.1 * np.pi * 6371.0088 / 180)
    assert dx == pytest.approx(dy * np.cos(np.radians(60)))
    smooth = truth.copy(data=gaussian_filter(truth.values, sigma=(0, 2, 4), mode="nearest"))
    got = metrics.effective_resolution(truth, smooth, units="km")
    assert got == pytest.approx(gaussian_crossing(2 * dy), rel=0.05)


def test_effective_resolution_in_time():
    from scipy.ndimage import gaussian_filter1d

    times = pd.date_range("2020-01-01", periods=256, freq="3h")
    truth = white_noise((256, 6, 6), coords={"time": times})
    smooth = truth.copy(data=gaussian_filter1d(truth.values, 2.0, axis=0, mode="nearest"))
    assert metrics.time_step_hours(truth) == pytest.approx(3.0)
    steps = metrics.effective_resolution(truth, smooth, along="time")
    hours = metrics.effective_resolution(truth, smooth, along="time", units="h")
    assert steps == pytest.approx(gaussian_crossing(2.0), rel=0.05)
    assert hours == pytest.approx(3 * gaussian_crossing(2.0), rel=0.05)
    with pytest.raises(SeainpaintError, match="datetime"):
        metrics.effective_resolution(truth.drop_vars("time"), smooth, along="time", units="h")


def test_band_power_ratio_known_answers():
    from scipy.ndimage import gaussian_filter

    truth = white_noise((6, 48, 48))
    obs = make_obs(truth)
    assert metrics.band_power_ratio(truth, truth, obs) == pytest.approx(
        {"low": 1.0, "mid": 1.0, "high": 1.0}
    )
    # half the anomaly (plus any offset: the mean is removed) has a quarter of the power
    mean = float(truth.mean())
    halved = mean + 5 + 0.5 * (truth - mean)
    assert metrics.band_power_ratio(truth, halved, obs) == pytest.approx(
        {"low": 0.25, "mid": 0.25, "high": 0.25}
    )
    # a Gaussian smoothing of white noise keeps T(k)² of the power at wavenumber k
    smooth = truth.copy(data=gaussian_filter(truth.values, sigma=(0, 1, 1), mode="nearest"))
    ratio = metrics.band_power_ratio(truth, smooth, obs)
    k = np.arange(1, 25) / 48  # the 24 radial bins of a 48 × 48 grid, in thirds
    kept = np.exp(-4 * np.pi**2 * k**2).reshape(3, 8).mean(axis=1)
    np.testing.assert_allclose(list(ratio.values()), kept, atol=0.03)


def crps_by_integration(error: float, sigma: float) -> float:
    """∫ (F(x) − 1{x ≥ y})² dx for the forecast N(error, σ²) and the outcome y = 0."""
    from scipy.integrate import quad
    from scipy.stats import norm

    def below(x):
        return norm.cdf(x, loc=error, scale=sigma) ** 2

    def above(x):
        return (1 - norm.cdf(x, loc=error, scale=sigma)) ** 2

    lo, hi = error - 12 * sigma, error + 12 * sigma
    return quad(below, min(lo, 0), 0)[0] + quad(above, 0, max(hi, 0))[0]


def test_crps_gaussian_matches_its_definition():
    errors = np.array([0.0, 0.3, -1.2, 2.5])
    sigmas = np.array([0.5, 1.0, 0.7, 0.4])
    got = metrics.crps_gaussian(errors, sigmas)
    expected = [crps_by_integration(e, s) for e, s in zip(errors, sigmas, strict=True)]
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    # the forecast's mean on the outcome: σ(√2 − 1)/√π; σ = 0: the absolute error
    assert got[0] == pytest.approx(0.5 * (np.sqrt(2) - 1) / np.sqrt(np.pi))
    np.testing.assert_allclose(metrics.crps_gaussian(np.array([-0.7]), np.array([0.0])), [0.7])


def test_calibrated_gaussian_scores():
    rng = np.random.default_rng(5)
    sigma = rng.uniform(0.2, 2.0, size=200_000)
    error = sigma * rng.normal(size=sigma.size)
    scores = metrics.gaussian_scores(error, sigma)
    # errors N(0, σ²) forecast with σ: mean CRPS σ/√π, coverage Φ(1) − Φ(−1) and 2σ
    assert scores["crps"] == pytest.approx(sigma.mean() / np.sqrt(np.pi), rel=0.01)
    assert scores["coverage_1"] == pytest.approx(0.6827, abs=0.005)
    assert scores["coverage_2"] == pytest.approx(0.9545, abs=0.005)
    assert scores["n"] == sigma.size
    levels = [0.1, 0.5, 0.9]
    np.testing.assert_allclose(metrics.calibration_curve(error, sigma, levels), levels, atol=0.01)
    # σ twice too small: over-confident, the curve lies below the diagonal
    assert metrics.coverage(error, sigma / 2, 1) == pytest.approx(0.3829, abs=0.005)
    assert (metrics.calibration_curve(error, sigma / 2, levels) < np.array(levels) - 0.04).all()
    assert np.isnan(metrics.gaussian_scores(np.array([np.nan]), np.array([1.0]))["crps"])
    with pytest.raises(SeainpaintError, match="probabilities"):
        metrics.calibration_curve(error, sigma, [0.5, 1.5])
    with pytest.raises(SeainpaintError, match="negative"):
        metrics.coverage(error[:3], -sigma[:3], 1)
