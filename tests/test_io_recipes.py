"""Data recipes in data_recipes/: parsing, the paper's numbers, and building them."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from seainpaint.cli import app
from seainpaint.errors import OutputExistsError
from seainpaint.io.recipes import (
    RecipeError,
    build,
    list_recipes,
    load_recipe,
    pad_or_cut,
    split_indices,
)
from seainpaint.io.video import open_video, to_video

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SEAINPAINT_SHARED_DATA", ROOT.parent / "shared" / "data"))


def test_recipes_hold_the_papers_datasets() -> None:
    names = list_recipes()
    assert {"sst_train", "sst_test", "lwp", "video"} <= set(names)
    for name in ("sst_train", "sst_test", "lwp", "video"):  # plain TOML, readable by anyone
        assert tomllib.loads(names[name].read_text())["kind"] == load_recipe(name).kind
    train = load_recipe("sst_train")
    assert train.needs_network and train.kind == "sst"
    assert train.section("region") == {"south": 20.0, "north": 25.25, "west": -40.0, "east": -34.75}
    assert (train.get("time", "start"), train.get("time", "end")) == ("2018-01-01", "2018-12-31")
    # 64 points of the 1/12 degree grid per side, as in the paper
    for r in (train, load_recipe("sst_test")):
        reg = r.section("region")
        assert round((reg["north"] - reg["south"]) * 12) + 1 == 64
        assert round((reg["east"] - reg["west"]) * 12) + 1 == 64
    test = load_recipe("sst_test")
    assert test.section("region") == {
        "south": -20.0,
        "north": -14.75,
        "west": -20.0,
        "east": -14.75,
    }
    days = np.datetime64(test.get("time", "end")) - np.datetime64(test.get("time", "start"))
    assert days.astype(int) + 1 == 60  # first 60 days of 2019
    assert load_recipe("lwp").get("occlusion", "thresholds") == [55, 60, 65, 70, 75, 80]
    video = load_recipe("video")
    assert video.get("preprocess", "size") == 64 and video.get("preprocess", "frames") == 35
    assert [video.get("split", k) for k in ("train", "validation", "test")] == [0.9, 0.05, 0.05]


def test_unknown_and_malformed_recipes(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match="unknown recipe 'nope'.*sst_train"):
        load_recipe("nope")
    bad = tmp_path / "bad.toml"
    bad.write_text("kind = 'radar'\n")
    with pytest.raises(RecipeError, match="kind='radar'"):
        load_recipe(bad)
    bad.write_text("kind = [unclosed\n")
    with pytest.raises(RecipeError, match="cannot read recipe"):
        load_recipe(bad)


def test_split_is_90_5_5_and_disjoint() -> None:
    parts = split_indices(200, (0.9, 0.05, 0.05), seed=3)
    assert {k: len(v) for k, v in parts.items()} == {"train": 180, "validation": 10, "test": 10}
    together = np.concatenate(list(parts.values()))
    assert np.array_equal(np.sort(together), np.arange(200))
    again = split_indices(200, (0.9, 0.05, 0.05), seed=3)
    assert all(np.array_equal(parts[k], again[k]) for k in parts)
    assert not np.array_equal(parts["test"], split_indices(200, (0.9, 0.05, 0.05), 4)["test"])
    with pytest.raises(RecipeError, match="sum to 1"):
        split_indices(10, (0.5, 0.1, 0.1))


def test_pad_or_cut() -> None:
    clip = xr.DataArray(
        np.arange(5.0)[:, None, None, None] * np.ones((5, 2, 2, 3)),
        dims=("time", "y", "x", "channel"),
        coords={"time": np.arange(5) * 0.04},
    )
    padded = pad_or_cut(clip, 8)
    assert padded.sizes["time"] == 8
    assert padded.values[:, 0, 0, 0].tolist() == [0, 1, 2, 3, 4, 4, 4, 4]
    np.testing.assert_allclose(np.diff(padded["time"].values), 0.04)
    assert pad_or_cut(clip, 3).values[:, 0, 0, 0].tolist() == [0, 1, 2]


def test_build_video_recipe_pads_and_splits(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    clips = tmp_path / "clips"
    for i, n in enumerate((10, 40, 20)):
        frames = xr.DataArray(rng.random((n, 48, 80, 3)), dims=("time", "y", "x", "channel"))
        to_video(frames, clips / f"clip{i}.mp4", fps=25)
    (clips / "readme.txt").write_text("not a clip")
    result = build("video", tmp_path / "video.zarr", input=clips, progress=False)
    ds = xr.open_zarr(tmp_path / "video.zarr")
    assert ds["video"].dims == ("clip", "time", "y", "x", "channel")
    assert ds["video"].shape == (3, 35, 64, 64, 3)
    assert list(ds["n_frames"].values) == [10, 35, 20]
    assert sum(result["split"].values()) == 3
    v = ds["video"].values
    np.testing.assert_array_equal(v[0, 10:], np.broadcast_to(v[0, 9], v[0, 10:].shape))
    first = open_video(clips / "clip1.mp4", size=64, frames=35).values
    np.testing.assert_array_equal(v[1], first)
    with pytest.raises(OutputExistsError, match="exists"):
        build("video", tmp_path / "video.zarr", input=clips, progress=False)


@pytest.mark.skipif(
    not (SHARED / "pycles").is_dir(),
    reason=f"no PyCLES data in {SHARED} (set SEAINPAINT_SHARED_DATA)",
)
def test_build_lwp_recipe_reports_cover(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["recipe", "lwp", "-o", str(tmp_path / "lwp.zarr")])
    assert res.exit_code == 0, res.output
    assert xr.open_zarr(tmp_path / "lwp.zarr").sizes["time"] == 66
    # README of the shared data: mean cover 0.193 at 55 g m-2 ... 0.022 at 80 g m-2
    assert "threshold 55 g m-2: mean cloud cover 0.193" in res.output
    assert "threshold 80 g m-2: mean cloud cover 0.022" in res.output


def test_sst_recipe_offline_says_it_needs_the_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    def offline(*a: object, **k: object) -> None:
        raise socket.gaierror(-3, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", offline)
    monkeypatch.setenv("COPERNICUSMARINE_SERVICE_USERNAME", "alice")
    monkeypatch.setenv("COPERNICUSMARINE_SERVICE_PASSWORD", "secret")
    res = CliRunner().invoke(app, ["recipe", "sst_test", "-o", str(tmp_path / "sst.zarr")])
    assert res.exit_code == 2
    assert "needs the network" in res.output and "offline" in res.output
    assert list(tmp_path.iterdir()) == []


def test_recipe_list_cli() -> None:
    res = CliRunner().invoke(app, ["recipe", "--list"])
    assert res.exit_code == 0
    assert "sst_train" in res.output and "[network]" in res.output and "video" in res.output
