"""Tests of the OpenCV, biharmonic and Deep Image Prior baselines through seainpaint.fill."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import seainpaint
from seainpaint import metrics
from seainpaint.baselines import BASELINES
from seainpaint.errors import MethodError

FAST_OPTIONS = {
    "telea": {},
    "navier_stokes": {},
    "biharmonic": {},
    "dip": {"iterations": 120, "num_threads": 1, "width": 16},
}


def smooth_field(n_time: int = 8, size: int = 24, channels: int = 0) -> xr.DataArray:
    t = np.arange(n_time)[:, None, None]
    y = np.arange(size)[None, :, None]
    x = np.arange(size)[None, None, :]
    values = 18.0 + 2 * np.sin(2 * np.pi * (x / size + t / 16)) + np.cos(2 * np.pi * y / size)
    dims = ("time", "latitude", "longitude")
    if channels:
        values = np.stack([values * (1 + 0.1 * c) for c in range(channels)], axis=-1)
        dims = dims + ("channel",)
    da = xr.DataArray(
        values.astype(np.float32),
        dims=dims,
        coords={"latitude": np.linspace(30, 40, size), "longitude": np.linspace(-20, -10, size)},
        name="sst",
        attrs={"units": "degree_Celsius"},
    )
    return da


def occlude_field(truth: xr.DataArray, seed: int = 0) -> xr.DataArray:
    rng = np.random.default_rng(seed)
    n_time, ny, nx = truth.shape[:3]
    keep = rng.random((n_time, ny, nx)) > 0.3
    for t in range(n_time):  # a moving square cloud
        keep[t, 6 : 6 + 6, 2 + t : 2 + t + 6] = False
    keep[:, -4:, -5:] = False  # land: never observed
    if truth.ndim == 4:
        keep = keep[..., None]
    return truth.where(keep)


@pytest.mark.parametrize("name", sorted(FAST_OPTIONS))
def test_baseline_keeps_data_model_and_beats_mean(name):
    truth = smooth_field()
    obs = occlude_field(truth)
    filled = seainpaint.fill(obs, name, **FAST_OPTIONS[name])
    observed = np.isfinite(obs.values)
    land = ~observed.any(axis=0)
    # observed pixels bit-for-bit, land NaN, every gap filled
    assert np.array_equal(filled.values[observed], obs.values[observed])
    assert np.isnan(filled.values[:, land]).all()
    assert np.isfinite(filled.values[:, ~land]).all()
    assert filled.dims == obs.dims and filled.dtype == obs.dtype
    mean_fill = obs.fillna(float(obs.mean()))
    err = metrics.mae(truth, filled, obs)
    assert err < 0.5 * metrics.mae(truth, mean_fill, obs), name


@pytest.mark.parametrize("name", ["telea", "navier_stokes", "biharmonic"])
def test_spatial_baselines_on_three_channels(name):
    truth = smooth_field(n_time=3, size=20, channels=3)
    obs = occlude_field(truth, seed=2)
    filled = seainpaint.fill(obs, name)
    observed = np.isfinite(obs.values)
    assert np.array_equal(filled.values[observed], obs.values[observed])
    mean_fill = obs.fillna(float(obs.mean()))
    assert metrics.mae(truth, filled, obs) < 0.5 * metrics.mae(truth, mean_fill, obs)


def test_opencv_keeps_scale_of_large_values():
    # values far from [0, 1] or [0, 255] must map back to their own scale
    truth = smooth_field(n_time=2, size=20) * 1000 + 5e4
    obs = occlude_field(truth)
    filled = seainpaint.fill(obs, "telea")
    assert metrics.mae(truth, filled, obs) < 0.2 * float(truth.std())


def test_empty_frame_falls_back_to_temporal_mean():
    truth = smooth_field(n_time=4, size=16)
    obs = occlude_field(truth)
    obs[1] = np.nan
    filled = seainpaint.fill(obs, "biharmonic")
    land = ~np.isfinite(obs.values).any(axis=0)
    assert np.isfinite(filled.values[1][~land]).all()


def test_dip_is_seeded_and_validates_options():
    truth = smooth_field(n_time=4, size=16)
    obs = occlude_field(truth)
    opts = {"iterations": 20, "num_threads": 1, "width": 8, "sequence_length": 2}
    a = seainpaint.fill(obs, "dip", seed=3, **opts)
    b = seainpaint.fill(obs, "dip", seed=3, **opts)
    c = seainpaint.fill(obs, "dip", seed=4, **opts)
    assert np.array_equal(a.values, b.values, equal_nan=True)
    assert not np.array_equal(a.values, c.values, equal_nan=True)
    with pytest.raises(MethodError, match="sequence_length"):
        seainpaint.fill(obs, "dip", sequence_length=0)
    with pytest.raises(MethodError, match="unknown OpenCV algorithm"):
        seainpaint.fill(obs, "opencv", algorithm="criminisi")


def test_registered():
    for name in ("telea", "navier_stokes", "opencv", "biharmonic", "dip"):
        assert name in BASELINES
