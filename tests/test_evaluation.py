"""Tests of seainpaint.evaluate, the table writers and the `seainpaint evaluate` CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from typer.testing import CliRunner

import seainpaint
from seainpaint import metrics, synthetic
from seainpaint.cli import app
from seainpaint.errors import FieldError, OutputExistsError, SeainpaintError
from seainpaint.evaluation import format_table, open_field, render_table, write_table


@pytest.fixture(scope="module")
def case():
    land = np.zeros((24, 24), dtype=bool)
    land[:4, :6] = True
    truth = synthetic.sst(n_time=16, size=24, seed=1, land=land)
    rng = np.random.default_rng(0)
    keep = rng.random(truth.shape) > 0.4
    for t in range(16):  # a drifting cloud
        keep[t, 8:16, t : t + 8] = False
    obs = truth.where(keep)
    obs.attrs = dict(truth.attrs)
    fills = {
        "linear": seainpaint.fill(obs, "linear"),
        "climatology": seainpaint.fill(obs, "climatology"),
    }
    return truth, obs, fills


def test_evaluate_table(case):
    truth, obs, fills = case
    perfect = seainpaint.fill(obs, "linear").copy(data=truth.values)
    df = seainpaint.evaluate(truth, obs, {**fills, "perfect": perfect}, sequence_length=8)
    assert list(df.index) == ["linear", "climatology", "perfect"]
    for col in ("MAE", "MAE std", "RMSE", "RMSE std", "Bias", "Bias std", "FID", "FVD"):
        assert col in df.columns
    assert df.attrs["n_sequences"] == 2 and df.attrs["sequence_length"] == 8
    assert "not comparable" in df.attrs["note"]
    assert df.loc["perfect", "MAE"] == 0 and df.loc["perfect", "FID"] == pytest.approx(0, abs=1e-6)
    assert df.loc["linear", "MAE"] < df.loc["climatology", "MAE"]
    assert df.loc["linear", "FID"] > 1e-9 and df.loc["climatology", "FVD"] > 1e-9
    # mean over the two sequences of the per-sequence MAE (land taken from the full record)
    land = ~np.isfinite(obs.values).any(axis=0)
    per_seq = []
    for sl in (slice(0, 8), slice(8, 16)):
        occ = ~np.isfinite(obs.values[sl]) & ~land
        per_seq.append(np.abs(fills["linear"].values[sl][occ] - truth.values[sl][occ]).mean())
    assert df.loc["linear", "MAE"] == pytest.approx(np.mean(per_seq), rel=1e-5)
    assert df.loc["linear", "MAE std"] == pytest.approx(np.std(per_seq), rel=1e-4)
    rate = metrics.occlusion_rate(obs)
    assert df.loc["linear", "Occluded (%)"] == pytest.approx(100 * rate, rel=1e-6)


def test_evaluate_options_and_errors(case):
    truth, obs, fills = case
    df = seainpaint.evaluate(truth, obs, list(fills.values()), features=False, diagnostics=False)
    assert list(df.index) == ["method 1", "method 2"]
    assert "FID" not in df.columns and "PSD ratio high-k" not in df.columns
    assert df.attrs["n_sequences"] == 1  # 16 frames < sequence_length 24: one sequence
    # another dim order of the same grid is fine
    flipped = fills["linear"].transpose("longitude", "latitude", "time")
    same = seainpaint.evaluate(truth, obs, {"a": flipped}, features=False)
    assert same.loc["a", "MAE"] == pytest.approx(df.loc["method 1", "MAE"])
    net = metrics.SmallFeatureNet(dims=2, seed=7)
    only_fid = seainpaint.evaluate(truth, obs, fills, features={"fid": net}, diagnostics=False)
    assert "FID" in only_fid.columns and "FVD" not in only_fid.columns
    with pytest.raises(FieldError, match="grid"):
        seainpaint.evaluate(truth, obs, [fills["linear"].isel(time=slice(0, 8))])
    with pytest.raises(SeainpaintError, match="names"):
        seainpaint.evaluate(truth, obs, list(fills.values()), names=["a"])
    with pytest.raises(SeainpaintError, match="features"):
        seainpaint.evaluate(truth, obs, fills, features="inception")


def _markdown_rows(text: str) -> list[list[str]]:
    """The cells of a Markdown table (header first, the |---| line left out)."""
    lines = [line.strip() for line in text.splitlines() if line.startswith("|")]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    return [row for row in rows if not all(set(c) <= set(":-") for c in row)]


def test_writers(case, tmp_path):
    truth, obs, fills = case
    df = seainpaint.evaluate(truth, obs, fills, sequence_length=8, diagnostics=False)
    csv = write_table(df, tmp_path / "t.csv")
    back = pd.read_csv(csv, index_col="method")
    np.testing.assert_allclose(back.values, df.values, rtol=1e-5)
    md = write_table(df, tmp_path / "t.md").read_text()
    assert md.count("\n|") >= 3 and "±" in md and "climatology" in md and "MAE (°C)" in md
    js = json.loads(write_table(df, tmp_path / "t.json").read_text())
    assert js["methods"]["linear"]["MAE"] == pytest.approx(df.loc["linear", "MAE"])
    assert js["meta"]["n_sequences"] == 2
    with pytest.raises(OutputExistsError):
        write_table(df, tmp_path / "t.csv")
    write_table(df, tmp_path / "t.csv", "json", overwrite=True)
    assert json.loads((tmp_path / "t.csv").read_text())["methods"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.json", "t.md"]
    table = format_table(df)
    assert table.loc["linear", "MAE (°C)"].count("±") == 1
    # the Markdown table holds format_table's strings exactly (no re-parsed numbers)
    rows = _markdown_rows(md)
    assert rows[0] == ["method", *table.columns]
    cells = zip(table.index, table.values.tolist(), strict=True)
    assert rows[1:] == [[name, *row] for name, row in cells]
    with pytest.raises(SeainpaintError, match="format"):
        render_table(df, "xlsx")


def test_cli_evaluate(case, tmp_path):
    truth, obs, fills = case
    paths = {
        "truth": seainpaint.to_netcdf(truth, tmp_path / "truth.nc"),
        "obs": seainpaint.to_netcdf(obs, tmp_path / "obs.nc"),
        "linear": seainpaint.to_netcdf(fills["linear"], tmp_path / "linear.nc"),
    }
    zarr_path = tmp_path / "clim.zarr"
    fills["climatology"].drop_vars("inpaint_flag").to_dataset(name=truth.name).to_zarr(zarr_path)
    # the written product holds the field and inpaint_flag: the field is found alone
    assert open_field(paths["linear"]).name == truth.name
    runner = CliRunner()
    args = [
        "evaluate",
        str(paths["truth"]),
        str(paths["obs"]),
        str(paths["linear"]),
        str(zarr_path),
        "--sequence-length",
        "8",
    ]
    res = runner.invoke(app, [*args, "--format", "json", "--no-fid"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert set(data["methods"]) == {"linear", "clim"}
    expected = seainpaint.evaluate(truth, obs, fills, sequence_length=8, features=False)
    assert data["methods"]["linear"]["MAE"] == pytest.approx(expected.loc["linear", "MAE"])
    assert data["methods"]["clim"]["RMSE"] == pytest.approx(expected.loc["climatology", "RMSE"])
    out = tmp_path / "table.md"
    res = runner.invoke(app, [*args, "--names", "lin,clim", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "lin" in res.stdout and "FVD" in res.stdout  # the rich table
    assert [row[0] for row in _markdown_rows(out.read_text())[1:]] == ["lin", "clim"]
    res = runner.invoke(app, [*args, "--names", "lin,clim", "-o", str(out)])
    assert res.exit_code == 2 and "exists" in res.output
    res = runner.invoke(app, [*args, "--names", "only-one", "--no-fid"])
    assert res.exit_code == 2 and "names" in res.output
    res = runner.invoke(app, [*args, "--variable", "nope", "--no-fid"])
    assert res.exit_code == 2 and "no variable 'nope'" in res.output
    res = runner.invoke(app, [*args, "--format", "xlsx"])
    assert res.exit_code == 2 and "format" in res.output


def test_open_field_needs_a_variable_when_ambiguous(tmp_path):
    da = xr.DataArray(np.zeros((2, 3, 3)), dims=("time", "y", "x"))
    xr.Dataset({"a": da, "b": da}).to_netcdf(tmp_path / "two.nc")
    with pytest.raises(FieldError, match="--variable"):
        open_field(tmp_path / "two.nc")
    assert open_field(tmp_path / "two.nc", "b").name == "b"
    with pytest.raises(FileNotFoundError):
        open_field(tmp_path / "missing.nc")
