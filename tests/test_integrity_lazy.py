"""Issue 11 part 4 (baselines): fills of dask-backed fields are lazy, compute nothing
before asked, and do not depend on the chunking (equal to the eager fill)."""

from __future__ import annotations

import dask.array
import numpy as np
import pytest
from daskcheck import raise_if_dask_computes

import seainpaint as si
from seainpaint import synthetic

LAZY_BASELINES = ["linear", "climatology", "biharmonic", "telea", "navier_stokes"]
CHUNKINGS = [{"time": 5}, {"time": 3, "latitude": 7}, {"latitude": 5, "longitude": 9}]


@pytest.fixture(scope="module")
def obs():
    land = np.zeros((20, 20), dtype=bool)
    land[:4, :5] = True
    truth = synthetic.sst(18, 20, seed=6, land=land)
    obs = truth.inpaint.occlude(si.RemovePixel(0.35), seed=3)
    obs[4] = np.nan  # a frame with nothing observed
    return obs


def test_the_counting_scheduler_catches_a_compute():
    lazy = dask.array.ones((4, 4), chunks=2).sum()
    with raise_if_dask_computes(), pytest.raises(RuntimeError, match="too many dask"):
        lazy.compute()
    with raise_if_dask_computes(max_computes=1):
        assert float(lazy.compute()) == 16.0


@pytest.mark.parametrize("method", LAZY_BASELINES)
def test_baselines_are_lazy_and_independent_of_chunking(obs, method):
    eager = si.fill(obs, method)
    assert eager.chunks is None
    for chunks in CHUNKINGS:
        with raise_if_dask_computes():
            lazy = si.fill(obs.chunk(chunks), method)
        assert lazy.chunks is not None
        assert lazy["inpaint_flag"].chunks is not None
        computed = lazy.compute()
        assert computed.values.tobytes() == eager.values.tobytes(), chunks
        np.testing.assert_array_equal(computed["inpaint_flag"].values,
                                      eager["inpaint_flag"].values)
