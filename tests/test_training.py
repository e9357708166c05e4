"""seainpaint.train: learning, resume, time budget, stores, variants, CLI."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
import xarray as xr
from tiny import TINY
from typer.testing import CliRunner

import seainpaint
from seainpaint import InpaintModel, SeainpaintError
from seainpaint.cli import app
from seainpaint.training import CHECKPOINT_FILE


def _field(n_time: int = 32, size: int = 16, amplitude: float = 3.0) -> xr.DataArray:
    """Smooth in time and space: a strong, shared temporal oscillation plus a pattern."""
    t = np.arange(n_time)[:, None, None]
    yy = np.linspace(0, 2, size)[None, :, None]
    xx = np.linspace(0, 2, size)[None, None, :]
    values = 20.0 + amplitude * np.sin(2 * np.pi * t / 24.0) + 0.3 * np.cos(yy) * np.sin(xx)
    return xr.DataArray(
        np.broadcast_to(values, (n_time, size, size)).astype(np.float32),
        dims=("time", "y", "x"),
        name="sst",
        attrs={"units": "degC"},
    )


def _occluded_mae(filled: xr.DataArray, truth: xr.DataArray, obs: xr.DataArray) -> float:
    hidden = ~np.isfinite(obs.values) & np.isfinite(truth.values)
    return float(np.abs(filled.values - truth.values)[hidden].mean())


def test_training_with_defaults_beats_interpolation_in_time():
    # every pixel follows one random walk in time (plus a fixed pattern), half the pixels
    # are hidden at random: interpolation in time cannot know the walk between two
    # observations, the observed neighbours at the same time show it. With default options
    # (own clouds, self-supervised) a minute of training learns to use them
    # (measured: 0.74x the interpolation's error after 40 steps, 0.72x after 80)
    rng = np.random.default_rng(0)
    n, size = 64, 16
    walk = np.cumsum(rng.normal(0.0, 1.0, n))
    pattern = 0.3 * np.cos(np.linspace(0, 2, size))[:, None] * np.sin(np.linspace(0, 2, size))
    truth = xr.DataArray((20 + walk[:, None, None] + pattern).astype(np.float32),
                         dims=("time", "y", "x"), name="sst", attrs={"units": "degC"})
    obs = seainpaint.occlude(truth, seainpaint.RemovePixel(0.5), seed=0)
    del obs.attrs["seainpaint_occlusion"]  # like real data: no recorded process
    model = seainpaint.train(obs, steps=60, window=8, patch=16, batch_size=4, n_val=2,
                             eval_every=10, progress=False, seed=0)
    learned = _occluded_mae(obs.inpaint.fill(model), truth, obs)
    linear = _occluded_mae(obs.inpaint.fill("linear"), truth, obs)
    assert learned < 0.85 * linear, (learned, linear)
    info = model.config["training"]
    assert info["steps"] == 60 and model.config["process"]["name"] == "FieldClouds"
    assert info["best_val_mae"] is not None and info["best_step"] > 0
    assert [h["step"] for h in info["history"]] == list(range(0, 61, 10))


def test_resume_continues_from_checkpoint(tmp_path):
    obs = seainpaint.occlude(_field(), seainpaint.RemovePixel(0.3), seed=1)
    opts = dict(TINY, eval_every=2, checkpoint_every=2, seed=5)
    straight = seainpaint.train(obs, steps=4, checkpoint_dir=tmp_path / "a", **opts)
    assert straight.config["training"]["steps"] == 4
    first = seainpaint.train(obs, steps=2, checkpoint_dir=tmp_path / "b", **opts)
    assert first.config["training"]["steps"] == 2
    assert (tmp_path / "b" / CHECKPOINT_FILE).is_file()
    resumed = seainpaint.train(
        obs, steps=4, checkpoint_dir=tmp_path / "b", resume=True, **opts
    )
    info = resumed.config["training"]
    assert info["steps"] == 4
    assert [h["step"] for h in info["history"]] == [0, 2, 4]
    state = torch.load(tmp_path / "b" / CHECKPOINT_FILE, weights_only=True)
    assert state["step"] == 4
    # same random state and weights: the resumed run is the straight run
    a = torch.load(tmp_path / "a" / CHECKPOINT_FILE, weights_only=True)["G"]
    for key, value in state["G"].items():
        torch.testing.assert_close(value, a[key], rtol=1e-4, atol=1e-5)
    # a checkpoint made with other options is refused
    with pytest.raises(SeainpaintError, match="window"):
        seainpaint.train(
            obs, steps=6, checkpoint_dir=tmp_path / "b", resume=True, **dict(opts, window=3)
        )


def test_max_minutes_stops_cleanly():
    obs = seainpaint.occlude(_field(), seainpaint.RemovePixel(0.3), seed=2)
    start = time.monotonic()
    model = seainpaint.train(obs, max_minutes=0.05, eval_every=1000, **TINY)
    elapsed = time.monotonic() - start
    info = model.config["training"]
    assert info["stopped_by"] == "max_minutes"
    assert info["steps"] >= 1
    assert elapsed < 30
    assert isinstance(model, InpaintModel)
    if not torch.cuda.is_available():  # device "auto" falls back to the CPU
        assert info["device"] == "cpu"


def test_epochs_define_the_number_of_steps():
    obs = seainpaint.occlude(_field(n_time=32), seainpaint.RemovePixel(0.3), seed=2)
    # 32 frames = 8 windows of 4 frames, one 16x16 patch each: 4 steps of 2 per epoch
    model = seainpaint.train(obs, epochs=0.5, **TINY)
    assert model.config["training"]["steps"] == 2


def test_zarr_store_process_from_attrs_and_cli(tmp_path):
    field = _field(n_time=24)
    field[:, :2, :3] = np.nan  # land
    obs = seainpaint.occlude(field, seainpaint.MovingVerticalBar(0.2), seed=0)
    store = tmp_path / "cloudy.zarr"
    obs.to_dataset().to_zarr(store)
    # the process is rebuilt from the store's attributes; the store is read lazily
    model = seainpaint.train(store, variable="sst", steps=2, **TINY)
    assert model.config["process"]["name"] == "MovingVerticalBar"
    assert model.config["data"]["variable"] == "sst"
    filled = obs.inpaint.fill(model)
    land = ~np.isfinite(obs.values).any(axis=0)
    assert np.isnan(filled.values[:, land]).all()
    assert np.isfinite(filled.values[:, ~land]).all()

    out = tmp_path / "model"
    result = CliRunner().invoke(
        app,
        ["train", str(store), "-o", str(out), "--steps", "2", "--window", "4", "--patch", "16",
         "--batch-size", "2", "--base", "4"],
    )
    assert result.exit_code == 0, result.output
    assert "2 steps" in result.output
    loaded = InpaintModel.load(out)
    assert loaded.config["training"]["steps"] == 2
    assert (tmp_path / "model.checkpoints" / CHECKPOINT_FILE).is_file()
    again = CliRunner().invoke(app, ["train", str(store), "-o", str(out), "--steps", "1"])
    assert again.exit_code == 2 and "exists" in again.output

    product = tmp_path / "filled.nc"
    filled_cli = CliRunner().invoke(app, ["fill", str(store), "--model", str(out), "-o",
                                          str(product)])
    assert filled_cli.exit_code == 0, filled_cli.output
    with xr.open_dataset(product) as ds:
        values = ds["sst"].values
        assert (ds["inpaint_flag"].values == 1).any()
    seen = np.isfinite(obs.values)
    np.testing.assert_array_equal(values[seen], obs.values[seen])
    assert np.isfinite(values[:, ~land]).all() and np.isnan(values[:, land]).all()


def test_without_a_usable_process_the_fields_own_clouds_are_used():
    lwp = xr.DataArray(
        np.random.default_rng(0).gamma(2.0, 40.0, (6, 16, 16)), dims=("time", "y", "x")
    )
    obs = seainpaint.occlude(_field(n_time=8), seainpaint.Cloud(lwp, threshold=70), seed=0)
    # a Cloud built on an in-memory LWP cannot be rebuilt from the attribute: own clouds
    model = seainpaint.train(obs, steps=1, **TINY)
    assert model.config["process"]["name"] == "FieldClouds"
    assert 0 < model.config["process"]["cover"] < 1
    # no process recorded at all (real data): own clouds, silently
    real = obs.copy()
    del real.attrs["seainpaint_occlusion"]
    assert seainpaint.train(real, steps=1, **TINY).config["process"]["name"] == "FieldClouds"
    # a field without gaps has no clouds to learn from
    plain = _field(n_time=8)
    with pytest.raises(SeainpaintError, match="process="):
        seainpaint.train(plain, steps=1, **TINY)
    # given explicitly, it trains
    model = seainpaint.train(obs, process=seainpaint.Cloud(lwp, threshold=70), steps=1, **TINY)
    assert model.config["process"]["name"] == "Cloud"


@pytest.mark.parametrize(
    "options",
    [
        {"variant": "static"},
        {"variant": "recurrent"},
        {"supervised": "unpaired"},
        {"supervised": "paired"},
    ],
)
def test_variants_train_and_fill(options):
    truth = _field(n_time=16)
    obs = seainpaint.occlude(truth, seainpaint.RemovePixel(0.3), seed=4)
    clean = truth if "supervised" in options else None
    model = seainpaint.train(obs, steps=2, clean=clean, **options, **TINY)
    assert model.config["generator"]["variant"] == options.get("variant", "spatiotemporal")
    filled = obs.inpaint.fill(model)
    observed = np.isfinite(obs.values)
    np.testing.assert_array_equal(filled.values[observed], obs.values[observed])
    assert np.isfinite(filled.values).all()


def test_bad_options_are_refused():
    obs = seainpaint.occlude(_field(n_time=8), seainpaint.RemovePixel(0.3), seed=0)
    with pytest.raises(SeainpaintError, match="clean"):
        seainpaint.train(obs, supervised="paired", steps=1, **TINY)
    with pytest.raises(SeainpaintError, match="variant"):
        seainpaint.train(obs, variant="nope", steps=1, **TINY)
    with pytest.raises(SeainpaintError, match="checkpoint_dir"):
        seainpaint.train(obs, resume=True, steps=1, **TINY)
    with pytest.raises(SeainpaintError, match="steps"):
        seainpaint.train(obs, steps=0, **TINY)
    # an option the run would never read is refused, not silently dropped
    with pytest.raises(SeainpaintError, match="do nothing with loss='self-supervised'"):
        seainpaint.train(obs, steps=1, discriminator_options={"base": 4}, **TINY)
    with pytest.raises(SeainpaintError, match="paired_weight"):
        seainpaint.train(obs, loss="paper", steps=1, paired_weight=3.0, **TINY)


class _Payload:
    """Pickles to a call of os.system: what a crafted checkpoint would carry."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


