"""Issue 11 part 3: spatial dims from CF attributes (cf_xarray), the known names or an
explicit override; anything else is refused instead of guessed from the dim order."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import seainpaint as si
from seainpaint.field import SPATIAL_DIMS_ATTR, field_dims


def field(dims=("time", "row", "col"), coords=None, attrs=None) -> xr.DataArray:
    rng = np.random.default_rng(0)
    values = rng.normal(size=(6, 5, 7)).astype("float32")
    values[rng.random(values.shape) < 0.2] = np.nan
    return xr.DataArray(values, dims=dims, coords=coords or {}, attrs=attrs or {}, name="v")


def test_unknown_spatial_dims_are_refused_not_guessed():
    with pytest.raises(si.FieldError, match=r"cannot tell the spatial dimensions \('row', 'col'\)"):
        field_dims(field())
    with pytest.raises(si.FieldError, match="cannot tell"):
        si.fill(field(), "linear")


@pytest.mark.parametrize(
    "attrs",
    [
        ({"axis": "Y"}, {"axis": "X"}),
        ({"standard_name": "latitude"}, {"standard_name": "longitude"}),
        ({"units": "degrees_north"}, {"units": "degrees_east"}),
        ({"standard_name": "projection_y_coordinate"}, {}),
    ],
)
def test_cf_attributes_identify_the_spatial_dims(attrs):
    # the dims are given x first: only the attributes can tell which is the row
    y_attrs, x_attrs = attrs
    da = field(
        dims=("time", "col", "row"),
        coords={"row": ("row", np.arange(7.0), y_attrs), "col": ("col", np.arange(5.0), x_attrs)},
    )
    dims = field_dims(da)
    assert (dims.y, dims.x) == ("row", "col")
    filled = si.fill(da, "linear")
    assert filled.dims == da.dims


def test_explicit_override_by_argument_or_attribute():
    da = field()
    assert field_dims(da, spatial=("col", "row")).spatial == ("col", "row")
    tagged = field(attrs={SPATIAL_DIMS_ATTR: "row col"})
    assert field_dims(tagged).spatial == ("row", "col")
    filled = si.fill(tagged, "biharmonic")
    assert np.isfinite(filled.values).all() and filled.dims == tagged.dims
    with pytest.raises(si.FieldError, match="are not its two spatial dimensions"):
        field_dims(da, spatial=("row", "time"))


def test_known_names_still_work_without_attributes():
    da = field(dims=("time", "lon", "lat"))
    assert field_dims(da).spatial == ("lat", "lon")
