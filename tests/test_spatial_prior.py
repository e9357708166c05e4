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
    spatial_fill,
    spline_fill,
    unobserved_within_reach,
    with_space_prior,
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


def test_the_space_prior_replaces_the_time_prior_only_where_time_has_no_observation():
    reach = 96
    distances = torch.tensor([1.0, 40.0, float(reach)])
    gaps = torch.log1p(torch.stack([distances, distances + 100.0])).view(1, 2, 3, 1, 1)
    none = unobserved_within_reach(gaps, reach).flatten().tolist()
    assert none == [False, False, True]
    assert not unobserved_within_reach(gaps, None).any()  # no reach: none to detect
    time_prior = torch.zeros(1, 2, 3, 1, 1)
    space = torch.ones(1, 2, 3, 1, 1)
    out = with_space_prior(time_prior, space, gaps, reach)
    assert out[:, :, :2].eq(0).all() and out[:, :, 2].eq(1).all()


def test_the_untrained_generator_is_its_prior_and_the_option_is_checked():
    torch.manual_seed(0)
    net = build_generator({"channels": 1, "base": 4, "space_prior": True, "reach": 3}).eval()
    y = torch.randn(1, 1, 12, 16, 16)
    m = torch.zeros(1, 1, 12, 16, 16)
    m[:, :, :2] = (torch.rand(1, 1, 2, 16, 16) < 0.5).float()  # frames 6+ see none within 3
    m[:, :, 10:] = (torch.rand(1, 1, 2, 16, 16) < 0.5).float()
    with torch.no_grad():
        phi = net(y, m)
    prior, features = temporal_context(y, m, reach=3)
    space = spatial_fill(y, m)
    expected = with_space_prior(prior, space, features[:, :2], 3)
    torch.testing.assert_close(phi, expected)
    torch.testing.assert_close(net.first_guess(y, m), expected)
    assert torch.equal(phi[:, :, 6], space[:, :, 6])  # no observation within reach there
    plain = build_generator({"channels": 1, "base": 4, "space_prior": False})
    assert net.in_channels == plain.in_channels + 1  # the spatial fill is an input
    with pytest.raises(ConfigError, match="space_prior"):
        build_generator({"space_prior": "yes"})
    with pytest.raises(ConfigError, match="needs a prior"):
        build_generator({"arch": "paper", "space_prior": True})
    with pytest.raises(ConfigError, match="no prior"):
        build_generator({"arch": "paper"}).first_guess(y, m)


def _spline_by_sparse_solve(frame: np.ndarray, known: np.ndarray, tension: float) -> np.ndarray:
    """The spline in tension through ``known`` pixels, solved exactly (scipy)."""
    import scipy.sparse as sp
    import scipy.sparse.linalg as spl

    def second_difference(n: int) -> sp.csr_matrix:
        d = sp.diags([np.ones(n - 1), -2 * np.ones(n), np.ones(n - 1)], [-1, 0, 1]).tolil()
        d[0, 0] = d[-1, -1] = -1  # zero normal gradient at the edges
        return d.tocsr()

    h, w = frame.shape
    lap = sp.kron(sp.eye(h), second_difference(w)) + sp.kron(second_difference(h), sp.eye(w))
    a = ((1 - tension) * (lap @ lap) - tension * lap).tocsr()
    k, u = known.ravel(), frame.ravel().astype(np.float64).copy()
    free = ~k
    u[free] = spl.spsolve(a[free][:, free].tocsc(), -(a[free][:, k] @ u[k]))
    return u.reshape(h, w)


def test_spline_fill_solves_the_spline_in_tension_and_keeps_observations():
    rng = np.random.default_rng(2)
    h, w = 14, 19
    yy, xx = np.meshgrid(np.linspace(0, 2, h), np.linspace(0, 3, w), indexing="ij")
    frame = np.sin(yy) + 0.5 * np.cos(2 * xx) + 0.1 * rng.normal(size=(h, w))
    known = rng.random((h, w)) < 0.3
    y = torch.from_numpy(np.where(known, frame, 1e6).astype(np.float32)).view(1, 1, 1, h, w)
    m = torch.from_numpy(known).float().view(1, 1, 1, h, w)
    for tension in (0.0, 0.25, 1.0):
        exact = _spline_by_sparse_solve(np.where(known, frame, 0), known, tension)
        out = spline_fill(y, m, tension=tension, iterations=300)[0, 0, 0].numpy()
        assert np.abs(out - exact).max() < 1e-3, tension
        assert np.array_equal(out[known], frame[known].astype(np.float32))
    # the default iterations come close
    exact = _spline_by_sparse_solve(np.where(known, frame, 0), known, 0.25)
    default = spline_fill(y, m)[0, 0, 0].numpy()
    scale = np.abs(exact - frame.mean())[~known].mean()
    assert np.abs(default - exact)[~known].mean() < 0.05 * scale
    # a constant frame stays constant; a frame with no observation is 0 (the mean)
    flat = torch.full((1, 1, 2, 12, 30), 2.5)
    some = torch.zeros_like(flat)
    some[0, 0, 0, 3, 4] = some[0, 0, 0, 9, 20] = 1
    out = spline_fill(flat, some)
    assert torch.allclose(out[0, 0, 0], torch.tensor(2.5)) and torch.equal(out[0, 0, 1],
                                                                             torch.zeros(12, 30))


def test_new_models_see_the_spatial_fill_and_fill_with_it():
    truth = synthetic.sst(n_time=40, size=16, seed=3)
    obs = seainpaint.occlude(truth, seainpaint.RemovePixel(0.6), seed=1)
    del obs.attrs["seainpaint_occlusion"]
    model = seainpaint.train(obs, steps=1, **TINY)
    assert model.config["generator"]["space_prior"] is True
    assert model.config["generator"]["space_fill"] == "harmonic"  # hourly frames
    filled = seainpaint.fill(obs, model, progress=False)
    assert np.isfinite(filled.values).all()
    observed = np.isfinite(obs.values)
    assert np.array_equal(filled.values[observed], obs.values[observed])
    # the option turns it off
    plain = seainpaint.train(obs, steps=1, generator_options={"space_prior": False}, **TINY)
    assert plain.config["generator"]["space_prior"] is False
    spline = seainpaint.train(obs, steps=1, generator_options={"space_fill": "spline"}, **TINY)
    assert spline.config["generator"]["space_fill"] == "spline"
    spline_fill_values = seainpaint.fill(obs, spline, progress=False).values
    assert np.array_equal(spline_fill_values[observed], obs.values[observed])
    assert np.isfinite(spline_fill_values).all()
    with pytest.raises(seainpaint.SeainpaintError, match="space_fill"):
        seainpaint.train(obs, steps=1, generator_options={"space_fill": "kriging"}, **TINY)


def test_frames_a_day_or_more_apart_get_the_spline():
    from seainpaint.io.samples import ostia_monthly
    from seainpaint.training.api import space_fill_for

    assert space_fill_for(1.0) == "harmonic" and space_fill_for(None) == "harmonic"
    assert space_fill_for(24.0) == "spline" and space_fill_for(24 * 30.4) == "spline"
    monthly = ostia_monthly().isel(time=slice(0, 30))
    obs = seainpaint.occlude(monthly, seainpaint.RemovePixel(0.4), seed=0)
    del obs.attrs["seainpaint_occlusion"]
    with pytest.warns(seainpaint.SeainpaintWarning):  # a short record: said so
        model = seainpaint.train(obs, steps=1, **TINY)
    assert model.config["generator"]["space_fill"] == "spline"