def test_a_crafted_or_corrupt_checkpoint_is_refused_without_running_code(tmp_path):
    obs = seainpaint.occlude(_field(), seainpaint.RemovePixel(0.3), seed=1)
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    marker = tmp_path / "pwned"
    torch.save({"step": 1, "G": _Payload(marker)}, ckpt / CHECKPOINT_FILE)
    with pytest.raises(seainpaint.TrainingError, match="checkpoint"):
        seainpaint.train(obs, steps=2, checkpoint_dir=ckpt, resume=True, **TINY)
    assert not marker.exists()
    # truncated: a clear error naming the file
    seainpaint.train(obs, steps=1, checkpoint_dir=tmp_path / "ok", **TINY)
    data = (tmp_path / "ok" / CHECKPOINT_FILE).read_bytes()
    (tmp_path / "ok" / CHECKPOINT_FILE).write_bytes(data[: len(data) // 3])
    with pytest.raises(seainpaint.TrainingError, match=CHECKPOINT_FILE):
        seainpaint.train(obs, steps=2, checkpoint_dir=tmp_path / "ok", resume=True, **TINY)


def test_a_record_too_short_to_hold_frames_out_says_so():
    """Short records (fewer than five fill windows) validate on their training frames:
    train says so and records it; longer ones keep their last frames out."""
    import warnings

    from seainpaint import synthetic
    from seainpaint.errors import SeainpaintWarning

    def cloudy(n_time: int) -> xr.DataArray:
        sst = synthetic.sst(n_time=n_time, size=16, seed=0)
        rng = np.random.default_rng(0)
        return sst.where(rng.random(sst.shape) > 0.3)

    opts = dict(TINY, fill_window=4, steps=1, eval_every=1)
    with pytest.warns(SeainpaintWarning, match="no frames were held out"):
        short = seainpaint.train(cloudy(15), **opts)
    info = short.config["training"]
    assert info["validation_held_out"] is False and info["validation_frames"] == [0, 15]
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*held out", category=SeainpaintWarning)
        long = seainpaint.train(cloudy(40), **opts)
    info = long.config["training"]
    assert info["validation_held_out"] is True and info["validation_frames"] == [36, 40]
