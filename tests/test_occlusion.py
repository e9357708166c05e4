"""Occlusion processes: masks, time correlation, parameters, F and occlude()."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

import seainpaint as si
from seainpaint import metrics, synthetic
from seainpaint.errors import OcclusionError
from seainpaint.occlusion import OcclusionProcess, apply_measurement

SHAPE = (20, 48, 64)


@pytest.fixture(scope="module")
def lwp() -> xr.DataArray:
    return synthetic.lwp(40, 48, seed=3)


def processes(lwp):
    return [
        si.RemovePixel(0.3),
        si.Raindrops(n=8, width=0.05, length=(0.1, 0.3), speed=(0.05, 0.1)),
        si.MovingVerticalBar(width=0.2, speed=0.05),
        si.Cloud(lwp, threshold=70),
    ]


def test_masks_are_boolean_seeded_and_varied(lwp):
    for process in processes(lwp):
        a = process.masks(SHAPE, seed=1)
        b = process.masks(SHAPE, seed=1)
        c = process.masks(SHAPE, seed=2)
        assert a.shape == SHAPE and a.dtype == bool
        assert np.array_equal(a, b), process
        assert not np.array_equal(a, c), process
        assert 0 < a.mean() < 1, process


def test_remove_pixel_fraction_and_independence():
    m = si.RemovePixel(0.3).masks(SHAPE, seed=0)
    assert abs((1 - m.mean()) - 0.3) < 0.01
    # independent frames: agreement between consecutive frames is what chance gives
    agree = (m[1:] == m[:-1]).mean()
    assert abs(agree - (0.7**2 + 0.3**2)) < 0.01
    assert si.RemovePixel.fill_value == 0.0 and not si.RemovePixel.time_dependent


def test_moving_bar_has_its_width_and_moves_with_wrap():
    bar = si.MovingVerticalBar(width=0.25, speed=0.1)
    m = bar.masks((12, 16, 40), seed=5)
    hidden_cols = (~m).all(axis=1)  # (T, W): a vertical bar hides whole columns
    assert np.all(hidden_cols.sum(axis=1) == 10)
    assert np.array_equal((~m).any(axis=1), hidden_cols)
    shifts = [
        int(np.argmax([np.array_equal(np.roll(hidden_cols[t], s), hidden_cols[t + 1])
                       for s in range(40)]))
        for t in range(11)
    ]
    assert set(shifts) <= {4, 36}  # 0.1 × 40 px per frame, left or right, with wrap
    assert len(set(shifts)) == 1


def test_raindrops_fall_down_and_wrap():
    drop = si.Raindrops(n=1, width=0.1, length=0.2, speed=0.25)
    m = drop.masks((12, 40, 40), seed=0)
    rows = [np.flatnonzero((~m[t]).any(axis=1)) for t in range(12)]
    tops = [int(r.min()) for r in rows if r.size and r.max() < 39 and r.min() > 0]
    steps = np.diff(tops)
    # fully visible drop: moves down 0.25 × 40 = 10 rows per frame, wrapping to the top
    assert len(tops) >= 4
    assert set(steps[steps > 0].tolist()) == {10}
    assert (steps < 0).any()


def test_parameters_outside_unit_interval_are_refused(lwp):
    with pytest.raises(ValueError, match="]0, 1"):
        si.RemovePixel(1.5)
    with pytest.raises(ValueError, match="width"):
        si.Raindrops(width=2.0)
    with pytest.raises(ValueError, match="exactly one"):
        si.Cloud(lwp)
    with pytest.raises(si.FieldError, match="dims"):
        si.Cloud(lwp.isel(time=0), threshold=70)
    # one family: the same errors are seainpaint errors (the CLI's one-line exit 2)
    for bad in (lambda: si.RemovePixel(1.5), lambda: si.Raindrops(n=0), lambda: si.Cloud(lwp)):
        with pytest.raises(OcclusionError):
            bad()
    with pytest.raises(OcclusionError, match="crop"):
        si.Cloud(lwp, threshold=70, crop=(0.8, 0.2))
    with pytest.raises(OcclusionError, match="range must be"):
        si.Raindrops(length=(0.4, 0.1))


def test_cloud_cover_follows_threshold_and_cover(lwp):
    covers = [1 - si.Cloud(lwp, threshold=t).masks(SHAPE, seed=0).mean() for t in (55, 70, 80)]
    assert covers[0] > covers[1] > covers[2]
    target = si.Cloud(lwp, cover=0.4)
    assert abs(target.mean_cover - 0.4) < 0.02
    sampled = np.mean([1 - target.masks(SHAPE, seed=s).mean() for s in range(8)])
    assert abs(sampled - 0.4) < 0.1


def test_cloud_masks_are_time_correlated(lwp):
    m = si.Cloud(lwp, threshold=70).masks(SHAPE, seed=0)
    agree = (m[1:] == m[:-1]).mean()
    p = m.mean()
    assert agree > p**2 + (1 - p) ** 2 + 0.1


def test_cloud_from_zarr_store_and_config_round_trip(lwp, tmp_path):
    store = tmp_path / "lwp.zarr"
    lwp.to_dataset().to_zarr(store)
    cloud = si.Cloud(store, threshold=70)
    rebuilt = OcclusionProcess.from_config(json.loads(json.dumps(cloud.to_config())))
    assert np.array_equal(rebuilt.masks(SHAPE, seed=4), cloud.masks(SHAPE, seed=4))
    in_memory = si.Cloud(lwp, threshold=70)
    with pytest.raises(si.SeainpaintError, match="pass the LWP"):
        OcclusionProcess.from_config(in_memory.to_config())
    for p in (si.RemovePixel(0.2), si.Raindrops(), si.MovingVerticalBar()):
        again = OcclusionProcess.from_config(json.loads(json.dumps(p.to_config())))
        assert np.array_equal(again.masks(SHAPE, seed=1), p.masks(SHAPE, seed=1))


def test_measurement_operator():
    x = np.array([[0.2, 0.4], [0.6, 0.8]])
    m = np.array([[True, False], [False, True]])
    assert np.array_equal(apply_measurement(x, m, 1.0), [[0.2, 1.0], [1.0, 0.8]])
    assert np.array_equal(apply_measurement(x, m.astype(float), 0.0), [[0.2, 0.0], [0.0, 0.8]])


def test_occlude_keeps_land_coords_attrs_and_records_process():
    land = np.zeros((32, 32), dtype=bool)
    land[:5, :7] = True
    truth = synthetic.sst(10, 32, seed=1, land=land)
    obs = truth.inpaint.occlude(si.RemovePixel(0.4), seed=0)
    assert obs.dims == truth.dims and obs.attrs["units"] == truth.attrs["units"]
    xr.testing.assert_identical(obs.latitude, truth.latitude)
    assert np.isnan(obs.values[:, land]).all()
    kept = np.isfinite(obs.values)
    assert np.array_equal(obs.values[kept], truth.values[kept])
    assert abs(metrics.occlusion_rate(obs) - 0.4) < 0.03
    assert json.loads(obs.attrs["seainpaint_occlusion"])["name"] == "RemovePixel"
    assert "RemovePixel" in obs.attrs["history"]
    with pytest.raises(TypeError, match="OcclusionProcess"):
        truth.inpaint.occlude("clouds")
    with pytest.raises(OcclusionError, match="OcclusionProcess"):
        truth.inpaint.occlude("clouds")


def test_a_custom_process_with_a_wrong_mask_is_a_clear_error():
    class Broken(OcclusionProcess):
        def __init__(self, shape_fn):
            self.shape_fn = shape_fn

        def sample(self, shape, rng):
            return np.ones(self.shape_fn(shape), dtype=bool)

        def to_config(self):
            return {"name": "Broken"}

    field = xr.DataArray(np.zeros((4, 5, 6), np.float32), dims=("time", "y", "x"), name="f")
    with pytest.raises(OcclusionError, match=r"shape \(4, 5, 7\).*\(4, 5, 6\)"):
        si.occlude(field, Broken(lambda s: (s[0], s[1], s[2] + 1)))
    assert si.occlude(field, Broken(lambda s: s)).shape == field.shape
