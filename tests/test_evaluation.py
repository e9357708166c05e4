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
    assert "FID" not in df.columns and "Power ratio high" not in df.columns
    assert "Effective resolution (px)" not in df.columns and "dT std ratio" not in df.columns
    assert {"RMSE observed", "CRPS", "Coverage 1σ", "Coverage 2σ"} <= set(df.columns)
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
    main, _, cover = out.read_text().partition("\n\n")  # the table, then the cover table
    assert [row[0] for row in _markdown_rows(main)[1:]] == ["lin", "clim"]
    assert [row[0] for row in _markdown_rows(cover)[1:]] == ["lin"] * 5 + ["clim"] * 5
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


# ------------------------------------------------- field-standard scores (issue 16)


def gaussian_crossing(s: float) -> float:
    """Where the PSD score 1 − (1 − T)² of a Gaussian smoothing (std s) of white noise is 0.5."""
    return s * np.sqrt(2 * np.pi**2 / np.log(1 / (1 - 1 / np.sqrt(2))))


@pytest.fixture(scope="module")
def noise_case():
    """White-noise SST on a 0.25° lat-lon grid, hourly, with land and random gaps."""
    rng = np.random.default_rng(11)
    shape = (64, 48, 48)
    truth = xr.DataArray(
        20 + rng.normal(size=shape),
        dims=("time", "latitude", "longitude"),
        coords={
            "time": pd.date_range("2021-06-01", periods=shape[0], freq="h"),
            "latitude": -10 + 0.25 * np.arange(48),
            "longitude": 30 + 0.25 * np.arange(48),
        },
        name="sst",
        attrs={"units": "degree_Celsius"},
    )
    land = np.zeros(shape[1:], dtype=bool)
    land[:8, :10] = True
    truth = truth.where(~land)
    obs = truth.where(rng.random(shape) > 0.5)
    obs.attrs = dict(truth.attrs)
    return truth, obs, land


def test_evaluate_field_standard_scores(case):
    truth, obs, fills = case
    from scipy.ndimage import gaussian_filter

    linear = fills["linear"]
    # a peer that smooths the data, observations included
    blurred = linear.copy(data=gaussian_filter(linear.fillna(20).values, sigma=(0, 1, 1)))
    blurred = blurred.where(np.isfinite(linear))
    perfect = linear.copy(data=truth.values)
    df = seainpaint.evaluate(
        truth, obs, {"linear": linear, "blurred": blurred, "perfect": perfect}, features=False
    )
    for col in (
        "RMSE observed",
        "CRPS",
        "Coverage 1σ",
        "Coverage 2σ",
        "Effective resolution (px)",
        "Effective resolution (km)",
        "Effective resolution (h)",
        "Power ratio low",
        "Power ratio mid",
        "Power ratio high",
        "dT std ratio",
    ):
        assert col in df.columns, col
    assert "PSD ratio high-k" not in df.columns
    # seainpaint keeps the observations: no error there; a smoothing peer has some
    assert df.loc["linear", "RMSE observed"] == 0
    observed = np.isfinite(obs.values)
    rmse_obs = np.sqrt(np.mean((blurred.values[observed] - truth.values[observed]) ** 2))
    assert df.loc["blurred", "RMSE observed"] == pytest.approx(rmse_obs, rel=1e-6)
    assert df.loc["blurred", "RMSE observed"] > 0.01
    # no standard error: no probabilistic score
    assert df[["CRPS", "Coverage 1σ", "Coverage 2σ"]].isna().all().all()
    # the perfect fill: power ratio 1, resolution finer than the grid can tell (NaN)
    bands = ["Power ratio low", "Power ratio mid", "Power ratio high"]
    assert df.loc["perfect", bands].tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert np.isnan(df.loc["perfect", "Effective resolution (px)"])
    # resolutions are within the grid's resolved range, never absurd
    for name in ("linear", "blurred"):
        assert 2 <= df.loc[name, "Effective resolution (px)"] <= 24
    text = render_table(df, "table")
    assert "Effective resolution (px)" in text and "RMSE observed (°C)" in text


