"""The `seainpaint demo` and `seainpaint fill` commands, run for real."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

import seainpaint as si
from seainpaint import synthetic
from seainpaint.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def cloudy():
    land = np.zeros((24, 24), dtype=bool)
    land[-3:, -4:] = True
    truth = synthetic.sst(20, 24, seed=5, land=land)
    return truth.inpaint.occlude(si.RemovePixel(0.25), seed=3)


def test_demo_writes_products_and_prints_mae(tmp_path):
    result = runner.invoke(app, ["demo", "--quick", "--output-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "DINEOF MAE" in result.output and "OSTIA" in result.output
    for name in ("synthetic_filled.nc", "ostia_filled.nc"):
        with xr.open_dataset(tmp_path / name) as ds:
            assert "inpaint_flag" in ds
            land = (ds["inpaint_flag"] == 2).values
            assert np.isnan(ds[next(iter(ds.data_vars))].values[land]).all()
    with xr.open_dataset(tmp_path / "ostia_filled.nc") as ds:
        assert (ds["inpaint_flag"] == 2).any()  # the real OSTIA land mask
    png = (tmp_path / "demo.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("kind", ["nc", "zarr"])
def test_fill_command_netcdf_and_zarr(cloudy, tmp_path, kind):
    src = tmp_path / f"cloudy.{kind}"
    if kind == "nc":
        cloudy.to_netcdf(src)
    else:
        cloudy.to_dataset().to_zarr(src)
    out = tmp_path / "filled.nc"
    result = runner.invoke(app, ["fill", str(src), "-o", str(out), "--method", "linear"])
    assert result.exit_code == 0, result.output
    with xr.open_dataset(out) as ds:
        filled = ds["thetao"].values
    observed = np.isfinite(cloudy.values)
    np.testing.assert_array_equal(filled[observed], cloudy.values[observed])
    assert np.isfinite(filled[:, ~cloudy.inpaint.land.values]).all()


def test_fill_command_errors(cloudy, tmp_path):
    src = tmp_path / "cloudy.nc"
    cloudy.to_netcdf(src)
    out = tmp_path / "filled.nc"
    out.write_text("keep me")
    result = runner.invoke(app, ["fill", str(src), "-o", str(out)])
    assert result.exit_code == 2 and "--overwrite" in result.output
    assert out.read_text() == "keep me"
    args = ["fill", str(src), "-o", str(tmp_path / "x.nc"), "--method", "magic"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "unknown filling method" in result.output
    assert not (tmp_path / "x.nc").exists()
    args = ["fill", str(tmp_path / "missing.nc"), "-o", str(tmp_path / "y.nc")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "does not exist" in result.output
    flat = cloudy.isel(time=0, drop=True)
    flat.to_netcdf(tmp_path / "flat.nc")
    result = runner.invoke(app, ["fill", str(tmp_path / "flat.nc"), "-o", str(tmp_path / "z.nc")])
    assert result.exit_code == 2 and "time" in result.output
