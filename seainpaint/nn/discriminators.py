"""PatchGAN discriminators: frame Df (2-D) and sequence Ds (3-D), appendix B Table 5b.

Eight convolutions of kernel 3 with output channels ``C_b, 2, 4, 8, 8, 8, 8, 8 x C_b``
and nominal spatial strides ``2, 2, 2, 2, 2, 2, 1, 1``, LeakyReLU(0.2) after every layer
but the last (the output is raw patch logits with ``8 C_b`` channels). Spectral
normalisation on every convolution, N(0, 0.02) initialisation.

Adaptive downsampling: six stride-2 layers would shrink a 64x64 frame below one pixel,
so a nominally stride-2 layer only downsamples while its input is at least
``2 * min_size`` pixels on its shorter side (``min_size`` = 4 by default) and runs with
stride 1 otherwise. A 64x64 input is thus downsampled four times (to 4x4 patch logits),
a 256x256 one six times, a 20x20 one twice; any ``H, W >= 1`` works.

FLOPs (``count_flops``, one input channel): Df 0.026 GFLOP per 64x64 frame with
``base = 16`` (0.10 with 32); Ds 0.079 GFLOP per frame of a 64x64 sequence with
``base = 16`` (0.31 with 32). The fast generator's pair uses ``base = 4`` (see
``DISCRIMINATOR_BASE``).

Ds uses 3-D convolutions whose temporal stride is always 1 (temporal padding 1), so it
takes sequences of any length ``T >= 1``. Neither cares about the channel count beyond
``config["channels"]``: the training code feeds frame differences (``T - 1`` frames) to
Ds for time-dependent occlusion processes (§3.4).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as nnf
from torch import nn

from ..checks import is_int_at_least
from .layers import ConfigError, conv2d, conv3d

CHANNEL_MULT = (1, 2, 4, 8, 8, 8, 8, 8)
STRIDES = (2, 2, 2, 2, 2, 2, 1, 1)
#: C_base of Df and Ds for each generator arch at its default size: with 4 the fast pair
#: has 0.17 M parameters (Df 43 k, Ds 129 k) for the 0.12 M-parameter fast generator (16
#: gave 2.7 M, 23x the generator); the paper's pair shares the paper's generator's C_base.
DISCRIMINATOR_BASE = {"fast": 4, "paper": 32}


def discriminator_base(generator_config: dict[str, Any]) -> int:
    """C_base of the discriminators sized against a generator configuration.

    The paper's architecture uses one C_base for the generator and both discriminators
    (appendix B); the fast generator's pair takes half its base (4 for the default 8).
    """
    base = int(generator_config.get("base") or 1)
    return base if generator_config.get("arch") == "paper" else max(1, base // 2)


def _defaults(arch: str) -> dict[str, Any]:
    """Every configuration key with its default for ``arch`` (which selects the base)."""
    return {
        "arch": arch,
        "channels": 1,
        "base": DISCRIMINATOR_BASE[arch],
        "spectral_norm": True,
        "min_size": 4,
    }


def discriminator_config(config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Complete a discriminator configuration with its defaults and check it.

    Keys: ``channels`` (input channels, default 1), ``base`` (C_base; 32 when
    ``arch == "paper"``, else 4), ``spectral_norm`` (True), ``min_size`` (4), ``arch``
    (only selects the default base).
    """
    cfg = dict(config or {})
    known = sorted(_defaults("fast"))  # the same keys for every arch
    unknown = sorted(set(cfg) - set(known))
    if unknown:
        raise ConfigError(f"unknown discriminator config keys {unknown}; known: {known}")
    arch = cfg.get("arch", "fast")
    if arch not in DISCRIMINATOR_BASE:
        raise ConfigError(f"unknown arch {arch!r}; choose one of {tuple(DISCRIMINATOR_BASE)}")
    for key, default in _defaults(arch).items():
        cfg.setdefault(key, default)
    for key in ("channels", "base", "min_size"):
        value = cfg[key]
        if not is_int_at_least(value, 1, numpy=False):
            raise ConfigError(f"discriminator config {key!r} must be a positive int, got {value!r}")
    return cfg


class PatchDiscriminator(nn.Module):
    """2-D (frame) or 3-D (sequence) PatchGAN with adaptive downsampling."""

    takes_mask = False

    def __init__(self, config: dict[str, Any], dims: int) -> None:
        super().__init__()
        self.config = config
        self.dims = dims
        b, cin = config["base"], config["channels"]
        use_sn = config["spectral_norm"]
        convs = []
        for mult in CHANNEL_MULT:
            cout = mult * b
            if dims == 2:
                convs.append(conv2d(cin, cout, 3, use_sn=use_sn))
            else:
                convs.append(conv3d(cin, cout, 3, use_sn=use_sn))
            cin = cout
        self.convs = nn.ModuleList(convs)

    def strides(self, h: int, w: int) -> list[int]:
        """Spatial stride of each layer for an ``h x w`` input."""
        out = []
        for nominal in STRIDES:
            s = 2 if nominal == 2 and min(h, w) >= 2 * self.config["min_size"] else 1
            out.append(s)
            h, w = (h + 1) // 2 if s == 2 else h, (w + 1) // 2 if s == 2 else w
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        want = 4 if self.dims == 2 else 5
        if x.dim() != want or x.shape[1] != self.config["channels"]:
            shape = "(N, C, H, W)" if self.dims == 2 else "(B, C, T, H, W)"
            raise ConfigError(
                f"discriminator expects {shape} with C = {self.config['channels']}, got "
                f"{tuple(x.shape)}"
            )
        strides = self.strides(*x.shape[-2:])
        last = len(self.convs) - 1
        for i, (conv, s) in enumerate(zip(self.convs, strides, strict=True)):
            if self.dims == 2:
                x = nnf.conv2d(x, conv.weight, conv.bias, stride=s, padding=1)
            else:
                x = nnf.conv3d(x, conv.weight, conv.bias, stride=(1, s, s), padding=1)
            if i < last:
                x = nnf.leaky_relu(x, 0.2)
        return x


def build_frame_discriminator(config: dict[str, Any] | None = None) -> PatchDiscriminator:
    """Frame discriminator Df: 2-D PatchGAN on ``(N, C, H, W)`` -> patch logits.

    Parameters
    ----------
    config : dict
        ``channels``, ``base``, ``spectral_norm``, ``min_size``; see
        :func:`discriminator_config`.
    """
    return PatchDiscriminator(discriminator_config(config), 2)


def build_sequence_discriminator(config: dict[str, Any] | None = None) -> PatchDiscriminator:
    """Sequence discriminator Ds: 3-D PatchGAN on ``(B, C, T, H, W)``, temporal stride 1.

    Returns patch logits ``(B, 8 C_b, T, h, w)`` for any ``T >= 1``.
    """
    return PatchDiscriminator(discriminator_config(config), 3)
