"""The CF/ACDD product writer: compliance-checker, flags, atomic writes."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from compliance_checker.runner import CheckSuite

import seainpaint as si
from seainpaint import synthetic
from seainpaint.io.netcdf import atomic_write


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
    assert not errors
    bad = []
    for result in groups:
        value = result.value
        ok = value[0] == value[1] if isinstance(value, tuple) else bool(value)
        if not ok:
            bad.append((result.weight, result.name, result.msgs))
    return bad


def test_cf_compliance_no_high_or_medium_failure(filled, tmp_path):
    path = si.to_netcdf(filled, tmp_path / "sst.nc")
    bad = [b for b in failures(path, "cf:1.8") if b[0] >= 2]
    assert bad == []
    acdd_high = [b for b in failures(path, "acdd") if b[0] >= 3]
    assert acdd_high == []


def test_product_content(filled, tmp_path):
    path = si.to_netcdf(filled, tmp_path / "sst.nc", title="test product")
    with xr.open_dataset(path) as ds:
        assert ds.attrs["title"] == "test product"
        assert ds.attrs["Conventions"].startswith("CF-1.8")
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