def test_evaluate_effective_resolution_known_answers(noise_case):
    from scipy.ndimage import gaussian_filter1d

    truth, obs, land = noise_case
    s_space, s_time = 2.0, 1.5
    values = truth.fillna(20).values
    space = gaussian_filter1d(gaussian_filter1d(values, s_space, axis=1), s_space, axis=2)
    time = gaussian_filter1d(values, s_time, axis=0)
    fills = {
        "space": truth.copy(data=space).where(~land),
        "time": truth.copy(data=time).where(~land),
    }
    df = seainpaint.evaluate(truth, obs, fills, features=False, sequence_length=16)
    px = df.loc["space", "Effective resolution (px)"]
    assert px == pytest.approx(gaussian_crossing(s_space), rel=0.05)
    # 0.25° at the mean latitude (−4.1°): dy = 27.8 km, dx = dy cos(lat) = 27.7 km
    dy = 0.25 * np.pi * 6371.0088 / 180
    dx = dy * np.cos(np.radians(float(truth.latitude.mean())))
    km = df.loc["space", "Effective resolution (km)"]
    assert km == pytest.approx(gaussian_crossing(s_space * np.sqrt(dx * dy)), rel=0.05)
    assert df.loc["time", "Effective resolution (h)"] == pytest.approx(
        gaussian_crossing(s_time), rel=0.05
    )
    # the spatial smoothing keeps the low band, removes the high one
    assert df.loc["space", "Power ratio high"] < 0.05 < df.loc["space", "Power ratio low"]


def test_evaluate_probabilistic_scores(noise_case):
    truth, obs, land = noise_case
    rng = np.random.default_rng(3)
    sigma_value = 0.4
    hidden = ~np.isfinite(obs.values) & ~land[None]
    sigma = xr.full_like(truth, sigma_value).where(hidden)  # NaN where observed or land
    noisy = truth + sigma_value * rng.normal(size=truth.shape) * hidden
    noisy = noisy.assign_coords(sst_standard_error=sigma)
    exact = truth.assign_coords(sst_standard_error=sigma)  # the mean on the truth
    too_sure = noisy.assign_coords(sst_standard_error=sigma / 3)
    fills = {"calibrated": noisy, "exact": exact, "too sure": too_sure, "plain": truth}
    df = seainpaint.evaluate(truth, obs, fills, features=False, diagnostics=False)
    n = int(hidden.sum())
    assert n > 50_000
    # errors N(0, σ²) forecast with σ: E[CRPS] = σ/√π, coverage 68.3 % and 95.4 %
    calibrated = df.loc["calibrated"]
    assert calibrated["CRPS"] == pytest.approx(sigma_value / np.sqrt(np.pi), rel=0.02)
    assert calibrated["Coverage 1σ"] == pytest.approx(0.6827, abs=0.01)
    assert calibrated["Coverage 2σ"] == pytest.approx(0.9545, abs=0.01)
    # the mean on the outcome: CRPS σ(√2 − 1)/√π exactly, every error within 1σ
    assert df.loc["exact", "CRPS"] == pytest.approx(sigma_value * (np.sqrt(2) - 1) / np.sqrt(np.pi))
    assert df.loc["exact", "Coverage 1σ"] == 1.0
    # σ three times too small: 1σ covers P(|z| ≤ 1/3) = 26.1 %
    assert df.loc["too sure", "Coverage 1σ"] == pytest.approx(0.2611, abs=0.01)
    assert df.loc["too sure", "CRPS"] > calibrated["CRPS"]
    assert df.loc["plain", ["CRPS", "Coverage 1σ", "Coverage 2σ"]].isna().all()
    curves = seainpaint.evaluation.calibration_curves(truth, obs, fills, levels=[0.2, 0.8])
    assert set(curves) == {"calibrated", "exact", "too sure"}
    np.testing.assert_allclose(curves["calibrated"].values, [0.2, 0.8], atol=0.01)


