"""Neural networks of the learned fills: the generator phi (every loss) and the
discriminators Df and Ds of the adversarial losses (the paper's GAN).

>>> from seainpaint.nn import build_generator, compose
>>> phi = build_generator({"arch": "fast", "channels": 1})
"""

from __future__ import annotations

from .context import temporal_context
from .discriminators import (
    build_frame_discriminator,
    build_sequence_discriminator,
    discriminator_config,
)
from .generator import build_generator, compose, generator_config, inference_copy
from .layers import (
    ConfigError,
    ConvGRUCell,
    SelfAttention2d,
    count_flops,
    init_weights,
    is_spectral_normed,
    plain_state_dict,
    refresh_spectral_norm,
)

__all__ = [
    "ConfigError",
    "ConvGRUCell",
    "SelfAttention2d",
    "build_frame_discriminator",
    "build_generator",
    "build_sequence_discriminator",
    "compose",
    "count_flops",
    "discriminator_config",
    "generator_config",
    "inference_copy",
    "init_weights",
    "is_spectral_normed",
    "plain_state_dict",
    "refresh_spectral_norm",
    "temporal_context",
]
