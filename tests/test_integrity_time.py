"""Issue 10 item 2: time is sorted and unique, and `linear` uses its spacing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import seainpaint as si
from seainpaint import synthetic
from seainpaint.baselines import linear_in_time
from seainpaint.errors import SeainpaintWarning
from seainpaint.field import validate_field


def hourly(hours: list[float], values: np.ndarray) -> xr.DataArray:
    time = pd.Timestamp("2020-01-01") + pd.to_timedelta(hours, "h")
    return xr.DataArray(
        values.astype(np.float64), dims=("time", "y", "x"), coords={"time": time}, name="sst"
    )


def ramp(hours: list[float]) -> xr.DataArray:
    """A field equal to its own time in hours, at every pixel."""
    values = np.broadcast_to(np.asarray(hours, float)[:, None, None], (len(hours), 3, 4))
    return hourly(hours, values.copy())


def test_linear_uses_the_time_coordinate_spacing():
    da = ramp([0, 1, 2, 20, 22, 23])
    da[3] = np.nan  # hour 20 hidden: its neighbours are hours 2 and 22
    filled = si.fill(da, "linear")
    np.testing.assert_allclose(filled.values[3], 20.0)
    lazy = si.fill(da.chunk({"time": 2}), "linear")
    np.testing.assert_array_equal(lazy.values, filled.values)


def test_linear_holds_the_nearest_observation_at_the_edges():
    da = ramp([0, 1, 2, 3, 4, 5])
    da[:2, 0, 0] = np.nan
    da[4:, 0, 0] = np.nan
    da[:, 1, 1] = np.nan
    da[2, 1, 1] = 7.0  # a single observation
    filled = linear_in_time(da)
    np.testing.assert_array_equal(filled.values[:, 0, 0], [2, 2, 2, 3, 3, 3])
    np.testing.assert_array_equal(filled.values[:, 1, 1], [7.0] * 6)


@pytest.mark.parametrize("method", ["linear", "dineof"])
def test_unsorted_time_is_sorted_with_a_warning(method):
    obs = synthetic.sst(20, 12, seed=0).inpaint.occlude(si.RemovePixel(0.3), seed=1)
    shuffled = obs.isel(time=np.random.default_rng(0).permutation(obs.sizes["time"]))
    with pytest.warns(SeainpaintWarning, match="not sorted"):
        filled = si.fill(shuffled, method)
    assert filled.indexes["time"].is_monotonic_increasing
    xr.testing.assert_equal(filled, si.fill(obs, method))  # values, coords and flags


def test_methods_called_directly_refuse_unsorted_time():
    da = ramp([0, 2, 1, 3])
    with pytest.raises(si.FieldError, match="not sorted"):
        linear_in_time(da)


def test_duplicated_time_is_refused_naming_the_first_duplicate():
    da = ramp([0, 1, 1, 2, 3, 3])
    with pytest.raises(si.FieldError, match="duplicated stamps, first 2020-01-01 01:00:00"):
        si.fill(da, "linear")
    with pytest.raises(si.FieldError, match="duplicated"):
        validate_field(da)


def test_missing_time_stamps_are_refused():
    da = ramp([0, 1, 2])
    da = da.assign_coords(time=[da.time.values[0], np.datetime64("NaT"), da.time.values[2]])
    with pytest.raises(si.FieldError, match="NaT"):
        si.fill(da, "climatology")