def test_evaluate_by_cover_constructed_case():
    # 10 × 10 sea, frame 0 fully observed (no land); later frames hide the first n pixels
    # (row-major) and the fill errs by a known constant on them
    hidden_counts = [0, 10, 20, 35, 40, 70, 90, 100]  # 20 and 40: on bin edges
    frame_errors = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    n_time = len(hidden_counts)
    truth = xr.DataArray(
        np.random.default_rng(0).normal(size=(n_time, 10, 10)),
        dims=("time", "y", "x"),
        attrs={"units": "K"},
    )
    keep = np.ones(truth.shape, dtype=bool)
    err = np.zeros(truth.shape)
    for t, (count, e) in enumerate(zip(hidden_counts, frame_errors, strict=True)):
        keep[t].flat[:count] = False
        err[t].flat[:count] = e * (-1) ** t  # the sign must not matter to MAE/RMSE
    obs = truth.where(keep)
    filled = truth + err
    df = seainpaint.evaluate_by_cover(truth, obs, {"constructed": filled, "perfect": truth})
    assert df.index.names == ["method", "Cloud cover (%)"]
    table = df.loc["constructed"]
    assert list(table.index) == ["0–20", "20–40", "40–60", "60–80", "80–100"]
    # frames by cover: 0 %, 10 % -> 0–20; 20 %, 35 % -> 20–40; 40 % -> 40–60;
    # 70 % -> 60–80; 90 %, 100 % -> 80–100
    members = {"0–20": [0, 1], "20–40": [2, 3], "40–60": [4], "60–80": [5], "80–100": [6, 7]}
    for label, frames in members.items():
        counts = np.array([hidden_counts[t] for t in frames])
        errors = np.array([frame_errors[t] for t in frames])
        assert table.loc[label, "Frames"] == len(frames)
        assert table.loc[label, "Pixels"] == counts.sum()
        assert table.loc[label, "MAE"] == pytest.approx((counts * errors).sum() / counts.sum())
        rmse = np.sqrt((counts * errors**2).sum() / counts.sum())
        assert table.loc[label, "RMSE"] == pytest.approx(rmse)
    assert (df.loc["perfect", "MAE"] == 0).all()
    np.testing.assert_allclose(
        seainpaint.evaluation.frame_cover(obs), hidden_counts, rtol=1e-12
    )  # 100 sea pixels: count = %
    # other bins; frames outside them are left out; an empty bin has NaN and no pixel
    coarse = seainpaint.evaluate_by_cover(truth, obs, [filled], bins=[20, 60, 95])
    assert coarse["Frames"].tolist() == [3, 2]
    empty = seainpaint.evaluate_by_cover(truth, obs, [filled], bins=[0, 5, 100])
    assert empty.loc[("method 1", "0–5"), "Frames"] == 1
    assert empty.loc[("method 1", "0–5"), "Pixels"] == 0
    assert np.isnan(empty.loc[("method 1", "0–5"), "MAE"])
    for bad in ([0], [40, 20], [0, 150]):
        with pytest.raises(SeainpaintError, match="bins"):
            seainpaint.evaluate_by_cover(truth, obs, [filled], bins=bad)
    text = render_table(seainpaint.evaluate(truth, obs, [filled], features=False), "markdown", df)
    cover_rows = _markdown_rows(text.partition("\n\n")[2])
    assert cover_rows[0] == ["method", "Cloud cover (%)", "Frames", "Pixels", "MAE (K)", "RMSE (K)"]
    assert cover_rows[2][:4] == ["constructed", "20–40", "2", "55"]


def test_distances_to_an_observation_known_answers():
    from seainpaint.metrics import distance_to_observation

    observed = np.zeros((7, 1, 3), dtype=bool)
    observed[[1, 5], 0, 0] = True  # pixel 0 seen at frames 1 and 5
    observed[3, 0, 1] = True  # pixel 1 at frame 3 only; pixel 2 never
    frames = distance_to_observation(observed, "time")[:, 0, :]
    np.testing.assert_array_equal(frames[:, 0], [1, 0, 1, 2, 1, 0, 1])
    np.testing.assert_array_equal(frames[:, 1], [3, 2, 1, 0, 1, 2, 3])
    assert np.isinf(frames[:, 2]).all()
    grid = np.zeros((2, 5, 5), dtype=bool)
    grid[0, 0, 0] = True  # frame 1 has no observation
    pixels = distance_to_observation(grid, "space")
    assert pixels[0, 0, 0] == 0 and pixels[0, 0, 4] == 4
    assert pixels[0, 3, 4] == pytest.approx(5.0)  # Euclidean: a 3-4-5 triangle
    assert np.isinf(pixels[1]).all()
    with pytest.raises(SeainpaintError, match="axis"):
        distance_to_observation(grid, "depth")


