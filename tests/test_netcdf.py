"""The CF/ACDD product writer: compliance-checker, flags, time, packing, atomic writes."""

from __future__ import annotations

import warnings

import netCDF4
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from compliance_checker.runner import CheckSuite

import seainpaint as si
from seainpaint import synthetic
from seainpaint.io.atomic import atomic_write
from seainpaint.io.stores import open_field


def newest_cf_checker() -> str:
    """The newest CF suite the installed compliance-checker ships (e.g. ``cf:1.11``)."""
    suite = CheckSuite()
    suite.load_all_available_checkers()
    versions = [k for k in suite.checkers if k.startswith("cf:")]
    return max(versions, key=lambda k: tuple(int(x) for x in k[3:].split(".")))


@pytest.fixture(scope="module")
def filled():
    land = np.zeros((20, 20), dtype=bool)
    land[:3, :5] = True
    truth = synthetic.sst(12, 20, seed=0, land=land)
    obs = truth.inpaint.occlude(si.RemovePixel(0.3), seed=0)
    return obs.inpaint.fill("linear")


def failures(path, checker):
    suite = CheckSuite()
    suite.load_all_available_checkers()
    ds = suite.load_dataset(str(path))
    groups, errors = suite.run_all(ds, [checker], skip_checks=[])[checker]
    ds.close()
    assert not errors
    bad = []
    for result in groups:
        value = result.value
        ok = value[0] == value[1] if isinstance(value, tuple) else bool(value)
        if not ok:
            bad.append((result.weight, result.name, result.msgs))
    return bad


def assert_compliant(path):
    """No high or medium failure in the newest CF suite, no high ACDD-1.3 failure."""
    checker = newest_cf_checker()
    bad = [b for b in failures(path, checker) if b[0] >= 2]
    assert bad == [], checker
    acdd_high = [b for b in failures(path, "acdd:1.3") if b[0] >= 3]
    assert acdd_high == []


def test_cf_compliance_no_high_or_medium_failure(filled, tmp_path):
    assert tuple(int(x) for x in newest_cf_checker()[3:].split(".")) >= (1, 11)
    path = si.to_netcdf(filled, tmp_path / "sst.nc")
    assert_compliant(path)
    with xr.open_dataset(path) as ds:
        assert ds["thetao"].attrs["units_metadata"] == "temperature: on_scale"
        assert ds["time"].attrs["units_metadata"] == "leap_seconds: none"
        assert ds.attrs["product_version"] == si.__version__


def test_product_content(filled, tmp_path):
    path = si.to_netcdf(filled, tmp_path / "sst.nc", title="test product")
    with xr.open_dataset(path) as ds:
        assert ds.attrs["title"] == "test product"
        assert ds.attrs["Conventions"] == "CF-1.11, ACDD-1.3"
        for key in ("summary", "history", "references", "date_created",
                    "geospatial_lat_min", "time_coverage_start"):
            assert key in ds.attrs
        assert "linear" in ds.attrs["history"]
        var = ds["thetao"]
        assert var.attrs["standard_name"] == "sea_surface_temperature"
        assert var.attrs["units"] == "degree_Celsius"
        assert var.attrs["ancillary_variables"] == "inpaint_flag"
        flag = ds["inpaint_flag"]
        assert flag.attrs["flag_meanings"] == "observed filled land filled_never_observed"
        assert list(flag.attrs["flag_values"]) == [0, 1, 2, 3]
        np.testing.assert_array_equal(flag.values, filled["inpaint_flag"].values)
        np.testing.assert_array_equal(var.values, filled.values)
        assert var.encoding["zlib"]


def test_existing_output_needs_overwrite(filled, tmp_path):
    path = si.to_netcdf(filled, tmp_path / "sst.nc")
    before = path.read_bytes()
    with pytest.raises(si.OutputExistsError, match="overwrite"):
        si.to_netcdf(filled, path)
    assert path.read_bytes() == before
    si.to_netcdf(filled, path, overwrite=True, title="again")
    with xr.open_dataset(path) as ds:
        assert ds.attrs["title"] == "again"


def test_failed_write_leaves_nothing(tmp_path):
    target = tmp_path / "out.nc"

    def broken(tmp):
        tmp.write_bytes(b"half a file")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(target, broken)
    assert list(tmp_path.iterdir()) == []


