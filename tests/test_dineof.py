"""DINEOF: exact observations, land, accuracy against simple fills, mode selection."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import seainpaint as si
from seainpaint import synthetic
from seainpaint.baselines.dineof import dineof_matrix


def occluded_mae(filled: xr.DataArray, truth: xr.DataArray, obs: xr.DataArray) -> float:
    gaps = obs.isnull() & truth.notnull()
    return float(abs(filled - truth).where(gaps).mean())


def test_low_rank_field_is_recovered_with_the_right_number_of_modes():
    rng = np.random.default_rng(0)
    t = np.linspace(0, 6 * np.pi, 120)
    spatial = rng.normal(size=(3, 400))
    temporal = np.stack([np.sin(t), np.cos(0.5 * t), np.sin(0.3 * t + 1)])
    truth = temporal.T @ spatial + 5.0
    obs = truth.copy()
    obs[rng.random(obs.shape) < 0.3] = np.nan
    filled, info = dineof_matrix(obs, seed=0)
    gaps = np.isnan(obs)
    # 3 modes, plus one or two for the error of the column means estimated from the gaps
    assert 3 <= info["modes"] <= 5
    assert np.abs(filled[gaps] - truth[gaps]).max() < 0.05
    assert info["cv_rms"][info["modes"] - 1] < 0.01 < info["cv_rms"][1]


def test_dineof_keeps_observations_and_land_and_beats_climatology():
    land = np.zeros((40, 40), dtype=bool)
    land[:6, :10] = True
    truth = synthetic.sst(72, 40, seed=3, land=land)
    clouds = si.Cloud(synthetic.lwp(72, 40, seed=4, correlation=0.9), threshold=70)
    obs = truth.inpaint.occlude(clouds, seed=0)
    filled = obs.inpaint.fill("dineof")
    observed = obs.notnull().values
    assert np.array_equal(filled.values[observed], obs.values[observed])
    assert np.isnan(filled.values[:, land]).all()
    gaps = obs.isnull().values & ~land[None]
    assert np.isfinite(filled.values[gaps]).all()
    assert filled.dims == obs.dims and filled.attrs["units"] == obs.attrs["units"]
    clim = obs.inpaint.fill("climatology")
    assert occluded_mae(filled, truth, obs) < 0.8 * occluded_mae(clim, truth, obs)


def test_dineof_works_on_channels():
    rng = np.random.default_rng(1)
    base = synthetic.sst(30, 16, seed=0).values
    video = np.stack([base, 2 * base, -base], axis=-1)
    da = xr.DataArray(video, dims=("time", "y", "x", "channel"))
    obs = da.where(xr.DataArray(rng.random((30, 16, 16)) > 0.2, dims=("time", "y", "x")))
    filled = obs.inpaint.fill("dineof")
    assert filled.dims == ("time", "y", "x", "channel")
    assert np.isfinite(filled.values).all()
    assert occluded_mae(filled, da, obs) < occluded_mae(obs.inpaint.fill("climatology"), da, obs)


def test_dineof_needs_two_time_steps():
    da = synthetic.sst(1, 8)
    with pytest.raises(si.FieldError, match="time steps"):
        da.inpaint.fill("dineof")
