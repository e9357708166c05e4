"""The `seainpaint` command line, run for real: demo, occlude, fill, help and wording."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

import seainpaint as si
import seainpaint.io.pycles
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
    result = runner.invoke(app, ["demo", "--quick", "--train", "--output-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    out = result.output
    for method in ("learned (self-supervised)", "DINEOF", "linear", "biharmonic",
                   "climatology"):
        assert method in out
    assert "GAN" not in out  # the default model has no adversarial term: never called a GAN
    assert "OSTIA" in out and "MAE" in out
    assert re.search(r"\d+ sea pixels never observed", out)  # counted and printed
    for name in ("synthetic_filled.nc", "ostia_filled.nc"):
        with xr.open_dataset(tmp_path / name) as ds:
            assert "inpaint_flag" in ds
            land = (ds["inpaint_flag"] == 2).values
            assert np.isnan(ds[next(iter(ds.data_vars))].values[land]).all()
            assert "learned (self-supervised)" in ds.attrs["title"]
            assert "GAN" not in ds.attrs["title"] + ds.attrs["keywords"]
            assert "self-supervised learning" in ds.attrs["keywords"]
    with xr.open_dataset(tmp_path / "ostia_filled.nc") as ds:
        assert (ds["inpaint_flag"] == 2).any()  # the real OSTIA land mask
    for name in ("demo_synthetic.png", "demo_ostia.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "models" / "synthetic" / "config.json").is_file()


def test_demo_uses_the_shipped_ostia_sample_offline(monkeypatch):
    """The demo's real data comes with the install: no iris-sample-data, no network."""
    import importlib.util

    from seainpaint import demo

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "iris_sample_data" else real_find_spec(name, *a),
    )
    case = demo.ostia_case(seed=0)
    assert case.truth.attrs["units"] == "degree_Celsius"
    assert 20 < float(case.truth.mean()) < 32
    assert case.land.any() and not case.land.all()
    assert case.never_observed == int((case.obs.isnull().all("time") & ~case.land).sum())


def test_shipped_models_load_and_beat_interpolation_on_the_demo_data():
    """The models the demo loads are valid, and the synthetic one fills the demo's
    (never seen) synthetic series better than interpolation in time."""
    from seainpaint import demo

    shipped = sorted(p.name for p in demo.PRETRAINED_DIR.iterdir() if p.is_dir())
    assert shipped == ["ostia", "synthetic"]
    case = demo.synthetic_case(96, seed=0)
    model = si.InpaintModel.load(demo.PRETRAINED_DIR / "synthetic")
    assert model.has_uncertainty and model.config["process"]["name"] == "FieldClouds"
    assert model.method == "learned (self-supervised)"
    case.fills[model.method] = demo._fill(case.obs, model, case.land)
    case.fills["linear"] = demo._fill(case.obs, "linear", case.land)
    learned, linear = case.mae(model.method), case.mae("linear")
    assert learned < 0.9 * linear, (learned, linear)
    ostia = demo.ostia_case(seed=0)
    filled = demo._fill(ostia.obs, si.InpaintModel.load(demo.PRETRAINED_DIR / "ostia"),
                        ostia.land)
    assert np.isfinite(filled.values[:, ~ostia.land.values]).all()