def test_evaluate_by_distance_constructed_case():
    # one 1 × 6 strip over 9 frames: columns 0-2 observed at frame 0 only (hidden frames
    # 1-8 frames from an observation), columns 3-5 at frames 0 and 8 (1-4 frames); the
    # fill errs on each hidden pixel by that distance in frames
    n_time = 9
    truth = xr.DataArray(np.random.default_rng(1).normal(size=(n_time, 1, 6)),
                         dims=("time", "y", "x"), attrs={"units": "K"})
    keep = np.zeros(truth.shape, dtype=bool)
    keep[0] = True
    keep[8, :, 3:] = True
    from seainpaint.metrics import distance_to_observation

    distance = distance_to_observation(keep, "time")
    err = np.where(keep, 0.0, distance)
    obs, filled = truth.where(keep), truth + err
    df = seainpaint.evaluate_by_distance(truth, obs, {"constructed": filled, "perfect": truth})
    assert df.index.names == ["method", "Frames to an observation"]
    table = df.loc["constructed"]
    assert list(table.index) == ["1", "2–3", "4–6", "7–12", "13–24", "25–48", "≥ 49", "none"]
    hidden = ~keep
    abs_total = err[hidden].sum()
    for label, lo, hi in [("1", 1, 2), ("2–3", 2, 4), ("4–6", 4, 7), ("7–12", 7, 13)]:
        inside = hidden & (distance >= lo) & (distance < hi)
        assert table.loc[label, "Pixels"] == inside.sum()
        assert table.loc[label, "MAE"] == pytest.approx(err[inside].mean())
        assert table.loc[label, "RMSE"] == pytest.approx(np.sqrt((err[inside] ** 2).mean()))
        assert table.loc[label, "Share (%)"] == pytest.approx(100 * inside.sum() / hidden.sum())
        assert table.loc[label, "Error share (%)"] == pytest.approx(
            100 * err[inside].sum() / abs_total)
    assert table["Pixels"].sum() == hidden.sum()
    assert table["Error share (%)"].sum() == pytest.approx(100.0)
    assert table.loc["none", "Pixels"] == 0 and np.isnan(table.loc["none", "MAE"])
    assert (df.loc["perfect", "MAE"].dropna() == 0).all()
    assert df.loc["perfect", "Error share (%)"].isna().all()  # no error at all: no share

    # in space: a frame observed on its left column only; pixels j columns away err by j
    space_keep = np.zeros((3, 4, 4), dtype=bool)
    space_keep[0, :, 0] = True  # frame 1: nothing observed; frame 2 all (so no land)
    space_keep[2] = True
    truth2 = xr.DataArray(np.zeros((3, 4, 4)), dims=("time", "y", "x"))
    columns = np.broadcast_to(np.arange(4.0), (3, 4, 4))
    fill2 = xr.DataArray(np.where(space_keep, 0.0, columns), dims=("time", "y", "x"))
    by_space = seainpaint.evaluate_by_distance(truth2, truth2.where(space_keep), [fill2],
                                               axis="space", bins=[1, 2, 3])
    rows = by_space.loc["method 1"]
    assert list(rows.index) == ["1–2", "2–3", "≥ 3", "none"]
    assert rows["Pixels"].tolist() == [4, 4, 4, 16]
    assert rows["MAE"].tolist()[:3] == [1.0, 2.0, 3.0]
    assert rows.loc["none", "MAE"] == pytest.approx(1.5)
    for bad in ([], [0, 1], [3, 2]):
        with pytest.raises(SeainpaintError, match="bins"):
            seainpaint.evaluate_by_distance(truth, obs, [filled], bins=bad)
    with pytest.raises(SeainpaintError, match="axis"):
        seainpaint.evaluate_by_distance(truth, obs, [filled], axis="depth")
    text = seainpaint.evaluation.format_distance_table(df)
    assert text.loc["constructed"].iloc[0].tolist()[:2] == ["1", str(table.loc["1", "Pixels"])]


