"""InpaintModel: filling through seainpaint.fill, save/load, dask, refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

import seainpaint
from seainpaint import InpaintModel, OutputExistsError, SeainpaintError
from seainpaint.model import CONFIG_FILE, WEIGHTS_FILE

TINY = dict(
    window=4,
    patch=16,
    batch_size=2,
    base=4,
    discriminator_options={"base": 4},
    n_val=2,
    progress=False,
)


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
    assert "filled with InpaintModel" in filled.attrs["history"]
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
    # several time chunks: windows and blending differ at chunk seams only slightly
    chunked = obs.chunk({"time": 10}).inpaint.fill(model).compute()
    observed = np.isfinite(obs.values)
    np.testing.assert_array_equal(chunked.values[observed], obs.values[observed])
    land = ~observed.any(axis=0)
    assert np.isnan(chunked.values[:, land]).all()
    diff = np.abs(chunked.values - memory.values)[:, ~land]
    assert np.nanmean(diff) < 0.1 * float(obs.std())


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
