"""The data model: dimensions, land, observations and bad-input errors."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import seainpaint as si
from seainpaint.field import check_mask, field_dims, validate_field


def make_field(shape=(5, 6, 7), dims=("time", "latitude", "longitude")) -> xr.DataArray:
    rng = np.random.default_rng(0)
    return xr.DataArray(rng.normal(size=shape).astype("float32"), dims=dims, name="sst")


def test_dims_are_found_in_any_order():
    da = make_field((6, 7, 5), ("latitude", "longitude", "time"))
    dims = field_dims(da)
    assert (dims.time, dims.y, dims.x, dims.channel) == ("time", "latitude", "longitude", None)
    video = make_field((3, 4, 5, 3), ("time", "y", "x", "channel"))
    assert field_dims(video).canonical == ("time", "y", "x", "channel")


def test_land_is_missing_at_every_time_and_clouds_are_not():
    da = make_field()
    da[:, 0, 0] = np.nan  # land
    da[2, 3, 3] = np.nan  # cloud
    land = da.inpaint.land
    observed = da.inpaint.observed
    assert land.dims == ("latitude", "longitude")
    assert bool(land[0, 0]) and not bool(land[3, 3])
    assert int(land.sum()) == 1
    assert not bool(observed[2, 3, 3]) and bool(observed[1, 3, 3])


def test_channel_pixel_observed_only_when_all_channels_are():
    video = make_field((3, 4, 5, 3), ("time", "y", "x", "channel"))
    video[0, 1, 1, 2] = np.nan
    observed = video.inpaint.observed
    assert observed.dims == ("time", "y", "x")
    assert not bool(observed[0, 1, 1]) and int((~observed).sum()) == 1


@pytest.mark.parametrize(
    ("da", "message"),
    [
        (make_field((5, 6, 7), ("t", "y", "x")), "no 'time' dimension"),
        (make_field((5, 6), ("time", "x")), "expected (time, y, x)"),
        (make_field((5, 6, 7, 2), ("time", "y", "x", "band")), "expected (time, y, x)"),
    ],
)
def test_wrong_dims_are_named(da, message):
    with pytest.raises(si.FieldError, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate_field(da)


def test_all_nan_and_integer_fields_are_refused():
    da = make_field() * np.nan
    with pytest.raises(si.FieldError, match="nothing observed"):
        da.inpaint.fill("linear")
    with pytest.raises(si.FieldError, match="dtype"):
        validate_field(make_field().astype(int))


def test_mask_mismatch_is_named():
    da = make_field()
    good = np.ones((5, 6, 7), dtype=bool)
    assert check_mask(da, good).dims == ("time", "latitude", "longitude")
    with pytest.raises(si.MaskError, match="shape"):
        check_mask(da, np.ones((5, 6, 8), dtype=bool))
    with pytest.raises(si.MaskError, match="boolean"):
        check_mask(da, good.astype(float))
    with pytest.raises(si.MaskError, match="dims"):
        check_mask(da, xr.DataArray(good, dims=("time", "y", "x")))