def test_cli_evaluate_new_scores_and_figures(noise_case, tmp_path):
    truth, obs, land = noise_case
    truth, obs = truth.isel(time=slice(0, 24)), obs.isel(time=slice(0, 24))
    linear = seainpaint.fill(obs, "linear")
    hidden = ~np.isfinite(obs.values) & ~land[None]
    sigma = xr.full_like(truth, 0.5).where(hidden).astype(linear.dtype)
    with_sigma = linear.assign_coords(sst_standard_error=sigma.variable)
    paths = [
        seainpaint.to_netcdf(truth, tmp_path / "truth.nc"),
        seainpaint.to_netcdf(obs, tmp_path / "obs.nc"),
        seainpaint.to_netcdf(with_sigma, tmp_path / "linear.nc"),
    ]
    runner = CliRunner()
    args = ["evaluate", *map(str, paths), "--no-fid", "--sequence-length", "12"]
    res = runner.invoke(app, [*args, "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    row = data["methods"]["linear"]
    expected = seainpaint.evaluate(
        truth, obs, {"linear": with_sigma}, features=False, sequence_length=12
    )
    for col in ("RMSE observed", "CRPS", "Coverage 1σ", "Power ratio mid"):
        assert row[col] == pytest.approx(expected.loc["linear", col]), col
    # white noise gapped by half: no scale resolved, the resolution cannot be computed
    assert np.isnan(expected.loc["linear", "Effective resolution (px)"])
    assert row["Effective resolution (px)"] is None  # JSON null, not an absurd number
    assert row["RMSE observed"] == 0 and row["CRPS"] > 0
    bins = data["by_cover"]["linear"]
    assert set(bins) == {"0–20", "20–40", "40–60", "60–80", "80–100"}
    assert sum(b["Pixels"] for b in bins.values()) == int(hidden.sum())
    assert "by_distance_time" not in data  # only when asked
    res = runner.invoke(app, [*args, "--format", "json", "--by-distance"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    for axis in ("time", "space"):
        expected = seainpaint.evaluate_by_distance(truth, obs, {"linear": with_sigma}, axis=axis)
        got = data[f"by_distance_{axis}"]["linear"]
        assert list(got) == list(expected.loc["linear"].index)
        assert sum(b["Pixels"] for b in got.values()) == int(hidden.sum())
        for label, cells in got.items():
            want = expected.loc[("linear", label), "MAE"]
            assert cells["MAE"] == (None if np.isnan(want) else pytest.approx(want)), label
    res = runner.invoke(app, [*args, "--by-distance", "--format", "markdown"])
    assert res.exit_code == 0, res.output
    assert "Frames to an observation" in res.stdout and "Pixels to an observation" in res.stdout
    res = runner.invoke(app, [*args, "--by-distance"])
    assert res.exit_code == 0, res.output
    assert "error by distance in time" in res.stdout and "error by distance in space" in res.stdout
    # the rich tables, and the two figures under a prefix
    res = runner.invoke(app, [*args, "--plot", str(tmp_path / "figs" / "run")])
    assert res.exit_code == 0, res.output
    assert "Effective resolution" in res.stdout and "error by cloud cover" in res.stdout
    assert "error by distance" not in res.stdout
    figs = sorted(p.name for p in (tmp_path / "figs").iterdir())
    assert figs == ["run_calibration.png", "run_psd_score.png"]  # no temporary left
    # an existing figure is refused before anything is computed, unless --overwrite
    res = runner.invoke(app, [*args, "--plot", str(tmp_path / "figs" / "run")])
    assert res.exit_code == 2 and "exists" in res.output
    res = runner.invoke(app, [*args, "--plot", str(tmp_path / "figs" / "run"), "--overwrite"])
    assert res.exit_code == 0, res.output
    # a folder: fixed names; a fill without σ: no calibration figure, said so
    plain = seainpaint.to_netcdf(linear, tmp_path / "plain.nc")
    args[3] = str(plain)
    res = runner.invoke(app, [*args, "--plot", str(tmp_path / "out") + "/"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["psd_score.png"]
    assert "no calibration figure" in res.output
