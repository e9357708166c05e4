"""Ensembles: the error correlation a model records, the noise it draws, fill(members=N)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr
from test_netcdf import assert_compliant
from tiny import TINY, one_thread  # noqa: F401  (a fixture)

import seainpaint
from seainpaint import SeainpaintError, synthetic
from seainpaint.inference.ensemble import NoiseModel
from seainpaint.metrics import crps_ensemble, crps_gaussian, error_correlation


def _ar1(n_t: int, shape: tuple[int, ...], phi: float, rng: np.random.Generator) -> np.ndarray:
    """Unit-variance AR(1) series along the first axis: correlation phi**lag."""
    out = np.empty((n_t, *shape))
    out[0] = rng.standard_normal(shape)
    for t in range(1, n_t):
        out[t] = phi * out[t - 1] + np.sqrt(1 - phi**2) * rng.standard_normal(shape)
    return out


def test_error_correlation_measures_a_known_correlation():
    # time: AR(1) with phi 0.8 (ρ = 0.8, 0.64, 0.512); space: white; two channels sharing
    # half their variance (ρ = 0.5); σ = 2 everywhere, so z = error / 2
    rng = np.random.default_rng(0)
    common = _ar1(200, (24, 24), 0.8, rng)
    channels = [np.sqrt(0.5) * common + np.sqrt(0.5) * _ar1(200, (24, 24), 0.8, rng)
                for _ in range(2)]
    error = 2.0 * np.stack(channels)[None]  # (window, channel, time, y, x)
    sigma = np.full_like(error, 2.0)
    counted = np.ones(error.shape, bool)
    counted[..., ::3, :] = False  # pixels that do not count are left out
    rho = error_correlation(error, sigma, counted)
    np.testing.assert_allclose(rho["time"][1:4], [0.8, 0.64, 0.512], atol=0.02)
    assert len(rho["space"]) == 1 or rho["space"][1] < 0.03
    assert abs(rho["channel"] - 0.5) < 0.03
    with pytest.raises(SeainpaintError, match="shape"):
        error_correlation(error, sigma[..., :5], counted)
    with pytest.raises(SeainpaintError, match="too few"):
        error_correlation(error, sigma, np.zeros(error.shape, bool))


def test_noise_has_the_correlation_it_was_given_and_ignores_chunking():
    space = (1.0, 0.84, 0.62, 0.35, 0.12)
    time = (1.0, 0.93, 0.87, 0.82, 0.77, 0.73, 0.7, 0.67, 0.61, 0.56, 0.51, 0.47, 0.44)
    noise = NoiseModel(space, time, channel=0.6)
    z = noise.sample(member=0, start=0, stop=300, shape=(48, 48), channels=2, seed=3)
    assert z.shape == (300, 48, 48, 2) and z.dtype == np.float32
    assert abs(float(z.std()) - 1) < 0.05 and abs(float(z.mean())) < 0.05
    fields = np.moveaxis(z, -1, 0)[None]  # (1, channel, time, y, x)
    rho = error_correlation(fields, np.ones_like(fields), np.ones(fields.shape, bool),
                            max_time_lag=12)
    np.testing.assert_allclose(rho["space"][:5], space, atol=0.05)
    np.testing.assert_allclose(rho["time"][:13], time, atol=0.06)
    assert abs(rho["channel"] - 0.6) < 0.05
    # a frame's noise does not depend on which frames are drawn with it
    part = noise.sample(member=0, start=120, stop=170, shape=(48, 48), channels=2, seed=3)
    np.testing.assert_array_equal(part, z[120:170])
    other = noise.sample(member=1, start=120, stop=170, shape=(48, 48), channels=2, seed=3)
    assert abs(float(np.corrcoef(other.ravel(), part.ravel())[0, 1])) < 0.1
    with pytest.raises(SeainpaintError, match="start at 1"):
        NoiseModel((0.5, 0.2), time)


def test_fair_crps_of_an_ensemble():
    # two members 0 and 2 around a truth of 1: mean |x - y| = 1, half the mean spread 1
    np.testing.assert_allclose(crps_ensemble(np.array([[0.0], [2.0]]), np.array([1.0])), [0.0])
    # members drawn from N(μ, σ²): the fair CRPS is unbiased for the Gaussian CRPS
    rng = np.random.default_rng(1)
    mu, truth = rng.normal(size=50_000), rng.normal(size=50_000)
    members = mu + 0.7 * rng.standard_normal((3, 50_000))
    fair = float(crps_ensemble(members, truth).mean())
    exact = float(crps_gaussian(mu - truth, np.full(50_000, 0.7)).mean())
    assert abs(fair - exact) < 0.01 * exact
    with pytest.raises(SeainpaintError, match="at least two"):
        crps_ensemble(members[:1], truth)


@pytest.fixture(scope="module")
def trained(one_thread):  # noqa: F811  (the fixture)
    land = np.zeros((24, 24), bool)
    land[:4, :6] = True
    truth = synthetic.sst(48, 24, seed=2, land=land)
    obs = truth.inpaint.occlude(seainpaint.RemovePixel(0.35), seed=5)
    with warnings.catch_warnings():  # 3 steps rarely beat step 0: it says so
        warnings.simplefilter("ignore", seainpaint.SeainpaintWarning)
        model = seainpaint.train(obs, steps=3, seed=0,
                                 **{**TINY, "patch": 24, "n_val": 4, "fill_window": 8})
    return obs, model


def test_training_records_the_error_correlation(trained, tmp_path):
    _, model = trained
    rho = model.error_correlation
    assert rho is not None and rho["space"][0] == 1.0 and rho["time"][0] == 1.0
    assert all(0 < r <= 1 for r in rho["space"] + rho["time"]) and rho["channel"] == 0.0
    model.save(tmp_path / "m")
    assert seainpaint.InpaintModel.load(tmp_path / "m").error_correlation == rho


def test_members_keep_observations_and_land_and_vary_by_sigma(trained, tmp_path):
    obs, model = trained
    fill = seainpaint.fill(obs, model, uncertainty=True)
    ens = seainpaint.fill(obs, model, members=12, member_seed=4, uncertainty=True)
    assert ens.dims == ("member", *obs.dims) and ens.sizes["member"] == 12
    assert ens["member"].attrs["standard_name"] == "realization"
    flag = ens.coords["inpaint_flag"].values
    observed, land, filled = flag == 0, flag == 2, (flag == 1) | (flag == 3)
    for member in ens.values:
        np.testing.assert_array_equal(member[observed], obs.values[observed])
        assert np.isnan(member[land]).all() and np.isfinite(member[filled]).all()
    se_name = f"{obs.name}_standard_error"
    se = fill.coords[se_name].values
    np.testing.assert_array_equal(ens.coords[se_name].values, se)
    z = (ens.values - fill.values)[:, filled] / se[filled]
    assert abs(float(np.sqrt(np.mean(z**2))) - 1) < 0.15  # spread = σ
    assert "12 ensemble members" in ens.attrs["history"]
    again = seainpaint.fill(obs, model, members=12, member_seed=4)
    np.testing.assert_array_equal(again.values, ens.values)
    assert se_name not in again.coords
    other = seainpaint.fill(obs, model, members=2, member_seed=5)
    assert not np.allclose(other.values[0][filled], ens.values[0][filled])
    lazy = seainpaint.fill(obs.chunk({"time": 10}), model, members=3, member_seed=4)
    assert lazy.chunks is not None
    np.testing.assert_allclose(lazy.values, ens.values[:3], rtol=0, atol=1e-4)
    path = seainpaint.to_netcdf(ens, tmp_path / "ensemble.nc")
    assert_compliant(path)
    with xr.open_dataset(path) as ds:
        var = ds[obs.name]
        assert var.dims[0] == "member" and ds["inpaint_flag"].dims == obs.dims
        assert ds["member"].attrs["standard_name"] == "realization"
        assert "ensemble" in ds.attrs["keywords"]
        np.testing.assert_array_equal(var.values, ens.values)
    truth = obs.fillna(0.0)
    with pytest.raises(SeainpaintError, match="isel"):  # an ensemble is not one field
        seainpaint.evaluate(truth, obs, {"ensemble": ens}, features=False)
    scores = seainpaint.evaluate(truth, obs, {"member": ens.isel(member=0)}, features=False)
    assert scores.loc["member", "RMSE observed"] == 0


def test_members_are_refused_without_what_they_need(trained):
    obs, model = trained
    with pytest.raises(SeainpaintError, match="uncertainty head"):
        seainpaint.fill(obs, "linear", members=2)
    for bad in (0, 2.5, True):
        with pytest.raises(SeainpaintError, match="members must be a positive integer"):
            seainpaint.fill(obs, model, members=bad)
    with pytest.raises(SeainpaintError, match="member_seed"):
        seainpaint.fill(obs, model, members=2, member_seed=-1)
    old = seainpaint.InpaintModel(model.generator, {**model.config, "error_correlation": None},
                                  land=model.land, grid=model.grid)
    with pytest.raises(SeainpaintError, match="retrain"):
        seainpaint.fill(obs, old, members=2)


def test_fill_command_writes_members(trained, tmp_path):
    from typer.testing import CliRunner

    from seainpaint.cli import app

    obs, model = trained
    model.save(tmp_path / "model")
    obs.to_netcdf(tmp_path / "cloudy.nc")
    out = tmp_path / "ensemble.nc"
    args = ["fill", str(tmp_path / "cloudy.nc"), "-o", str(out), "--members", "3"]
    refused = CliRunner().invoke(app, [*args, "--method", "linear"])
    assert refused.exit_code == 2 and "--model" in refused.output and not out.exists()
    result = CliRunner().invoke(app, [*args, "--model", str(tmp_path / "model"),
                                      "--member-seed", "7"])
    assert result.exit_code == 0, result.output
    expected = seainpaint.fill(obs, model, members=3, member_seed=7)
    with xr.open_dataset(out) as ds:
        assert ds[obs.name].sizes["member"] == 3
        np.testing.assert_allclose(ds[obs.name].values, expected.values, rtol=0, atol=1e-6)
