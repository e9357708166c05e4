"""seainpaint.fill and the accessor: the data model holds for every method."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import seainpaint as si
from seainpaint import synthetic
from seainpaint.conventions import FLAG_FILLED, FLAG_LAND, FLAG_OBSERVED


@pytest.fixture(scope="module")
def case():
    land = np.zeros((24, 24), dtype=bool)
    land[:4, :6] = True
    truth = synthetic.sst(30, 24, seed=2, land=land)
    truth.attrs["history"] = "made by a test"
    obs = truth.inpaint.occlude(si.RemovePixel(0.3), seed=1)
    return truth, obs, land


@pytest.mark.parametrize("method", ["dineof", "climatology", "linear"])
def test_observed_exact_land_nan_coords_attrs_history(case, method):
    truth, obs, land = case
    filled = obs.inpaint.fill(method)
    observed = np.isfinite(obs.values)
    assert filled.values[observed].tobytes() == obs.values[observed].tobytes()
    assert np.isnan(filled.values[:, land]).all()
    assert np.isfinite(filled.values[:, ~land]).all()
    assert filled.dims == obs.dims and filled.dtype == obs.dtype and filled.name == obs.name
    for name in ("time", "latitude", "longitude"):
        xr.testing.assert_identical(filled[name].drop_vars("inpaint_flag", errors="ignore"),
                                    obs[name])
    assert filled.attrs["units"] == obs.attrs["units"]
    history = filled.attrs["history"].splitlines()
    assert history[0] == "made by a test" and method in history[-1]
    flag = filled["inpaint_flag"].values
    assert set(np.unique(flag)) == {FLAG_OBSERVED, FLAG_FILLED, FLAG_LAND}
    assert np.array_equal(flag == FLAG_OBSERVED, observed)
    assert np.all(flag[:, land] == FLAG_LAND)


def test_transposed_input_keeps_its_order(case):
    _, obs, _ = case
    swapped = obs.transpose("longitude", "time", "latitude")
    filled = swapped.inpaint.fill("linear")
    assert filled.dims == swapped.dims
    xr.testing.assert_allclose(
        filled.transpose(*obs.dims).drop_vars("inpaint_flag"),
        obs.inpaint.fill("linear").drop_vars("inpaint_flag"),
    )


def test_dask_input_gives_the_same_fill(case):
    _, obs, _ = case
    lazy = obs.chunk({"time": 10})
    filled = lazy.inpaint.fill("linear")
    np.testing.assert_array_equal(filled.values, obs.inpaint.fill("linear").values)


def test_unknown_method_and_bad_objects_are_named(case):
    _, obs, _ = case
    with pytest.raises(si.MethodError, match="unknown filling method 'kriging'"):
        obs.inpaint.fill("kriging")
    with pytest.raises(si.MethodError, match="trained model"):
        obs.inpaint.fill(42)


def test_a_model_object_is_called_through_fill_field(case):
    truth, obs, land = case

    class Oracle:
        label = "oracle"

        def fill_field(self, da, **options):
            return truth.fillna(0.0) + options["offset"]

    filled = obs.inpaint.fill(Oracle(), offset=0.0)
    gaps = obs.isnull().values & ~land[None]
    np.testing.assert_array_equal(filled.values[gaps], truth.values[gaps])
    assert "oracle" in filled.attrs["history"]


def test_dataset_accessor(case):
    _, obs, _ = case
    ds = xr.Dataset({"thetao": obs, "other": obs.isel(time=0)})
    filled = ds.inpaint.fill("climatology", var="thetao")
    assert "inpaint_flag" in filled.coords
    assert np.isfinite(filled["thetao"].values[filled["inpaint_flag"].values == FLAG_FILLED]).all()
    assert ds.inpaint.land("thetao").dims == ("latitude", "longitude")
    occluded = ds.inpaint.occlude(si.RemovePixel(0.5), seed=0, var="thetao")
    assert int(occluded["thetao"].isnull().sum()) > int(obs.isnull().sum())
    with pytest.raises(si.FieldError, match="not in the dataset"):
        ds.inpaint.fill("linear", var="nope")
