"""The OSTIA sample ships with the package and equals its source in iris-sample-data."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from seainpaint.io import samples


def test_shipped_ostia_sample_has_real_land_and_sea() -> None:
    sst = samples.ostia_monthly()
    assert sst.dims == ("time", "latitude", "longitude")
    assert sst.shape == (54, 18, 73)
    assert sst.attrs["units"] == "K"
    assert "shipped with seainpaint" in sst.attrs["source"]
    land = sst.isnull().all("time")
    assert 0.2 < float(land.mean()) < 0.6  # East Africa and the Indian Ocean
    assert bool((sst.notnull().all("time") | land).all())  # an analysis: no cloud gaps
    assert 290 < float(sst.mean()) < 305


def test_shipped_sample_is_listed_as_package_data() -> None:
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    config = tomllib.loads((root / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["seainpaint"]
    rel = samples.SHIPPED_OSTIA.relative_to(root / "seainpaint")
    assert any(rel.match(p) for p in patterns), patterns


def test_shipped_values_equal_the_iris_sample_data_file() -> None:
    pytest.importorskip("iris_sample_data")
    shipped = samples.ostia_monthly()
    band = samples.ostia_monthly(longitude=None)
    assert band.sizes["longitude"] == 432
    source = band.sel(longitude=slice(20.0, 80.0))
    xr.testing.assert_identical(shipped.drop_attrs(), source.drop_attrs())
    np.testing.assert_array_equal(shipped.values, source.values)  # NaN land included