def test_existing_folder_as_output_is_a_clear_error(filled, tmp_path):
    folder = tmp_path / "out.nc"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    for overwrite in (False, True):
        with pytest.raises(si.OutputExistsError, match="out.nc.*folder"):
            si.to_netcdf(filled, folder, overwrite=overwrite)
    assert (folder / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.nc"]


# --------------------------------------------------------------------------- time


def _small_field(times=None) -> xr.DataArray:
    land = np.zeros((8, 8), dtype=bool)
    land[:2, :2] = True
    truth = synthetic.sst(6, 8, seed=1, land=land)
    if times is not None:
        truth = truth.assign_coords(time=times)
    return truth.inpaint.occlude(si.RemovePixel(0.3), seed=0).inpaint.fill("linear")


def test_time_with_milliseconds_round_trips_exactly(tmp_path):
    times = pd.Timestamp("2018-01-01") + pd.to_timedelta(
        [0, 1_001, 3_600_123, 7_200_456, 10_000_000, 86_400_001], unit="ms"
    )
    filled = _small_field(times.values)
    path = si.to_netcdf(filled, tmp_path / "ms.nc")
    with xr.open_dataset(path) as ds:
        np.testing.assert_array_equal(
            ds["time"].values.astype("datetime64[ns]"), times.values.astype("datetime64[ns]")
        )
        assert ds["time"].encoding["units"].startswith("milliseconds since")
        assert np.dtype(ds["time"].encoding["dtype"]).kind == "i"
        assert ds["time"].encoding["calendar"] == "standard"
    assert_compliant(path)


def test_hourly_time_gets_the_coarsest_exact_unit(tmp_path):
    times = pd.date_range("2018-03-01T00:30", periods=6, freq="h")
    path = si.to_netcdf(_small_field(times.values), tmp_path / "h.nc")
    with xr.open_dataset(path, decode_times=False) as ds:
        units = ds["time"].attrs["units"].replace("T", " ")
        assert units == "hours since 2018-03-01 00:30:00"
        np.testing.assert_array_equal(ds["time"].values, np.arange(6))


def test_time_encoding_of_a_real_file_is_kept(tmp_path):
    src = tmp_path / "pg.nc"
    truth = synthetic.sst(6, 8, seed=2)
    truth.to_dataset(name="thetao").to_netcdf(
        src,
        encoding={"time": {"units": "minutes since 1981-01-01 00:00:00",
                           "calendar": "proleptic_gregorian", "dtype": "int32"}},
    )
    with netCDF4.Dataset(src) as nc:
        src_units = nc["time"].units
    obs = open_field(src).load().inpaint.occlude(si.RemovePixel(0.3), seed=0)
    filled = obs.inpaint.fill("linear")
    path = si.to_netcdf(filled, tmp_path / "out.nc")
    with netCDF4.Dataset(path) as nc:
        assert nc["time"].calendar == "proleptic_gregorian"
        assert nc["time"].units == src_units
        assert nc["time"].dtype == np.int32
        assert nc["time"].units_metadata == "leap_seconds: none"
    with xr.open_dataset(path) as ds:
        np.testing.assert_array_equal(ds["time"].values, truth["time"].values)
    assert_compliant(path)


def test_inexact_input_time_encoding_is_replaced_by_an_exact_one(tmp_path):
    times = pd.Timestamp("2018-01-01") + pd.to_timedelta(np.arange(6) * 90, unit="s")
    filled = _small_field(times.values)
    filled["time"].encoding = {"units": "hours since 1950-01-01", "calendar": "standard",
                               "dtype": np.dtype("int32")}  # 90 s is not whole hours
    path = si.to_netcdf(filled, tmp_path / "t.nc")
    with xr.open_dataset(path, decode_times=False) as ds:
        assert ds["time"].attrs["units"] == "seconds since 1950-01-01"
    with xr.open_dataset(path) as ds:
        np.testing.assert_array_equal(ds["time"].values, times.values)


# --------------------------------------------------------------------------- packing


def _packed_source(tmp_path, scale=0.01):
    land = np.zeros((8, 8), dtype=bool)
    land[:2, :2] = True
    truth = synthetic.sst(6, 8, seed=3, land=land)
    src = tmp_path / "packed.nc"
    truth.to_dataset(name="thetao").to_netcdf(
        src,
        encoding={"thetao": {"dtype": "int16", "scale_factor": scale, "add_offset": 20.0,
                             "_FillValue": np.int16(-32768)}},
    )
    return src


def test_packed_input_is_written_packed(tmp_path):
    src = _packed_source(tmp_path)
    field = open_field(src).load()
    obs = field.inpaint.occlude(si.RemovePixel(0.3), seed=0)
    filled = obs.inpaint.fill("linear")
    unpacked = si.to_netcdf(filled, tmp_path / "float.nc", packing=None)
    path = si.to_netcdf(filled, tmp_path / "out.nc", packing=field.encoding)
    with netCDF4.Dataset(path) as nc:
        var = nc["thetao"]
        assert var.dtype == np.int16
        assert var.scale_factor == 0.01 and var.add_offset == 20.0
        assert var._FillValue == -32768
    with xr.open_dataset(path) as ds:
        back = ds["thetao"].values
    observed = obs.notnull().values
    np.testing.assert_array_equal(back[observed], obs.values[observed])  # bit for bit
    flag = filled["inpaint_flag"].values
    assert np.isnan(back[flag == 2]).all() and np.isfinite(back[flag == 1]).all()
    np.testing.assert_allclose(back[flag == 1], filled.values[flag == 1], atol=0.005 + 1e-9)
    assert path.stat().st_size < unpacked.stat().st_size
    assert_compliant(path)

    # a field that kept the input's encoding is packed without being asked
    kept = filled.copy()
    kept.encoding = dict(field.encoding)
    auto = si.to_netcdf(kept, tmp_path / "auto.nc")
    with netCDF4.Dataset(auto) as nc:
        assert nc["thetao"].dtype == np.int16


def test_packed_input_whose_fill_overflows_is_written_float32_with_a_warning(tmp_path):
    src = _packed_source(tmp_path, scale=0.0005)  # int16 range: 20 ± 16.4
    obs = open_field(src).load()
    too_hot = obs.copy(data=np.where(obs.notnull(), obs.values, 45.0))
    too_hot.encoding = dict(obs.encoding)
    with pytest.warns(UserWarning, match=r"thetao: \d+ value\(s\) do not fit.*float32"):
        path = si.to_netcdf(too_hot, tmp_path / "out.nc")
    with netCDF4.Dataset(path) as nc:
        assert nc["thetao"].dtype == np.float32
        assert "scale_factor" not in nc["thetao"].ncattrs()
    with xr.open_dataset(path) as ds:
        np.testing.assert_allclose(ds["thetao"].values, too_hot.values, atol=1e-5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.nc", "packed.nc"]


def test_lazy_packed_field_overflow_is_caught_while_writing(tmp_path):
    src = _packed_source(tmp_path, scale=0.0005)
    obs = open_field(src)  # lazy, dask
    hot = obs.where(obs.notnull(), 45.0)
    hot.encoding = dict(obs.encoding)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = si.to_netcdf(hot, tmp_path / "lazy.nc")
    assert any("do not fit" in str(w.message) for w in caught)
    with netCDF4.Dataset(path) as nc:
        assert nc["thetao"].dtype == np.float32
    fine = obs.copy()
    fine.encoding = dict(obs.encoding)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        path = si.to_netcdf(fine, tmp_path / "fine.nc")
    with netCDF4.Dataset(path) as nc:
        assert nc["thetao"].dtype == np.int16


# --------------------------------------------------------------------------- uncertainty


def test_standard_error_and_four_flags_are_written_and_linked(tmp_path):
    filled = _small_field()
    flag = filled["inpaint_flag"].values.copy()
    never = np.argwhere(flag == 1)[0]
    flag[tuple(never)] = 3
    meanings = "observed filled land filled_never_observed"
    flag_da = filled["inpaint_flag"].copy(data=flag).assign_attrs(
        flag_values=np.array([0, 1, 2, 3], dtype=np.int8), flag_meanings=meanings
    )
    se = xr.where(flag_da.isin([1, 3]), 0.25, np.nan).astype(np.float32)
    filled = filled.assign_coords(inpaint_flag=flag_da, thetao_standard_error=se)
    path = si.to_netcdf(filled, tmp_path / "se.nc")
    with xr.open_dataset(path) as ds:
        assert ds["thetao"].attrs["ancillary_variables"] == "thetao_standard_error inpaint_flag"
        err = ds["thetao_standard_error"]
        assert err.attrs["units"] == "degree_Celsius"
        assert err.attrs["standard_name"] == "sea_surface_temperature standard_error"
        assert err.attrs["units_metadata"] == "temperature: difference"
        assert "standard error" in err.attrs["long_name"]
        np.testing.assert_array_equal(err.values, se.values)
        assert ds["inpaint_flag"].attrs["flag_meanings"] == meanings
        assert list(ds["inpaint_flag"].attrs["flag_values"]) == [0, 1, 2, 3]
        assert ds["inpaint_flag"].dtype == np.int8
        np.testing.assert_array_equal(ds["inpaint_flag"].values, flag)
        assert "thetao_standard_error" not in ds["thetao"].coords
    assert_compliant(path)


def test_standard_error_with_other_dims_is_refused(tmp_path):
    filled = _small_field()
    bad = filled.assign_coords(thetao_standard_error=filled["time"].astype(float) * 0)
    with pytest.raises(si.FieldError, match="thetao_standard_error"):
        si.to_netcdf(bad, tmp_path / "bad.nc")
    assert list(tmp_path.iterdir()) == []
