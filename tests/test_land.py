"""Issue 8 item 3: explicit land masks, and sea pixels cloudy through the whole field
filled with their own flag (3) and counted in the scores."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import seainpaint as si
from seainpaint import synthetic
from seainpaint.conventions import (
    FLAG_FILLED,
    FLAG_FILLED_NEVER_OBSERVED,
    FLAG_LAND,
    FLAG_OBSERVED,
)
from seainpaint.errors import SeainpaintWarning
from seainpaint.evaluation import evaluate, render_table
from seainpaint.field import land_mask
from seainpaint.io.stores import open_field

CLOUD = (slice(7, 10), slice(9, 12))  # a sea patch cloudy in every frame


@pytest.fixture(scope="module")
def case():
    land = np.zeros((16, 16), dtype=bool)
    land[:4, :5] = True
    truth = synthetic.sst(20, 16, seed=4, land=land)
    obs = truth.inpaint.occlude(si.RemovePixel(0.3), seed=2)
    obs[:, CLOUD[0], CLOUD[1]] = np.nan
    return truth, obs, land


def persistent(land: np.ndarray) -> np.ndarray:
    out = np.zeros_like(land)
    out[CLOUD] = True
    return out


@pytest.mark.parametrize(
    ("method", "completed"),
    [
        ("climatology", True),
        ("linear", True),
        ("dineof", True),
        ("biharmonic", False),
        ("telea", False),
    ],
)
def test_persistent_clouds_are_filled_with_flag_3(case, method, completed):
    truth, obs, land = case
    filled = si.fill(obs, method, land=land)
    values, flag = filled.values, filled["inpaint_flag"].values
    never = persistent(land)
    assert (flag[:, never] == FLAG_FILLED_NEVER_OBSERVED).all()
    assert (flag[:, land] == FLAG_LAND).all()
    assert set(np.unique(flag)) == {FLAG_OBSERVED, FLAG_FILLED, FLAG_LAND,
                                    FLAG_FILLED_NEVER_OBSERVED}
    assert np.isfinite(values[flag % 2 == 1]).all()  # flags 1 and 3
    assert np.isnan(values[:, land]).all()
    observed = np.isfinite(obs.values)
    assert values[observed].tobytes() == obs.values[observed].tobytes()
    # filled from spatial context: close to the truth of a smooth field
    err = np.abs(values[:, never] - truth.values[:, never]).mean()
    assert err < 3 * float(truth.std())
    assert ("spatial fill" in filled.attrs["history"]) == completed
    assert filled["inpaint_flag"].attrs["flag_meanings"].split()[FLAG_FILLED_NEVER_OBSERVED] == (
        "filled_never_observed"
    )


def test_without_a_land_mask_never_observed_pixels_are_land(case):
    _, obs, land = case
    filled = si.fill(obs, "climatology")
    flag = filled["inpaint_flag"].values
    assert (flag[:, persistent(land)] == FLAG_LAND).all()
    assert not (flag == FLAG_FILLED_NEVER_OBSERVED).any()


def test_land_coordinate_dataarray_and_accessor_give_the_same_fill(case):
    _, obs, land = case
    by_array = si.fill(obs, "linear", land=land)
    mask = xr.DataArray(land.T, dims=("longitude", "latitude"),
                        coords={"latitude": obs.latitude, "longitude": obs.longitude})
    by_dataarray = obs.inpaint.fill("linear", land=mask)
    with_coord = obs.assign_coords(land=(("latitude", "longitude"), land))
    by_coord = with_coord.inpaint.fill("linear")
    for other in (by_dataarray, by_coord):
        np.testing.assert_array_equal(other.values, by_array.values)
        np.testing.assert_array_equal(other["inpaint_flag"].values,
                                      by_array["inpaint_flag"].values)
    assert bool(with_coord.inpaint.land[0, 0]) and not bool(with_coord.inpaint.land[8, 10])


def test_bad_land_masks_are_named(case):
    _, obs, land = case
    with pytest.raises(si.MaskError, match="shape"):
        si.fill(obs, "linear", land=land[:-1])
    with pytest.raises(si.MaskError, match="boolean"):
        si.fill(obs, "linear", land=land.astype(int))
    with pytest.raises(si.MaskError, match="spatial dims"):
        si.fill(obs, "linear", land=xr.DataArray(land, dims=("y", "x")))
    shifted = xr.DataArray(land, dims=("latitude", "longitude"),
                           coords={"latitude": obs.latitude + 1, "longitude": obs.longitude})
    with pytest.raises(si.MaskError, match="differs"):
        si.fill(obs, "linear", land=shifted)
    with pytest.raises(si.MaskError, match="boolean"):
        land_mask(obs.assign_coords(land=(("latitude", "longitude"), land.astype("i1"))))


def test_observed_values_on_land_are_reported(case):
    _, obs, land = case
    wrong = np.zeros_like(land)
    wrong[10:, 10:] = True  # sea with observations, called land
    with pytest.warns(SeainpaintWarning, match="lie on land"):
        filled = si.fill(obs, "climatology", land=wrong)
    assert np.isnan(filled.values[:, wrong]).all()


def test_a_model_that_fills_everything_is_not_completed(case):
    truth, obs, land = case

    class Oracle:
        label = "oracle"

        def fill_field(self, da):
            return truth.fillna(0.0)

    filled = si.fill(obs, Oracle(), land=land)
    never = persistent(land)
    np.testing.assert_array_equal(filled.values[:, never], truth.values[:, never])
    assert "spatial fill" not in filled.attrs["history"]


def test_lazy_completion_equals_eager(case):
    from daskcheck import raise_if_dask_computes

    _, obs, land = case
    with raise_if_dask_computes():
        lazy = si.fill(obs.chunk({"time": 6}), "linear", land=land)
    np.testing.assert_array_equal(lazy.values, si.fill(obs, "linear", land=land).values)


def test_scores_count_never_observed_sea_pixels(case):
    truth, obs, land = case
    filled = si.fill(obs, "linear", land=land)
    df = evaluate(truth, obs, {"linear": filled}, sequence_length=10, features=False,
                  diagnostics=False)
    n_never = 20 * int(persistent(land).sum())
    assert df.attrs["n_never_observed"] == n_never
    gaps = np.isnan(obs.values) & ~land[None]
    assert df.attrs["n_scored"] == int(gaps.sum())
    assert f"of which {n_never} sea pixels never observed" in render_table(df, "markdown")
    # the never-observed pixels are scored: the MAE is the one over every gap
    err = np.abs(filled.values - truth.values)
    mae = np.mean([err[sl][gaps[sl]].mean() for sl in (slice(0, 10), slice(10, 20))])
    assert df.loc["linear", "MAE"] == pytest.approx(mae, rel=1e-5)


# ------------------------------------------------------------- land/sea mask variables


def write(ds: xr.Dataset, path) -> str:
    if str(path).endswith(".zarr"):
        ds.to_zarr(path)
    else:
        ds.to_netcdf(path)
    return str(path)


def mask_variable(kind: str, land: np.ndarray, n_time: int):
    """(name, variable, expected land) of a land/sea mask in one of the usual forms."""
    grid = ("latitude", "longitude")
    if kind == "ostia_flag_values":  # OSTIA: a byte mask over (time, lat, lon) with flags
        codes = np.where(land, 2, 1).astype("i1")
        codes[0, -1] = 8  # sea ice is sea
        codes[1, -1] = 4  # a lake is not sea: land for seainpaint
        expected = land.copy()
        expected[1, -1] = True
        values = np.broadcast_to(codes, (n_time, *land.shape)).copy()
        attrs = {"flag_values": np.array([1, 2, 4, 8], "i1"),
                 "flag_meanings": "water land optional_lake_surface sea_ice"}
        return "mask", (("time", *grid), values, attrs), expected
    if kind == "flag_masks":  # bit flags: water (1) + sea ice (8) = 9 is sea
        values = np.where(land, 2, 1 + 8 * np.eye(16, dtype="i1")).astype("i1")
        attrs = {"flag_masks": np.array([1, 2, 8], "i1"), "flag_meanings": "water land sea_ice"}
        return "mask", (grid, values, attrs), land
    if kind == "land_binary_mask":
        return "lm", (grid, land.astype("f4"), {"standard_name": "land_binary_mask"}), land
    if kind == "sea_binary_mask":  # inverted
        return "sm", (grid, (~land).astype("i1"), {"standard_name": "sea_binary_mask"}), land
    if kind == "lsm_fraction":  # ERA5-style land fraction
        return "lsm", (grid, np.where(land, 0.9, 0.1).astype("f4"), {}), land
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind", ["ostia_flag_values", "flag_masks", "land_binary_mask", "sea_binary_mask",
             "lsm_fraction"],
)
@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_open_field_attaches_the_dataset_land_mask(case, tmp_path, kind, suffix):
    _, obs, land = case
    name, var, expected = mask_variable(kind, land, obs.sizes["time"])
    ds = obs.to_dataset(name="sst")
    ds[name] = var
    path = write(ds, tmp_path / f"field{suffix}")
    field = open_field(path)
    assert field.name == "sst" and "land" in field.coords
    np.testing.assert_array_equal(field.inpaint.land.values, expected)
    filled = si.fill(field, "climatology")
    flag = filled["inpaint_flag"].values
    assert (flag[:, persistent(land)] == FLAG_FILLED_NEVER_OBSERVED).all()
    assert (flag[:, expected] == FLAG_LAND).all()


def test_an_unclear_mask_variable_is_skipped_with_a_warning(case, tmp_path):
    _, obs, land = case
    ds = obs.to_dataset(name="sst")
    ds["mask"] = (("latitude", "longitude"), land.astype("i1"))
    path = write(ds, tmp_path / "field.nc")
    with pytest.warns(SeainpaintWarning, match="'mask' looks like a land/sea mask"):
        field = open_field(path)
    assert "land" not in field.coords


def test_dataset_accessor_uses_the_mask_variable(case):
    _, obs, land = case
    ds = obs.to_dataset(name="sst")
    ds["land_mask"] = (("latitude", "longitude"), land.astype("i1"))
    filled = ds.inpaint.fill("climatology")
    flag = filled["inpaint_flag"].values
    assert (flag[:, persistent(land)] == FLAG_FILLED_NEVER_OBSERVED).all()
    assert np.isfinite(filled["sst"].values[:, persistent(land)]).all()
