"""The one table of unit spellings (seainpaint.units) and the writer that uses it."""

from __future__ import annotations

import pytest
import xarray as xr

import seainpaint as si
from seainpaint import synthetic
from seainpaint.units import is_temperature, normalize_units, same_units, units_label


@pytest.mark.parametrize(
    ("given", "udunits"),
    [
        ("degC", "degree_Celsius"),
        ("deg C", "degree_Celsius"),
        ("degrees_C", "degree_Celsius"),
        ("Degree_Celsius", "degree_Celsius"),
        ("°C", "degree_Celsius"),
        ("celsius", "degree_Celsius"),
        ("kelvin", "K"),
        ("Degrees Kelvin", "K"),
        ("degF", "degree_Fahrenheit"),
        ("g/m2", "g m-2"),
        ("kg m^-2", "kg m-2"),
        (" m s-1 ", "m s-1"),  # unknown: stripped, never guessed
        (None, None),
    ],
)
def test_normalize_units(given, udunits):
    assert normalize_units(given) == udunits


def test_same_units_temperature_and_labels():
    assert same_units("degC", "Celsius") and same_units("K", "kelvin")
    assert not same_units("K", "degC")
    assert is_temperature("deg C") and is_temperature("K") and not is_temperature("g m-2")
    assert units_label("degree_Celsius") == "°C" and units_label("celsius") == "°C"
    assert units_label("kelvin") == "K" and units_label(None) is None


@pytest.mark.parametrize("given", ["deg C", "Celsius", "°C"])
def test_writer_stores_the_udunits_spelling(tmp_path, given):
    truth = synthetic.sst(4, 8, seed=0)
    field = truth.assign_attrs(units=given)
    filled = field.inpaint.occlude(si.RemovePixel(0.3), seed=0).inpaint.fill("linear")
    path = si.to_netcdf(filled, tmp_path / "x.nc")
    with xr.open_dataset(path) as ds:
        assert ds["thetao"].attrs["units"] == "degree_Celsius"
        assert ds["thetao"].attrs["units_metadata"] == "temperature: on_scale"
