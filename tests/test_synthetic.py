"""Synthetic SST and LWP: seeded, physically plausible statistics."""

from __future__ import annotations

import numpy as np

from seainpaint import synthetic


def test_sst_is_seeded_with_cf_metadata():
    a = synthetic.sst(6, 32, seed=1)
    b = synthetic.sst(6, 32, seed=1)
    c = synthetic.sst(6, 32, seed=2)
    assert a.dims == ("time", "latitude", "longitude") and a.shape == (6, 32, 32)
    assert a.dtype == np.float32
    assert np.array_equal(a.values, b.values) and not np.array_equal(a.values, c.values)
    assert a.attrs["units"] == "degree_Celsius"
    assert a.attrs["standard_name"] == "sea_surface_temperature"
    assert a.latitude.attrs["units"] == "degrees_north"
    assert np.all(np.diff(a.time.values) == np.timedelta64(1, "h"))


def test_sst_frames_strongly_but_not_perfectly_correlated():
    a = synthetic.sqg_anomaly(30, 64, seed=0)
    lag1 = np.mean([np.corrcoef(a[t].ravel(), a[t + 1].ravel())[0, 1] for t in range(29)])
    lag24 = np.mean([np.corrcoef(a[t].ravel(), a[t + 24].ravel())[0, 1] for t in range(6)])
    assert 0.9 < lag1 < 0.999
    assert lag24 < lag1 - 0.1


def test_sst_is_statistically_steady():
    a = synthetic.sqg_anomaly(300, 32, seed=0)
    early, late = a[:50].std(), a[-50:].std()
    assert 0.5 < late / early < 2.0


def test_sst_has_gradient_and_land():
    land = np.zeros((32, 32), dtype=bool)
    land[-4:, -4:] = True
    sst = synthetic.sst(4, 32, seed=0, land=land, eddy_amplitude=0.0, diurnal_amplitude=0.0)
    assert np.isnan(sst.values[:, land]).all() and np.isfinite(sst.values[:, ~land]).all()
    zonal_mean = sst.isel(time=0).mean("longitude").values
    assert zonal_mean[0] > zonal_mean[-5]  # warmer to the south


def test_lwp_cover_matches_paper_range_and_is_correlated():
    lwp = synthetic.lwp(60, 64, seed=0)
    assert lwp.attrs["units"] == "g m-2" and float(lwp.min()) > 0
    cover55 = float((lwp > 55).mean())
    cover80 = float((lwp > 80).mean())
    assert 0.7 < cover55 < 0.9
    assert 0.08 < cover80 < 0.25
    v = lwp.values
    lag1 = np.mean([np.corrcoef(v[t].ravel(), v[t + 1].ravel())[0, 1] for t in range(59)])
    assert 0.8 < lag1 < 0.999