def test_occlude_writes_a_store_train_and_fill_can_read(tmp_path):
    truth = synthetic.sst(30, 16, seed=4)
    truth.to_dataset().to_zarr(tmp_path / "sst.zarr")
    out = tmp_path / "cloudy.zarr"
    result = runner.invoke(app, ["occlude", str(tmp_path / "sst.zarr"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "of the sea hidden" in result.output
    cloudy = xr.open_zarr(out)["thetao"].load()
    seen = np.isfinite(cloudy.values)
    assert 0.1 < 1 - seen.mean() < 0.9
    np.testing.assert_array_equal(cloudy.values[seen], truth.values[seen])
    # the recorded cloud process points at the synthetic LWP written next to the store
    process = json.loads(cloudy.attrs["seainpaint_occlusion"])
    assert Path(process["source"]) == (tmp_path / "cloudy_lwp.zarr").resolve()
    rebuilt = si.OcclusionProcess.from_config(process)
    assert rebuilt.masks((4, 16, 16), seed=0).shape == (4, 16, 16)
    again = runner.invoke(app, ["occlude", str(tmp_path / "sst.zarr"), "-o", str(out)])
    assert again.exit_code == 2 and "--overwrite" in again.output
    nc = runner.invoke(app, ["occlude", str(tmp_path / "sst.zarr"), "-o", str(tmp_path / "c.nc")])
    assert nc.exit_code == 2 and "Zarr" in nc.output
    filled = tmp_path / "filled.nc"
    result = runner.invoke(app, ["fill", str(out), "--method", "linear", "-o", str(filled)])
    assert result.exit_code == 0, result.output


def test_occlude_with_an_lwp_store_and_a_cover(tmp_path):
    truth = synthetic.sst(12, 16, seed=4)
    truth.to_netcdf(tmp_path / "sst.nc")
    lwp = synthetic.lwp(12, 32, seed=2)
    si.io.pycles.write_lwp_zarr(lwp, tmp_path / "lwp.zarr")
    args = ["occlude", str(tmp_path / "sst.nc"), "--lwp", str(tmp_path / "lwp.zarr"),
            "--cover", "0.5", "-o", str(tmp_path / "cloudy.zarr")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "cloudy_lwp.zarr").exists()  # the given LWP is used
    cloudy = xr.open_zarr(tmp_path / "cloudy.zarr")["thetao"]
    assert 0.3 < float(cloudy.isnull().mean()) < 0.7
    both = args[:-2] + ["--threshold", "70", "-o", str(tmp_path / "x.zarr")]
    result = runner.invoke(app, both)
    assert result.exit_code == 2 and "not both" in result.output


def test_lwp_store_from_fetch_lwp_is_read_by_open_lwp_and_cloud(tmp_path):
    lwp = synthetic.lwp(6, 16, seed=3)
    lwp["time"] = ("time", np.arange(6) * 60.0, {"units": "s"})
    si.io.pycles.write_lwp_zarr(lwp, tmp_path / "lwp.zarr")
    back = si.open_lwp(tmp_path / "lwp.zarr")
    np.testing.assert_array_equal(back.values, lwp.values)
    assert back.attrs["units"] == "g m-2"
    assert si.open_lwp(tmp_path / "lwp.zarr", t_min=120).sizes["time"] == 4
    cloud = si.Cloud(str(tmp_path / "lwp.zarr"), threshold=70)
    assert cloud.source == str((tmp_path / "lwp.zarr").resolve())
    kg = (lwp / 1000.0).assign_attrs(units="kg m-2")
    kg.to_dataset(name="lwp").to_netcdf(tmp_path / "lwp_kg.nc")
    np.testing.assert_allclose(si.Cloud(tmp_path / "lwp_kg.nc", threshold=70).values,
                               si.Cloud(lwp, threshold=70).values, rtol=1e-6)


def test_help_is_plain_and_every_option_is_explained():
    from typer.main import get_command

    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0 and "<bool>" not in result.output
    for name, command in get_command(app).commands.items():
        text = runner.invoke(app, [name, "--help"]).output
        assert "<bool>" not in text, name
        for param in command.params:
            assert param.help, f"{name} {param.name} has no help text"


def test_help_imports_nothing_heavy():
    code = (
        "import sys, seainpaint.cli\n"
        "print(sorted(m for m in ('torch', 'xarray', 'dask', 'cartopy', 'scipy', 'pandas')"
        " if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(si.__file__).resolve().parents[1])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True)
    assert out.stdout.strip() == "[]"


def test_python_advice_becomes_command_line_options():
    from seainpaint.cli import cli_wording
    from seainpaint.errors import ModelMismatchError, ProcessNeededError

    err = ModelMismatchError("the model was trained on variable 'sst', not 'thetao'")
    assert "check=False" in str(err)
    text = cli_wording(err)
    assert "--no-check" in text and "check=False" not in text
    assert text.startswith("the model was trained on variable 'sst', not 'thetao'; ")
    err = ModelMismatchError("the model was trained on data in 'K'", remedy="convert it")
    assert cli_wording(err).endswith("; convert it or pass --no-check to fill it anyway")
    err = ProcessNeededError("field 'thetao' has no missing sea pixel")
    assert "process=" in str(err)
    text = cli_wording(err)
    assert "--lwp" in text and "--threshold" in text
    assert "process=" not in text and "Cloud(" not in text
    assert text.startswith("field 'thetao' has no missing sea pixel; ")
    # the wording follows the type, not the text: other errors pass through unchanged
    assert cli_wording(ValueError("pass check=False; pass process=")) == (
        "pass check=False; pass process="
    )


def test_train_hint_names_the_command_line_options(tmp_path):
    cloud = si.Cloud(synthetic.lwp(12, 32, seed=1), threshold=70)  # in memory: not rebuildable
    synthetic.sst(12, 16, seed=0).inpaint.occlude(cloud, seed=0).to_dataset().to_zarr(
        tmp_path / "cloudy.zarr"
    )
    args = ["train", str(tmp_path / "cloudy.zarr"), "-o", str(tmp_path / "m"), "--steps", "1",
            "--window", "4", "--patch", "16", "--batch-size", "1", "--base", "4"]
    result = runner.invoke(app, args)
    if result.exit_code == 2:  # until train(obs) trains on the field's own clouds (issue 8)
        assert "--lwp" in result.output and "process=" not in result.output
    else:
        assert result.exit_code == 0, result.output


def test_fill_no_check_fills_a_field_the_model_refuses(cloudy, tmp_path):
    model = si.train(cloudy, steps=1, window=4, patch=16, batch_size=1, base=4,
                     n_val=1, progress=False)
    model.save(tmp_path / "model")
    other = cloudy.rename("analysed_sst")
    other.to_dataset().to_zarr(tmp_path / "other.zarr")
    args = ["fill", str(tmp_path / "other.zarr"), "--model", str(tmp_path / "model"),
            "-o", str(tmp_path / "f.nc")]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2 and "--no-check" in refused.output
    assert "check=False" not in refused.output and not (tmp_path / "f.nc").exists()
    result = runner.invoke(app, [*args, "--no-check"])
    assert result.exit_code == 0, result.output
    with xr.open_dataset(tmp_path / "f.nc") as ds:
        values = ds["analysed_sst"].values
    seen = np.isfinite(cloudy.values)
    np.testing.assert_array_equal(values[seen], cloudy.values[seen])


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
