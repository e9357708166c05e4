"""Issue 10: non-finite input and output, partly missing pixels, all-NaN dask fields,
unknown options. Every filled value is finite and every observed value exact, or fill
says why not."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import seainpaint as si
from seainpaint import synthetic
from seainpaint.conventions import FLAG_FILLED, FLAG_OBSERVED
from seainpaint.errors import SeainpaintWarning

FAST = {
    "dineof": {},
    "climatology": {},
    "linear": {},
    "biharmonic": {},
    "telea": {},
    "dip": {"iterations": 5, "width": 8, "sequence_length": 4, "num_threads": 1},
}


@pytest.fixture(scope="module")
def obs() -> xr.DataArray:
    land = np.zeros((16, 16), dtype=bool)
    land[:3, :4] = True
    truth = synthetic.sst(16, 16, seed=1, land=land)
    return truth.inpaint.occlude(si.RemovePixel(0.3), seed=0)


def with_infinities(obs: xr.DataArray) -> xr.DataArray:
    bad = obs.copy()
    bad[3, 8, 8] = np.inf
    bad[5, 10, 12] = -np.inf
    return bad


@pytest.mark.parametrize("method", sorted(FAST))
def test_infinite_observations_are_filled_as_missing_with_a_counted_warning(obs, method):
    bad = with_infinities(obs)
    with pytest.warns(SeainpaintWarning, match="2 infinite value"):
        filled = si.fill(bad, method, **FAST[method])
    values, flag = filled.values, filled["inpaint_flag"].values
    assert flag[3, 8, 8] == FLAG_FILLED and flag[5, 10, 12] == FLAG_FILLED
    assert np.isfinite(values[flag == FLAG_FILLED]).all()
    assert not np.isinf(values).any()
    observed = np.isfinite(bad.values)
    assert values[observed].tobytes() == bad.values[observed].tobytes()


def test_infinite_values_on_dask_input_warn_when_computed(obs):
    bad = with_infinities(obs)
    lazy = si.fill(bad.chunk({"time": 4}), "linear")
    assert lazy.chunks is not None
    with pytest.warns(SeainpaintWarning, match="infinite value"):
        values = lazy.values
    with pytest.warns(SeainpaintWarning):
        eager = si.fill(bad, "linear").values
    np.testing.assert_array_equal(values, eager)


def test_climatology_never_writes_inf_in_float16():
    # 3000 frames of 30 °C: a float16 sum overflows (max 65504)
    da = xr.DataArray(np.full((3000, 2, 2), 30.0, np.float16), dims=("time", "y", "x"))
    da[5, 0, 0] = np.nan
    filled = si.fill(da, "climatology")
    assert float(filled[5, 0, 0]) == 30.0


class BrokenModel:
    """A model whose prediction is NaN in part of the field (like a NaN normalisation)."""

    label = "broken-model"

    def fill_field(self, da: xr.DataArray) -> xr.DataArray:
        out = da.fillna(20.0)
        return out.where(out["latitude"] > out["latitude"][8])


def test_fill_refuses_a_method_that_leaves_filled_pixels_non_finite(obs):
    gaps = int((~np.isfinite(obs.values[:, :9])).sum() - 16 * 3 * 4)
    with pytest.raises(si.MethodError, match=f"'broken-model' returned {gaps} non-finite"):
        si.fill(obs, BrokenModel())


def test_the_output_check_is_lazy_and_raises_at_compute_on_dask(obs):
    from daskcheck import raise_if_dask_computes

    with raise_if_dask_computes():
        lazy = si.fill(obs.chunk({"time": 4}), BrokenModel())
    assert lazy.chunks is not None
    with pytest.raises(si.MethodError, match="'broken-model' returned .* non-finite"):
        lazy.compute()


@pytest.mark.parametrize("method", ["dineof", "climatology", "linear", "biharmonic", "telea"])
def test_partly_missing_pixels_keep_their_observed_channels(method):
    base = synthetic.sst(12, 12, seed=0).values
    rng = np.random.default_rng(3)
    video = np.stack([base, base + 1.0, base - 1.0], axis=-1).astype(np.float32)
    video[rng.random(video.shape[:3]) < 0.2] = np.nan  # whole pixels missing
    partial = rng.random(video.shape) < 0.1  # single channels missing
    video[partial] = np.nan
    da = xr.DataArray(video, dims=("time", "y", "x", "channel"), name="rgb")
    filled = si.fill(da, method)
    finite = np.isfinite(video)
    assert filled.values[finite].tobytes() == video[finite].tobytes()
    assert np.isfinite(filled.values).all()
    flag = filled["inpaint_flag"].values
    some_missing = ~finite.all(axis=-1)
    assert np.array_equal(flag == FLAG_OBSERVED, ~some_missing)


def test_all_nan_dask_field_raises_the_in_memory_error(obs):
    from daskcheck import raise_if_dask_computes

    empty = obs * np.nan
    with pytest.raises(si.FieldError, match="nothing observed") as eager:
        si.fill(empty, "climatology")
    with raise_if_dask_computes():
        lazy = si.fill(empty.chunk({"time": 4}), "climatology")
    with pytest.raises(si.FieldError, match="nothing observed") as computed:
        lazy.compute()
    assert str(computed.value) == str(eager.value)


def test_unknown_option_is_a_method_error_listing_the_options(obs):
    with pytest.raises(si.MethodError, match="'dineof' has no option 'bogus'") as err:
        si.fill(obs, "dineof", bogus=1)
    for name in ("max_modes", "cv_fraction", "seed"):
        assert name in str(err.value)
    with pytest.raises(si.MethodError, match="its options are \\(none\\)"):
        obs.inpaint.fill("climatology", radius=2)


def test_a_model_with_a_nan_normalisation_is_refused(obs):
    import copy

    model = si.train(obs, steps=1, seed=1, window=4, patch=16, batch_size=2, base=4,
                     n_val=2, progress=False)
    filled = si.fill(obs, model)
    assert np.isfinite(filled.values[filled["inpaint_flag"].values == FLAG_FILLED]).all()
    broken = copy.deepcopy(model)
    broken.config["normalization"]["scale"] = [float("nan")]
    with pytest.raises(si.MethodError, match="non-finite value"):
        si.fill(obs, broken)


def test_dip_leaves_no_nan_next_to_an_infinite_value_and_an_empty_window():
    obs = synthetic.sst(8, 16, seed=1).inpaint.occlude(si.RemovePixel(0.3), seed=0)
    obs[4:] = np.nan  # the second window has nothing observed: pixel means are used
    obs[1, 8, 8] = np.inf
    with pytest.warns(SeainpaintWarning, match="1 infinite value"):
        filled = si.fill(obs, "dip", **FAST["dip"])
    flag = filled["inpaint_flag"].values
    assert (flag[4:] == FLAG_FILLED).sum() > 0.9 * flag[4:].size
    assert np.isfinite(filled.values[flag == FLAG_FILLED]).all()
