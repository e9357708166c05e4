"""Tests of seainpaint.metrics: masked errors, spectra, temporal stats, Fréchet, FID/FVD."""

from __future__ import annotations

import warnings

import numpy as np
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
