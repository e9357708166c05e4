"""The spatial prior: a fill of each frame from its own pixels, blended with the time prior."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tiny import TINY

import seainpaint
from seainpaint import synthetic
from seainpaint.nn import build_generator
from seainpaint.nn.context import temporal_context
from seainpaint.nn.layers import ConfigError
from seainpaint.nn.spatial import (
    BLEND_BINS,
    BLEND_EDGES,
    blend_bins,
    blend_priors,
    default_blend,
    fit_blend,
    spatial_fill,
)


def test_spatial_fill_keeps_observations_and_solves_laplace_for_a_ramp():
    # a ramp across the frame is harmonic: observed only on the first and last columns
    # (Neumann edges above and below), the fill must come back to the ramp itself
    h, w = 40, 64
    ramp = torch.linspace(0.0, 1.0, w).view(1, 1, 1, 1, w).expand(2, 1, 3, h, w).clone()
    m = torch.zeros(2, 1, 3, h, w)
    m[..., 0] = 1
    m[..., -1] = 1
    filled = spatial_fill(ramp, m)
    assert filled.shape == ramp.shape and filled.dtype == torch.float32
    assert float((filled - ramp).abs().max()) < 0.05
    # observed pixels are returned as they are, whatever the missing ones hold
    rng = np.random.default_rng(0)
    y = torch.from_numpy(rng.normal(size=(1, 2, 4, 21, 33)).astype(np.float32))
    mask = torch.from_numpy(rng.random((1, 1, 4, 21, 33)) < 0.3).float()
    garbage = torch.where(mask.bool(), y, torch.full_like(y, 1e6))
    out = spatial_fill(garbage, mask)
    observed = mask.bool().expand_as(y)
    assert torch.equal(out[observed], y[observed])
    assert torch.isfinite(out).all() and float(out.abs().max()) <= float(y.abs().max())


def test_spatial_fill_of_an_empty_frame_is_the_mean_and_of_a_constant_the_constant():
    y = torch.full((1, 1, 2, 9, 13), 3.5)
    m = torch.zeros(1, 1, 2, 9, 13)
    m[0, 0, 0, 4, 6] = 1  # one pixel in frame 0, none in frame 1
    out = spatial_fill(y, m)
    assert torch.allclose(out[0, 0, 0], torch.tensor(3.5))
    assert torch.equal(out[0, 0, 1], torch.zeros(9, 13))


def test_spatial_fill_beats_the_frame_mean_on_a_smooth_field():
    h, w = 48, 48
    yy, xx = np.meshgrid(np.linspace(0, 3, h), np.linspace(0, 3, w), indexing="ij")
    truth = torch.from_numpy((np.sin(yy) * np.cos(xx)).astype(np.float32)).view(1, 1, 1, h, w)
    rng = np.random.default_rng(1)
    m = torch.from_numpy(rng.random((1, 1, 1, h, w)) < 0.05).float()
    hidden = ~m.bool()
    err = float((spatial_fill(truth, m) - truth)[hidden].abs().mean())
    mean = float(truth[m.bool()].mean())
    assert err < 0.1 * float((truth - mean)[hidden].abs().mean())


def test_blend_bins_follow_the_distance_to_the_nearest_observation():
    reach = 96
    distances = torch.tensor([1.0, 2.0, 5.0, 10.0, 20.0, 40.0, 90.0])
    gaps = torch.log1p(torch.stack([distances, distances + 100.0])).view(1, 2, 7, 1, 1)
    bins = blend_bins(gaps, reach).flatten().tolist()
    assert bins == [0, 1, 2, 3, 4, 5, 6]
    assert len(BLEND_EDGES) + 2 == BLEND_BINS
    none = torch.full((1, 2, 1, 1, 1), np.log1p(reach))
    assert blend_bins(none, reach).item() == BLEND_BINS - 1
    assert blend_bins(none, None).item() == BLEND_BINS - 2  # no reach: no "none" bin


def test_fit_blend_recovers_known_weights_and_blend_priors_applies_them():
    rng = np.random.default_rng(2)
    n = 20000
    bins = rng.integers(0, BLEND_BINS - 1, n)  # the last bin stays empty
    time_prior, space_prior = rng.normal(size=n), rng.normal(size=n)
    true_w = np.linspace(0.9, 0.2, BLEND_BINS)
    target = true_w[bins] * time_prior + (1 - true_w[bins]) * space_prior
    weights, report = fit_blend(time_prior, space_prior, bins, target)
    np.testing.assert_allclose(weights[:-1], true_w[:-1], atol=1e-3)
    assert weights[-1] == default_blend()[-1] == 0.0  # not fitted: its default
    assert report["mae_blend_normalised"] < 1e-3 < report["mae_time_normalised"]
    assert report["pixels"][-1] == 0 and sum(report["pixels"]) == n
    # the weights, applied per pixel by blend_priors
    t = torch.zeros(1, 1, 1, 1, 2)
    s = torch.ones(1, 1, 1, 1, 2)
    gaps = torch.log1p(torch.tensor([[0.0, 0.0], [200.0, 200.0]])).view(1, 2, 1, 1, 2)
    gaps = gaps.transpose(-1, 1).reshape(1, 2, 1, 1, 2)
    out = blend_priors(t, s, gaps, weights, 96).flatten().tolist()
    assert out == pytest.approx([1 - weights[0], 1 - weights[-1]])


def test_the_untrained_generator_is_the_blend_and_bad_weights_are_refused():
    torch.manual_seed(0)
    weights = [0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0]
    net = build_generator({"channels": 1, "base": 4, "space_blend": weights}).eval()
    y = torch.randn(1, 1, 6, 16, 16)
    m = (torch.rand(1, 1, 6, 16, 16) < 0.4).float()
    with torch.no_grad():
        phi = net(y, m)
    prior, features = temporal_context(y, m, reach=None)
    expected = blend_priors(prior, spatial_fill(y, m), features[:, :2], weights, None)
    torch.testing.assert_close(phi, expected)
    plain = build_generator({"channels": 1, "base": 4, "space_blend": None})
    assert net.in_channels == plain.in_channels + 1  # the spatial fill is an input
    for bad in ([0.5] * (BLEND_BINS - 1), [1.5] * BLEND_BINS, "yes"):
        with pytest.raises(ConfigError, match="space_blend"):
            build_generator({"space_blend": bad})
    with pytest.raises(ConfigError, match="needs a prior"):
        build_generator({"arch": "paper", "space_blend": "fit"})


def test_training_fits_the_blend_and_records_it():
    truth = synthetic.sst(n_time=40, size=16, seed=3)
    obs = seainpaint.occlude(truth, seainpaint.RemovePixel(0.6), seed=1)
    del obs.attrs["seainpaint_occlusion"]
    model = seainpaint.train(obs, steps=1, **TINY)
    weights = model.config["generator"]["space_blend"]
    fit = model.config["training"]["space_blend_fit"]
    assert weights == fit["weights"] and len(weights) == BLEND_BINS
    assert all(0.0 <= w <= 1.0 for w in weights)
    assert fit["mae_blend_normalised"] <= min(fit["mae_time_normalised"],
                                              fit["mae_space_normalised"]) + 1e-6
    # a model saved and loaded fills with the same weights
    filled = seainpaint.fill(obs, model, progress=False)
    assert np.isfinite(filled.values).all()
    observed = np.isfinite(obs.values)
    assert np.array_equal(filled.values[observed], obs.values[observed])
    # the option turns it off
    plain = seainpaint.train(obs, steps=1, generator_options={"space_blend": None}, **TINY)
    assert plain.config["generator"]["space_blend"] is None
    assert "space_blend_fit" not in plain.config["training"]
