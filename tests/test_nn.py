"""Tests of the networks: shapes, ranges, spectral norm, init, attention, causality."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from tiny import one_thread  # noqa: F401  (a fixture)
from torch import nn

from seainpaint.errors import SeainpaintError
from seainpaint.nn import (
    ConvGRUCell,
    SelfAttention2d,
    build_frame_discriminator,
    build_generator,
    build_sequence_discriminator,
    compose,
    count_flops,
    inference_copy,
    is_spectral_normed,
)
from seainpaint.nn.layers import parametric_layers

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors: one torch thread


# tiny configurations keep the tests fast on 2 CPU cores
CONFIGS = [
    {"arch": "fast", "variant": "spatiotemporal", "base": 4},
    {"arch": "fast", "variant": "static", "base": 4},
    {"arch": "fast", "variant": "recurrent", "base": 4},
    {"arch": "paper", "variant": "spatiotemporal", "base": 2},
    {"arch": "paper", "variant": "static", "base": 2},
    {"arch": "paper", "variant": "recurrent", "base": 2},
]


def _inputs(b=2, c=1, t=5, h=37, w=45, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randn(b, c, t, h, w, generator=g)
    m = (torch.rand(b, 1, t, h, w, generator=g) > 0.4).float()
    return y * m + 0.0 * (1 - m), m


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c['arch']}-{c['variant']}")
def test_generator_shapes_range_and_gradients(config):
    torch.manual_seed(0)
    net = build_generator({**config, "channels": 2})
    y, m = _inputs(b=2, c=2, t=3, h=13, w=19)
    phi = net(y, m)
    assert phi.shape == y.shape
    assert torch.isfinite(phi).all()
    layers = parametric_layers(net)
    if net.prior == "none":
        assert phi.abs().max() <= 1.0  # the paper's tanh output
    else:
        # the correction of the prior starts at zero (a zero last layer, not squashed):
        # that layer learns at once, and passes gradients on from the next step
        # (spectrally normalised: W = gain * W0 / sigma(W0) with the gain at zero)
        head = layers[-1]
        assert float(head.weight.detach().abs().max()) == 0.0
        (phi - 3.0).abs().mean().backward()
        first = (head.parametrizations.weight[1].gain if is_spectral_normed(head)
                 else head.weight)
        assert first.grad is not None and first.grad.abs().sum() > 0
        with torch.no_grad():
            first -= 0.1 * first.grad.sign()
        net.zero_grad()
        phi = net(y, m)
    # gradients reach the first and the last layer
    (phi ** 2).mean().backward()
    for layer in (layers[0], layers[-1]):
        weight = (layer.parametrizations.weight.original if is_spectral_normed(layer)
                  else layer.weight)
        assert weight.grad is not None and weight.grad.abs().sum() > 0


@pytest.mark.parametrize("t,h,w", [(1, 1, 1), (1, 9, 7), (3, 64, 64), (2, 17, 100)])
def test_fast_generator_any_size(t, h, w):
    net = build_generator({"base": 4}).eval()
    y, m = _inputs(b=1, t=t, h=h, w=w)
    with torch.no_grad():
        assert net(y, m).shape == (1, 1, t, h, w)


def test_compose_keeps_observed_pixels_exactly():
    y, m = _inputs()
    phi = torch.rand_like(y)
    out = compose(phi, y, m)
    obs = m.expand_as(y).bool()
    assert torch.equal(out[obs], y[obs])
    assert torch.equal(out[~obs], phi[~obs])


def test_spectral_norm_on_every_parametric_layer_and_init():
    nets = [
        build_generator({"base": 8}),
        build_generator({"arch": "paper", "base": 4}),
        build_frame_discriminator({"base": 8}),
        build_sequence_discriminator({"base": 8, "channels": 3}),
    ]
    for net in nets:
        layers = parametric_layers(net)
        if getattr(net, "prior", "none") != "none":
            layers = layers[:-1]  # a prior generator's last layer starts at zero, unnormed
        assert layers
        assert all(is_spectral_normed(layer) for layer in layers)
        # N(0, 0.02) initialisation of the raw weights
        raw = torch.cat(
            [lay.parametrizations.weight.original.detach().flatten() for lay in layers]
        )
        assert abs(float(raw.std()) - 0.02) < 0.002
        assert abs(float(raw.mean())) < 0.002
        biases = [lay.bias for lay in layers if lay.bias is not None]
        assert all(float(b.detach().abs().max()) == 0.0 for b in biases)


def test_spectral_norm_bounds_the_operator_norm():
    net = build_frame_discriminator({"base": 4})
    lin = parametric_layers(net)[0]
    net.train()
    x = torch.randn(4, 1, 32, 32)
    for _ in range(20):  # power iterations run in training mode
        net(x)
    w = lin.weight.detach().flatten(1)
    assert torch.linalg.matrix_norm(w, ord=2) == pytest.approx(1.0, abs=0.05)


def test_spectral_norm_can_be_disabled():
    net = build_generator({"base": 4, "spectral_norm": False})
    assert not any(is_spectral_normed(layer) for layer in parametric_layers(net))


def test_attention_is_per_frame():
    torch.manual_seed(0)
    att = SelfAttention2d(16).eval()
    with torch.no_grad():
        att.gamma.fill_(1.0)
    x = torch.randn(2, 16, 4, 12, 12)
    with torch.no_grad():
        base = att(x)
        x2 = x.clone()
        x2[:, :, 2] += torch.randn(2, 16, 12, 12)
        out = att(x2)
    changed = (out - base).abs().amax(dim=(0, 1, 3, 4))
    assert changed[2] > 1e-3
    assert torch.all(changed[[0, 1, 3]] == 0)


def test_attention_mixes_positions_within_a_frame():
    torch.manual_seed(0)
    att = SelfAttention2d(16).eval()
    with torch.no_grad():
        att.gamma.fill_(1.0)
        x = torch.randn(1, 16, 8, 8)
        x2 = x.clone()
        x2[..., 0, 0] += 5.0
        diff = (att(x2) - att(x)).abs().sum(1)[0]
    assert diff[7, 7] > 0  # a far-away pixel sees the change


@pytest.mark.parametrize("arch", ["fast", "paper"])
def test_static_generator_processes_frames_independently(arch):
    torch.manual_seed(0)
    net = build_generator({"arch": arch, "variant": "static", "base": 4}).eval()
    for mod in net.modules():
        if isinstance(mod, SelfAttention2d):
            with torch.no_grad():
                mod.gamma.fill_(1.0)
    y, m = _inputs(b=1, t=4, h=20, w=20)
    with torch.no_grad():
        base = net(y, m)
        y2 = y.clone()
        y2[:, :, 1] = torch.randn(1, 1, 20, 20)
        out = net(y2, m)
    changed = (out - base).abs().amax(dim=(0, 1, 3, 4))
    assert changed[1] > 0
    assert torch.all(changed[[0, 2, 3]] == 0)


def test_spatiotemporal_generator_mixes_frames():
    torch.manual_seed(0)
    net = build_generator({"base": 4}).eval()
    y, m = _inputs(b=1, t=6, h=16, w=16)
    with torch.no_grad():
        base = net(y, m)
        y2 = y.clone()
        y2[:, :, 0] += 1.0
        out = net(y2, m)
    changed = (out - base).abs().amax(dim=(0, 1, 3, 4))
    assert changed[3] > 0


@pytest.mark.parametrize("arch", ["fast", "paper"])
def test_recurrent_generator_is_causal(arch):
    torch.manual_seed(0)
    net = build_generator({"arch": arch, "variant": "recurrent", "base": 2}).eval()
    y, m = _inputs(b=1, t=6, h=16, w=16)
    with torch.no_grad():
        base = net(y, m)
        y2, m2 = y.clone(), m.clone()
        y2[:, :, 3] = torch.randn(1, 1, 16, 16)
        m2[:, :, 3] = 1.0 - m2[:, :, 3]
        out = net(y2, m2)
    changed = (out - base).abs().amax(dim=(0, 1, 3, 4))
    assert torch.all(changed[:3] == 0)  # the past does not see the future
    assert changed[3] > 0 and changed[5] > 0  # the present and future do


def test_convgru_cell_shapes_and_state():
    cell = ConvGRUCell(3, 5)
    x = torch.randn(2, 3, 6, 7)
    h = cell(x)
    assert h.shape == (2, 5, 6, 7)
    h2 = cell(x, h)
    assert not torch.allclose(h, h2)


def test_discriminators_adapt_to_size_and_length():
    df = build_frame_discriminator({"base": 4, "channels": 3})
    out = df(torch.randn(2, 3, 64, 64))
    assert out.shape == (2, 32, 4, 4)  # four stride-2 layers on 64x64
    assert df(torch.randn(1, 3, 256, 256)).shape[-2:] == (4, 4)  # six on 256x256
    assert df(torch.randn(1, 3, 5, 3)).shape[-2:] == (5, 3)  # none on tiny frames
    ds = build_sequence_discriminator({"base": 4, "channels": 2})
    for t in (1, 2, 23):
        out = ds(torch.randn(2, 2, t, 37, 45))
        assert out.shape[:3] == (2, 32, t)  # temporal stride 1
    # logits are unbounded (no final activation) and gradients flow to the input
    x = torch.randn(1, 2, 4, 16, 16, requires_grad=True)
    ds(x).mean().backward()
    assert x.grad.abs().sum() > 0


def test_bad_configs_and_inputs_raise_seainpaint_errors():
    with pytest.raises(SeainpaintError, match="arch"):
        build_generator({"arch": "huge"})
    with pytest.raises(SeainpaintError, match="variant"):
        build_generator({"variant": "bidirectional"})
    with pytest.raises(SeainpaintError, match="unknown generator config"):
        build_generator({"chanels": 1})
    with pytest.raises(SeainpaintError, match="base"):
        build_frame_discriminator({"base": 0})
    net = build_generator({"base": 4})
    with pytest.raises(SeainpaintError, match="channel"):
        net(torch.zeros(1, 2, 2, 8, 8), torch.ones(1, 1, 2, 8, 8))
    with pytest.raises(SeainpaintError, match="expects"):
        net(torch.zeros(1, 1, 8, 8), torch.ones(1, 1, 8, 8))


def test_inference_copy_is_equivalent_and_picklable():
    torch.manual_seed(0)
    net = build_generator({"base": 4})
    y, m = _inputs(b=2, t=2, h=16, w=16)
    net.train()
    for _ in range(3):  # move batch-norm statistics and spectral-norm vectors
        net(y, m)
    net.eval()
    copy = pickle.loads(pickle.dumps(inference_copy(net)))
    with torch.no_grad():
        torch.testing.assert_close(copy(y, m), net(y, m), rtol=1e-5, atol=1e-6)
    assert not any(is_spectral_normed(layer) for layer in parametric_layers(copy))
    with pytest.raises(Exception):  # noqa: B017 - parametrised modules refuse pickling
        pickle.dumps(net)


def test_config_roundtrip_rebuilds_the_same_network():
    net = build_generator({"arch": "fast", "base": 4, "channels": 3})
    again = build_generator(net.config)
    assert again.config == net.config
    assert again.load_state_dict(net.state_dict()) is not None


def test_count_flops_scales_with_frames_and_base():
    small = build_generator({"base": 4})
    big = build_generator({"base": 8})
    f1 = count_flops(small, (1, 1, 2, 16, 16))
    f2 = count_flops(small, (1, 1, 4, 16, 16))
    assert f1 > 0
    assert f2 == pytest.approx(2 * f1, rel=0.05)
    assert count_flops(big, (1, 1, 2, 16, 16)) > 2.5 * f1
    assert count_flops(build_frame_discriminator({"base": 4}), (1, 1, 16, 16)) > 0
    assert isinstance(small, nn.Module)


def test_temporal_context_interpolates_each_pixel_in_time():
    from seainpaint.nn.context import temporal_context

    rng = np.random.default_rng(0)
    t_len = 9
    y = torch.from_numpy(rng.normal(size=(2, 2, t_len, 3, 4)).astype(np.float32))
    m = torch.from_numpy((rng.random((2, 1, t_len, 3, 4)) > 0.5).astype(np.float32))
    m[0, 0, :, 0, 0] = 0.0  # a pixel never observed
    prior, features = temporal_context(y, m)
    gaps, residual = features[:, :2], features[:, 2:]
    causal, _ = temporal_context(y, m, causal=True)
    obs = m.expand_as(y).bool()
    assert torch.equal(prior[obs], y[obs]) and torch.equal(causal[obs], y[obs])
    assert torch.all(prior[0, :, :, 0, 0] == 0)
    assert torch.all(gaps[m.expand_as(gaps).bool()] == 0)  # observed: no gap
    assert torch.all(residual[~obs] == 0)
    # compare with numpy's interpolation, pixel by pixel
    for b, c, i, j in [(0, 1, 1, 2), (1, 0, 2, 3), (1, 1, 0, 0)]:
        seen = np.flatnonzero(m[b, 0, :, i, j].numpy())
        if seen.size == 0:
            continue
        expect = np.interp(np.arange(t_len), seen, y[b, c, seen, i, j].numpy())
        np.testing.assert_allclose(prior[b, c, :, i, j].numpy(), expect, rtol=1e-5, atol=1e-6)
        last = [y[b, c, seen[seen <= t].max(), i, j].item() if (seen <= t).any() else 0.0
                for t in range(t_len)]
        np.testing.assert_allclose(causal[b, c, :, i, j].numpy(), last, rtol=1e-6)
        gap_prev = [np.log1p(t - seen[seen <= t].max()) if (seen <= t).any()
                    else np.log1p(t_len) for t in range(t_len)]
        np.testing.assert_allclose(gaps[b, 0, :, i, j].numpy(), gap_prev, rtol=1e-5)
        # leave-one-out residual: the observation minus the interpolation of the others
        for t in seen:
            others = seen[seen != t]
            if others.size == 0:
                continue
            loo = np.interp(t, others, y[b, c, others, i, j].numpy())
            assert float(residual[b, c, t, i, j]) == pytest.approx(
                float(y[b, c, t, i, j]) - loo, abs=1e-5)


def test_temporal_context_of_some_frames_equals_the_slice_of_all():
    from seainpaint.nn.context import temporal_context

    rng = np.random.default_rng(3)
    y = torch.from_numpy(rng.normal(size=(2, 1, 30, 4, 5)).astype(np.float32))
    m = torch.from_numpy((rng.random((2, 1, 30, 4, 5)) > 0.7).astype(np.float32))
    hours = torch.from_numpy(np.cumsum(rng.uniform(0.5, 2.0, (2, 30)), axis=1))
    full = temporal_context(y, m, hours, reach=6)
    part = temporal_context(y, m, hours, reach=6, frames=slice(10, 19))
    for a, b in zip(full, part, strict=True):
        torch.testing.assert_close(a[:, :, 10:19], b)


def test_temporal_context_uses_the_time_stamps_and_its_reach():
    from seainpaint.nn.context import temporal_context

    # frames at hours 0, 1, 2, 20, 22, 23; hour 20 hidden: the prior at hour 20 lies on the
    # line between hour 2 and hour 22 (a field growing by 1 per hour gives 20, not 12)
    hours = torch.tensor([0.0, 1.0, 2.0, 20.0, 22.0, 23.0], dtype=torch.float64)
    y = hours.to(torch.float32).view(1, 1, 6, 1, 1).clone()
    m = torch.ones(1, 1, 6, 1, 1)
    m[0, 0, 3] = 0
    prior, features = temporal_context(y, m, hours)
    assert float(prior[0, 0, 3]) == pytest.approx(20.0, abs=1e-5)
    assert float(features[0, 0, 3]) == pytest.approx(np.log1p(18.0))
    assert float(features[0, 2, 4]) == pytest.approx(0.0, abs=1e-5)  # 22 lies on the line
    # observations further than ``reach`` frames are not used
    m = torch.zeros(1, 1, 10, 1, 1)
    m[0, 0, 0] = 1
    y = torch.full((1, 1, 10, 1, 1), 5.0)
    prior, features = temporal_context(y, m, reach=3)
    assert prior[0, 0, :4].eq(5.0).all() and prior[0, 0, 4:].eq(0.0).all()
    assert float(features[0, 1, 9]) == pytest.approx(np.log1p(3))


def test_prior_defaults_follow_the_variant():
    assert build_generator({"base": 4}).config["prior"] == "time"
    assert build_generator({"base": 4, "variant": "recurrent"}).config["prior"] == "causal"
    assert build_generator({"base": 4, "variant": "static"}).config["prior"] == "none"
    assert build_generator({"arch": "paper", "base": 2}).config["prior"] == "none"
    with pytest.raises(SeainpaintError, match="independently"):
        build_generator({"variant": "static", "prior": "time"})
    with pytest.raises(SeainpaintError, match="past"):
        build_generator({"variant": "recurrent", "prior": "time"})


def test_untrained_generator_with_prior_is_interpolation_in_time():
    from seainpaint.nn.context import temporal_context

    torch.manual_seed(0)
    net = build_generator({"arch": "fast", "variant": "spatiotemporal", "channels": 1,
                           "uncertainty": True})
    y, m = _inputs(b=1, c=1, t=6, h=16, w=16)
    y = 3.0 * y * m  # values well outside (-1, 1): nothing is squashed
    expected, _ = temporal_context(y, m)
    phi, log_b = net(y, m, return_scale=True)
    torch.testing.assert_close(phi, expected, atol=1e-6, rtol=1e-6)
    assert phi.abs().max() > 1.5
    assert log_b.shape == y.shape and torch.isfinite(log_b).all()


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("size", [40, 12])  # a 3-D kernel, and small frames folded
@pytest.mark.parametrize("use_sn", [False, True])
def test_frame_conv_on_a_sequence_equals_the_conv_of_every_frame(stride, size, use_sn):
    from seainpaint.nn.layers import conv2d, fold_time, unfold_time

    torch.manual_seed(0)
    conv = conv2d(5, 7, 3, stride=stride, use_sn=use_sn).eval()
    x = torch.randn(2, 5, 6, size, size + 3)
    with torch.no_grad():
        by_frame = unfold_time(torch.nn.functional.conv2d(
            fold_time(x), conv.weight, conv.bias, stride=stride, padding=1), 6)
        seq = conv(x)
    assert seq.shape == by_frame.shape
    torch.testing.assert_close(seq, by_frame, rtol=1e-5, atol=1e-5)
    if not use_sn:  # the state dict is a Conv2d's: models saved before load into it
        assert conv.state_dict().keys() == torch.nn.Conv2d(5, 7, 3).state_dict().keys()


def test_spatial_residual_spreads_the_observed_residuals_into_the_gaps():
    from seainpaint.nn.context import SPATIAL_SCALES, spatial_residual

    h = w = 160
    residual = torch.zeros(1, 1, 2, h, w)
    m = torch.ones(1, 1, 2, h, w)
    m[..., 16:32, 16:32] = 0  # a square cloud
    residual[:, :, 0] = 0.3 * m[:, :, 0]  # frame 0: every observation 0.3 above its prior
    m[:, :, 1] = 0  # frame 1: nothing observed
    out = spatial_residual(residual, m, shrink=0.05)
    assert out.shape == (1, len(SPATIAL_SCALES), 2, h, w)
    # far from the cloud and the edges, a fully observed neighbourhood: 0.3 / (1 + shrink)
    assert torch.allclose(out[0, :, 0, 90, 90], torch.tensor(0.3 / 1.05), atol=1e-3)
    # under the cloud, the neighbours' residual, shrunk more where fewer are near
    centre = out[0, :, 0, 24, 24]  # 8 px from the cloud's edge
    assert (centre[1:] > 0.1).all() and (centre < 0.3).all()
    assert (centre.diff() > 0).all()  # the wider the scale, the further it reaches in
    assert out[0, 0, 0, 24, 17] > 0.1  # the finest one, just inside the edge
    assert (out[0, :, 1] == 0).all()  # nothing observed: no correction
    # a generator told about it has the extra channels and starts at the prior all the same
    phi = build_generator({"spatial": True})
    assert phi.in_channels == build_generator({}).in_channels + len(SPATIAL_SCALES)
    y, mm = torch.randn(1, 1, 4, 16, 16), (torch.rand(1, 1, 4, 16, 16) > 0.5).float()
    prior, _ = phi.context(y, mm)
    with torch.no_grad():
        assert torch.equal(phi.eval()(y, mm), prior)
    with pytest.raises(SeainpaintError, match="spatial"):
        build_generator({"spatial": True, "residual": False})
