"""InpaintModel: filling through seainpaint.fill, save/load, dask, refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr
from tiny import TINY

import seainpaint
from seainpaint import InpaintModel, OutputExistsError, SeainpaintError
from seainpaint.model import CONFIG_FILE, WEIGHTS_FILE


def _field(n_time: int = 20, size: int = 16, seed: int = 0) -> xr.DataArray:
    rng = np.random.default_rng(seed)
    t = np.arange(n_time)[:, None, None]
    yy = np.linspace(0, 3, size)[None, :, None]
    xx = np.linspace(0, 3, size)[None, None, :]
    values = 18.0 + np.sin(t / 5.0) + np.cos(yy) * np.sin(xx) + 0.05 * rng.normal(
        size=(n_time, size, size)
    )
    values[:, :3, :4] = np.nan  # land
    return xr.DataArray(
        values.astype(np.float32),
        dims=("time", "latitude", "longitude"),
        coords={
            "time": np.arange(n_time) * np.timedelta64(1, "h") + np.datetime64("2020-01-01"),
            "latitude": np.linspace(10.0, 12.0, size),
            "longitude": np.linspace(-30.0, -28.0, size),
        },
        name="thetao",
        attrs={"units": "degree_Celsius", "standard_name": "sea_surface_temperature"},
    )


@pytest.fixture(scope="module")
def obs() -> xr.DataArray:
    return seainpaint.occlude(_field(), seainpaint.RemovePixel(0.4), seed=3)


@pytest.fixture(scope="module")
def model(obs: xr.DataArray) -> InpaintModel:
    return seainpaint.train(obs, steps=1, seed=1, **TINY)


def test_fill_keeps_observed_land_coords_and_attrs(obs, model):
    filled = obs.inpaint.fill(model)
    assert filled.dims == obs.dims and filled.shape == obs.shape
    for name in obs.coords:
        np.testing.assert_array_equal(filled[name].values, obs[name].values)
    assert filled.name == obs.name
    assert filled.attrs["units"] == obs.attrs["units"]
    assert f"filled with {model.label}" in filled.attrs["history"]
    assert model.label.startswith("learned (self-supervised)")  # no adversarial term: no "GAN"
    assert filled.attrs["seainpaint_method"] == model.method == "learned (self-supervised)"
    observed = np.isfinite(obs.values)
    land = ~observed.any(axis=0)
    # observed pixels come back bit-for-bit, land stays NaN, every other gap is filled
    np.testing.assert_array_equal(filled.values[observed], obs.values[observed])
    assert np.isnan(filled.values[:, land]).all()
    assert np.isfinite(filled.values[:, ~land]).all()
    # the predictions are in physical units, near the field's range
    gaps = ~observed & ~land[None]
    assert np.nanmin(obs.values) - 3 < filled.values[gaps].min()
    assert filled.values[gaps].max() < np.nanmax(obs.values) + 3
    assert set(np.unique(filled["inpaint_flag"].values)) == {0, 1, 2}


def test_save_load_identical_fill(tmp_path, obs, model):
    out = model.save(tmp_path / "model")
    assert (out / WEIGHTS_FILE).is_file() and (out / CONFIG_FILE).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no temporary left
    config = json.loads((out / CONFIG_FILE).read_text())
    for key in ("generator", "normalization", "process", "data", "versions", "window"):
        assert key in config
    assert config["data"]["variable"] == "thetao"
    assert config["data"]["units"] == "degree_Celsius"
    assert config["process"]["name"] == "RemovePixel"
    assert "torch" in config["versions"]
    loaded = InpaintModel.load(out)
    a = obs.inpaint.fill(model)
    b = obs.inpaint.fill(loaded)
    np.testing.assert_array_equal(a.values, b.values)
    with pytest.raises(OutputExistsError):
        model.save(out)
    model.save(out, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_load_rejects_non_model_dir(tmp_path):
    with pytest.raises(SeainpaintError, match="not a seainpaint model"):
        InpaintModel.load(tmp_path)


def test_dask_input_is_lazy_and_matches_memory(obs, model):
    memory = obs.inpaint.fill(model)
    one_chunk = obs.chunk({"time": -1})
    lazy = one_chunk.inpaint.fill(model)
    assert lazy.chunks is not None
    np.testing.assert_array_equal(lazy.compute().values, memory.values)
    # several time chunks: windows are placed on the global time index, so the result is
    # the in-memory one to float rounding, whatever the chunking
    for chunks in ({"time": 10}, {"time": 3, "latitude": 5}, {"time": 7, "longitude": 9}):
        chunked = obs.chunk(chunks).inpaint.fill(model).compute()
        np.testing.assert_allclose(chunked.values, memory.values, rtol=0, atol=1e-4)


def test_refuses_other_variable_and_units(obs, model):
    renamed = obs.rename("analysed_sst")
    with pytest.raises(SeainpaintError, match="variable 'thetao'"):
        renamed.inpaint.fill(model)
    kelvin = (obs + 273.15).assign_attrs(units="K")
    kelvin.name = "thetao"
    with pytest.raises(SeainpaintError, match="units"):
        kelvin.inpaint.fill(model)
    # the override fills anyway
    filled = renamed.inpaint.fill(model, check=False)
    assert np.isfinite(filled.values[np.isfinite(obs.values)]).all()
    # unit spellings of the same unit are accepted
    same = obs.assign_attrs(units="degC")
    assert same.inpaint.fill(model).shape == obs.shape


def test_refuses_wrong_channel_count(obs, model):
    two = xr.concat([obs, obs], dim="channel").transpose("time", "latitude", "longitude", ...)
    two.name = "thetao"
    two.attrs = dict(obs.attrs)
    with pytest.raises(SeainpaintError, match="channel"):
        two.inpaint.fill(model)


def _trained_on_hourly(n_time: int = 48, **options) -> tuple[xr.DataArray, InpaintModel]:
    truth = _field(n_time=n_time, size=24, seed=2)
    obs = seainpaint.occlude(truth, seainpaint.RemovePixel(0.35), seed=5)
    return obs, seainpaint.train(obs, steps=2, seed=0, **{**TINY, "patch": 24, **options})


def test_chunked_fill_equals_eager_with_long_context():
    # long series, windows of 8 frames and a temporal context of 12 frames each way: the
    # context crosses several chunk boundaries and must still match the eager fill
    obs, model = _trained_on_hourly(fill_window=8, reach=12)
    eager = obs.inpaint.fill(model)
    for time_chunk in (5, 8, 16):
        lazy = obs.chunk({"time": time_chunk}).inpaint.fill(model)
        np.testing.assert_allclose(lazy.values, eager.values, rtol=0, atol=1e-4)


def test_model_fill_is_lazy_until_computed():
    from daskcheck import raise_if_dask_computes

    obs, model = _trained_on_hourly(n_time=24)
    lazy_obs = obs.chunk({"time": 8})
    with raise_if_dask_computes():
        filled = lazy_obs.inpaint.fill(model)
    assert filled.chunks is not None
    np.testing.assert_allclose(filled.values, obs.inpaint.fill(model).values, atol=1e-4)


@pytest.mark.parametrize("scheduler", ["threads", "processes", "distributed"])
def test_model_fill_is_identical_under_every_scheduler(scheduler):
    import dask

    obs, model = _trained_on_hourly(n_time=24)
    expected = obs.inpaint.fill(model).values
    lazy = obs.chunk({"time": 8, "latitude": 12}).inpaint.fill(model)
    if scheduler == "distributed":
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster):
            got = lazy.compute().values  # the model and the graph travel to the workers
    else:
        with dask.config.set(scheduler=scheduler, num_workers=2):
            got = lazy.values
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4)


def test_uncertainty_is_written_for_filled_pixels_only(tmp_path):
    obs, model = _trained_on_hourly(n_time=24)
    assert model.has_uncertainty
    filled = seainpaint.fill(obs, model, uncertainty=True)
    se = filled.coords["thetao_standard_error"]
    flag = filled.coords["inpaint_flag"].values
    assert np.isnan(se.values[flag == 0]).all() and np.isnan(se.values[flag == 2]).all()
    assert np.isfinite(se.values[flag == 1]).all() and (se.values[flag == 1] > 0).all()
    assert se.attrs["units"] == obs.attrs["units"]
    path = seainpaint.to_netcdf(filled, tmp_path / "filled.nc")
    with xr.open_dataset(path) as ds:
        assert "thetao_standard_error" in ds
        assert "thetao_standard_error" in ds["thetao"].attrs["ancillary_variables"]
    with pytest.raises(SeainpaintError, match="uncertainty"):
        seainpaint.fill(obs, "linear", uncertainty=True)
    paper = seainpaint.train(obs, steps=1, loss="paper", **{**TINY, "patch": 24})
    with pytest.raises(SeainpaintError, match="uncertainty"):
        seainpaint.fill(obs, paper, uncertainty=True)


def test_training_land_fills_persistent_clouds_of_a_short_window(tmp_path):
    truth = _field(n_time=40, size=24, seed=3)
    obs = seainpaint.occlude(truth, seainpaint.RemovePixel(0.3), seed=1)
    obs[5:12, 10:13, 10:13] = np.nan  # cloudy for 7 hours: a window of them never sees it
    model = seainpaint.train(obs, steps=1, **{**TINY, "patch": 24})
    model = InpaintModel.load(model.save(tmp_path / "m"))
    short = obs.isel(time=slice(5, 12))
    filled = short.inpaint.fill(model)
    flag = filled.coords["inpaint_flag"].values
    assert (flag[:, 10:13, 10:13] == 3).all()  # sea, never observed here: filled
    assert np.isfinite(filled.values[:, 10:13, 10:13]).all()
    assert (flag[:, :3, :4] == 2).all() and np.isnan(filled.values[:, :3, :4]).all()
    # another grid: the model's land does not apply, never-observed pixels are land
    moved = short.assign_coords(latitude=short.latitude + 5.0)
    assert (moved.inpaint.fill(model).coords["inpaint_flag"].values[:, 10:13, 10:13] == 2).all()


def _write_model(tmp_path, model):
    return model.save(tmp_path / "model")


def test_corrupt_model_files_raise_model_errors(tmp_path, model):
    good = _write_model(tmp_path, model)
    weights = good / WEIGHTS_FILE
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])  # truncated
    with pytest.raises(seainpaint.ModelError, match="weights.safetensors"):
        InpaintModel.load(good)
    weights.write_bytes(b"\x00garbage" * 10)
    with pytest.raises(seainpaint.ModelError, match="weights.safetensors"):
        InpaintModel.load(good)
    weights.write_bytes(data)
    config_path = good / CONFIG_FILE
    config = json.loads(config_path.read_text())
    for broken, match in [
        ({k: v for k, v in config.items() if k != "generator"}, "generator"),
        ([config], "JSON object"),
        ({**config, "fill_value": "one"}, "fill_value|bad value"),
        ({**config, "normalization": {**config["normalization"], "scale": [float("nan")]}},
         "normalisation"),
    ]:
        config_path.write_text(json.dumps(broken))
        with pytest.raises(seainpaint.ModelError, match=match):
            InpaintModel.load(good)
    config_path.write_text("{not json")
    with pytest.raises(seainpaint.ModelError, match="JSON"):
        InpaintModel.load(good)


def test_cli_fill_with_a_corrupt_model_exits_2_with_one_line(tmp_path, obs, model):
    from typer.testing import CliRunner

    from seainpaint.cli import app

    good = _write_model(tmp_path, model)
    (good / WEIGHTS_FILE).write_bytes(b"nope")
    store = tmp_path / "obs.nc"
    seainpaint.to_netcdf(obs.inpaint.fill("climatology"), store)
    result = CliRunner().invoke(app, ["fill", str(store), "--model", str(good), "-o",
                                      str(tmp_path / "out.nc")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
