"""The generator phi and the masked composition G(y) = phi(y)(1 - m) + y m.

``build_generator(config)`` returns a module called as ``phi = net(y, m[, context])`` with

- ``y`` : ``(B, C, T, H, W)`` normalised field, occluded pixels set to the constant c;
- ``m`` : ``(B, 1, T, H, W)`` float, 1 = observed;
- ``context`` : each pixel's temporal context (:mod:`.context`), computed on more frames
  than the window holds; from the window alone when omitted;
- ``phi`` : ``(B, C, T, H, W)``: the prior plus a learned correction (tanh of the network
  output for the paper's architecture, which has no prior).

The mask is fed as an extra input channel. Any ``T >= 1`` and any ``H, W`` work: the
frame is padded at its bottom and right edges (replicating the border) to the multiple
the downsampling needs (``net.multiple``, 8 for "fast") and the output is cropped back.

Architectures (``config["arch"]``)
----------------------------------
``"fast"`` (default)
    An encoder/decoder designed for CPUs and GPUs: a 3x3 stem at full resolution, three
    stride-2 downsamplings in space (channels ``base, 2 base, 4 base, 4 base``), a
    residual (2+1)-D block (spatial 3x3 conv on the frames + temporal conv of kernel 3
    with replicated ends) at 1/2 and 1/4 resolution, and at 1/8 two such blocks (the
    second with temporal dilation 2) around a per-frame spatial self-attention. The
    decoder reduces channels with 1x1 convs at low resolution, upsamples (nearest), adds
    the encoder's features (skip connections) and refines with one (2+1)-D conv per level;
    batch norm, ReLU and a 3x3 head. The inputs pass a batch norm first (``input_norm``).
    Default ``base = 8`` (measured best per CPU minute of training against 4 and 16).
    Time is never downsampled; the convolutions' temporal receptive field is +-12
    frames. By default (``prior="time"``) it also receives, and corrects, each pixel's
    temporal context: linear interpolation in time between its own observations within
    ``reach`` frames, the gaps to them, and the leave-one-out residuals of its observed
    neighbours, also spread in space with ``spatial`` (see :class:`Generator` and
    :mod:`.context`).
``"paper"``
    Appendix B, Table 5a: 3-D ResNet blocks (kernel 3, stride 1)
    ``C_img+1 -> C_b -> 16 C_b -> 16 C_b | -> 8 C_b -> 4 C_b -> 2 C_b``, spatial
    self-attention (``2 C_b``), ResNet ``2 C_b -> C_b``, batch norm, ReLU, 3-D conv
    ``C_b -> C_img``, tanh; default ``C_b = 32``. Table 5a lists the batch norm of row 9
    with ``2 C_b`` channels although row 8 outputs ``C_b`` and row 10 takes ``C_b``: the
    batch norm is applied to the ``C_b`` channels row 8 produces. The ``+1`` input channel
    is the mask. No downsampling: attention runs at full resolution (keys and values
    max-pooled 2x2, as in SAGAN).

Variants (``config["variant"]``)
--------------------------------
``"spatiotemporal"`` (default)
    As above.
``"static"``
    The same network with every temporal kernel set to 1: frames are processed
    independently (time folded into the batch), a 2-D generator.
``"recurrent"`` (appendix C)
    Encoder per frame, a ConvGRU at the bottleneck (the layer with the most channels)
    running forward in time, decoder per frame: the output at ``t`` depends on
    ``y[:t+1]`` only (in eval mode; batch-norm statistics couple frames in training).

FLOPs per 64x64 frame
---------------------
Counted with :func:`seainpaint.nn.count_flops` (``FlopCounterMode``; a multiply-add is
2 FLOPs) on one channel, divided by the number of frames (30 for "fast", 3 for "paper";
the count is linear in ``T``); "fast" with its uncertainty head (as trained by default):

=====  ==============  ====  ===========  ==========  =========
arch   variant         base  GFLOP/frame  parameters  kFLOP/px
=====  ==============  ====  ===========  ==========  =========
fast   spatiotemporal  8     0.060        0.12 M      15
fast   spatiotemporal  16    0.232        0.46 M      57
fast   static          8     0.046        0.09 M      11
fast   recurrent       8     0.056        0.15 M      14
paper  spatiotemporal  32    237.5        29.0 M      57982
paper  static          32    80.4         9.8 M       19640
paper  recurrent       32    196.4        24.0 M      47952
=====  ==============  ====  ===========  ==========  =========

The paper's architecture runs 16 C_b = 512 channels of 3x3x3 convolutions at full
resolution: about 4000 times the work of the default "fast" per frame.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as nnf
from torch import nn
from torch.nn.utils import parametrize

from ..checks import first_not_int_at_least
from .context import SPATIAL_SCALES, context_channels, spatial_residual, temporal_context
from .layers import (
    Block2p1d,
    ConfigError,
    Conv2p1d,
    ConvGRUCell,
    FrameConv2d,
    ResBlock3d,
    SelfAttention2d,
    batch_norm,
    conv2d,
    conv3d,
    fold_time,
    plain_state_dict,
    unfold_time,
)
from .spatial import SPACE_FILLS, with_space_prior

ARCHS = ("fast", "paper")
VARIANTS = ("spatiotemporal", "static", "recurrent")
DEFAULT_BASE = {"fast": 8, "paper": 32}
PRIORS = ("none", "time", "causal")
DEFAULT_PRIOR = {"spatiotemporal": "time", "static": "none", "recurrent": "causal"}


def compose(phi: torch.Tensor, y: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """The paper's G(y) = phi(y) (1 - m) + y m: observed pixels pass through unchanged."""
    return phi * (1 - m) + y * m


def generator_config(config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Complete a generator configuration with its defaults and check it.

    Keys: ``arch`` ("fast" | "paper"), ``variant`` ("spatiotemporal" | "static" |
    "recurrent"), ``channels`` (C_img, default 1), ``base`` (C_base; 8 fast, 32 paper),
    ``spectral_norm`` (True), ``attention`` (True), ``temporal_kernel`` (3, fast only),
    ``prior`` ("auto": "time" for fast spatiotemporal, "causal" for fast recurrent,
    "none" otherwise; see :class:`Generator`), ``reach`` (frames of temporal context;
    None: the window), ``uncertainty`` (False: no error-scale head), ``residual`` (True:
    the leave-one-out residual channels of the context), ``spatial`` (False: those
    residuals also spread in space, :func:`~.context.spatial_residual`), ``space_prior``
    (False; True: the network also sees a spatial fill of each frame, which is its prior
    where no observation lies within ``reach``), ``space_fill`` (that fill: "harmonic",
    :func:`~.spatial.spatial_fill`, the default, or "spline", :func:`~.spatial.spline_fill`),
    ``input_norm`` (batch norm of the inputs; True for "fast").

    Raises
    ------
    ConfigError
        Unknown keys or values.
    """
    cfg = dict(config or {})
    known = {"arch", "variant", "channels", "base", "spectral_norm", "attention",
             "temporal_kernel", "prior", "reach", "uncertainty", "residual", "spatial",
             "space_prior", "space_fill", "input_norm"}
    unknown = sorted(set(cfg) - known)
    if unknown:
        raise ConfigError(f"unknown generator config keys {unknown}; known: {sorted(known)}")
    arch = cfg.setdefault("arch", "fast")
    if arch not in ARCHS:
        raise ConfigError(f"unknown generator arch {arch!r}; choose one of {ARCHS}")
    variant = cfg.setdefault("variant", "spatiotemporal")
    if variant not in VARIANTS:
        raise ConfigError(f"unknown generator variant {variant!r}; choose one of {VARIANTS}")
    cfg.setdefault("channels", 1)
    cfg.setdefault("base", DEFAULT_BASE[arch])
    cfg.setdefault("spectral_norm", True)
    cfg.setdefault("attention", True)
    cfg.setdefault("temporal_kernel", 3)
    cfg.setdefault("uncertainty", False)
    cfg.setdefault("residual", True)
    cfg.setdefault("spatial", False)  # models saved before it existed have none
    cfg.setdefault("input_norm", arch == "fast")
    cfg.setdefault("reach", None)
    bad = first_not_int_at_least(
        ([("reach", cfg["reach"], 1)] if cfg["reach"] is not None else [])
        + [(key, cfg[key], 1) for key in ("channels", "base", "temporal_kernel")],
        numpy=False,
    )
    if bad is not None and bad[0] == "reach":
        raise ConfigError(f"generator config 'reach' must be a positive int or None, "
                          f"got {cfg['reach']!r}")
    if bad is not None:
        key, value, _ = bad
        raise ConfigError(f"generator config {key!r} must be a positive int, got {value!r}")
    if cfg["temporal_kernel"] % 2 == 0:
        raise ConfigError(f"temporal_kernel must be odd, got {cfg['temporal_kernel']}")
    prior = cfg.setdefault("prior", "auto")
    if prior == "auto":
        prior = "none" if arch == "paper" else DEFAULT_PRIOR[variant]
        cfg["prior"] = prior
    if prior not in PRIORS:
        raise ConfigError(f"unknown prior {prior!r}; choose one of {PRIORS} or 'auto'")
    if cfg["spatial"] and not (cfg["residual"] and prior != "none"):
        raise ConfigError("'spatial' spreads the context's residual channels in space: it "
                          "needs a prior and residual=True")
    cfg.setdefault("space_prior", False)  # models saved before it existed have none
    if not isinstance(cfg["space_prior"], bool):
        raise ConfigError(f"generator config 'space_prior' must be True or False, got "
                          f"{cfg['space_prior']!r}")
    if cfg["space_prior"] and prior == "none":
        raise ConfigError("'space_prior' adds a spatial fill to the prior: it needs a prior")
    cfg.setdefault("space_fill", "harmonic")  # models saved before the spline have this one
    if cfg["space_fill"] not in SPACE_FILLS:
        raise ConfigError(f"unknown space_fill {cfg['space_fill']!r}; choose one of "
                          f"{tuple(SPACE_FILLS)}")
    if variant == "static" and prior != "none":
        raise ConfigError("a static generator processes frames independently: prior must "
                          f"be 'none', got {prior!r}")
    if variant == "recurrent" and prior == "time":
        raise ConfigError("a recurrent generator only sees the past: use prior 'causal' or "
                          "'none', not 'time'")
    return cfg


class Generator(nn.Module):
    """Base class: pads frames, adds the mask (and context) channels, crops the output.

    With ``config["prior"]`` set to "time" (or "causal"), the network is told each
    pixel's temporal context (:func:`~.context.temporal_context`): a first guess by
    interpolation in time of its own observations within ``config["reach"]`` frames
    ("causal": the last observation) and how far those observations are. It predicts a
    correction to that guess, ``phi = prior + head(body(y, m, context))``, whose last
    layer starts at zero: the untrained generator is exactly the interpolation in time;
    that layer learns from the first step and passes gradients on to the rest from the
    next (a scalar gain at zero, as before, scaled every gradient of the body by itself and
    so kept it from learning). The output is not squashed: any value is reachable.

    Without a prior ("none", the paper's architecture) ``phi = tanh(body(y, m))``.

    With ``config["uncertainty"]`` the network also predicts, per pixel and channel, the
    log of the scale ``b`` of a Laplace distribution of its error (trained with the
    negative log-likelihood on re-hidden observations; see :mod:`seainpaint.training`).
    """

    takes_mask = True
    multiple = 1  # frames are padded to a multiple of this

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.config = config
        self.prior = config.get("prior", "none")
        self.reach = config.get("reach")
        c = config["channels"]
        self.uncertainty = bool(config.get("uncertainty", False))
        # the leave-one-out residual channels of the context can be left out
        self.residual = bool(config.get("residual", True))
        # and those residuals spread in space (needs them)
        self.spatial = bool(config.get("spatial", False))
        n_context = context_channels(c) - (0 if self.residual else c)
        n_context += c * len(SPATIAL_SCALES) if self.spatial else 0
        # a spatial fill of each frame: an input, and the prior where time has none
        self.space_prior = bool(config.get("space_prior", False))
        self.space_fill = SPACE_FILLS[config.get("space_fill", "harmonic")]
        n_context += c if self.space_prior else 0
        self.in_channels = c + 1 + (c + n_context if self.prior != "none" else 0)
        self.out_channels = c * (2 if self.uncertainty else 1)
        # batch norm of the inputs: channels of very different scales (values, gaps in
        # log-steps, small residuals) reach the first layer on an equal footing
        self.input_norm = batch_norm(self.in_channels) if config.get("input_norm") else None

    def context(
        self, y: torch.Tensor, m: torch.Tensor, times: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The temporal context (prior, gaps) of ``y`` within its own frames."""
        return temporal_context(y, m, times, reach=self.reach, causal=self.prior == "causal")

    def forward(
        self,
        y: torch.Tensor,
        m: torch.Tensor,
        context: tuple[torch.Tensor, torch.Tensor] | None = None,
        *,
        return_scale: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Predict every pixel.

        Parameters
        ----------
        y : Tensor ``(B, C, T, H, W)``
            Normalised field, missing pixels set to the constant c.
        m : Tensor ``(B, 1, T, H, W)``
            1 where observed.
        context : (Tensor, Tensor), optional
            ``(prior, gaps)`` from :func:`~.context.temporal_context` computed on more
            frames than ``y`` holds (the fill and the training do this, so that a window
            sees observations beyond its ends); computed from ``y`` alone when omitted.
        return_scale : bool
            Also return the predicted log-scale of the error (needs ``uncertainty``).

        Returns
        -------
        Tensor ``(B, C, T, H, W)``, or ``(phi, log_b)`` with ``return_scale``.
        """
        if y.dim() != 5 or m.dim() != 5 or m.shape[1] != 1 or y.shape[2:] != m.shape[2:]:
            raise ConfigError(
                f"generator expects y (B, C, T, H, W) and m (B, 1, T, H, W); got "
                f"{tuple(y.shape)} and {tuple(m.shape)}"
            )
        c = self.config["channels"]
        if y.shape[1] != c:
            raise ConfigError(f"generator built for {c} channel(s), got {y.shape[1]}")
        if return_scale and not self.uncertainty:
            raise ConfigError("this generator was built without an uncertainty head")
        h, w = y.shape[-2:]
        m = m.to(y.dtype)
        prior, extra = self._prior(y, m, context)
        parts = [y, m, *extra]
        x = torch.cat(parts, 1)
        if self.input_norm is not None:
            x = self.input_norm(x)
        k = self.multiple
        ph, pw = (-h) % k, (-w) % k
        if ph or pw:
            # pad at the end only, so the downsampling grid is anchored at pixel (0, 0)
            # whatever the frame size (tiles starting at multiples of 8 see the same grid)
            x = nnf.pad(x, (0, pw, 0, ph, 0, 0), mode="replicate")
        z = self.body(x)
        if ph or pw:
            z = z[..., :h, :w]
        z = z.float()
        phi = prior + z[:, :c] if prior is not None else torch.tanh(z[:, :c])
        if return_scale:
            return phi, z[:, c:]
        return phi

    def _prior(self, y: torch.Tensor, m: torch.Tensor,
               context: tuple[torch.Tensor, torch.Tensor] | None
               ) -> tuple[torch.Tensor | None, list[torch.Tensor]]:
        """The prior (None without one) and the input channels that describe it."""
        if self.prior == "none":
            return None, []
        prior, features = context if context is not None else self.context(y, m)
        residuals = features[:, 2:]
        if not self.residual:
            features = features[:, :2]
        space = None
        if self.space_prior:
            space = self.space_fill(y, m)
            prior = with_space_prior(prior, space, features[:, :2], self.reach)
        extra = [prior.to(y.dtype), features.to(y.dtype)]
        if self.spatial:
            extra.append(spatial_residual(residuals, m).to(y.dtype))
        if space is not None:
            extra.append(space.to(y.dtype))
        return prior, extra

    def first_guess(self, y: torch.Tensor, m: torch.Tensor,
                    context: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """What the network corrects (the untrained generator's output): interpolation in
        time, and with ``space_prior`` the spatial fill of the frame where no observation
        lies within ``reach``.

        Parameters
        ----------
        y, m, context
            As for :meth:`forward`.

        Returns
        -------
        Tensor ``(B, C, T, H, W)``

        Raises
        ------
        ConfigError
            A generator without a prior (the paper's architecture).
        """
        if self.prior == "none":
            raise ConfigError("this generator has no prior (arch 'paper' or prior 'none')")
        with torch.no_grad():
            return self._prior(y, m.to(y.dtype), context)[0]

    def body(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError


class _Gain(nn.Module):
    """A learned scalar times a weight (a parametrisation), starting at zero."""

    def __init__(self) -> None:
        super().__init__()
        self.gain = nn.Parameter(torch.zeros(()))

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        return self.gain * weight


def _head_conv(cin: int, cout: int, prior: str, use_sn: bool) -> nn.Module:
    """The last 3x3 convolution; its output starts at zero when it corrects a prior.

    Without spectral normalisation the correcting head starts with zero weights. With it
    (the paper's "all parametric layers", §3.4) the weight is ``gain * W / sigma(W)``
    with the gain at zero: spectrally normalised and still exactly the prior at step 0.
    """
    if prior == "none":
        return conv2d(cin, cout, 3, use_sn=use_sn)
    head = conv2d(cin, cout, 3, use_sn=use_sn)
    with torch.no_grad():
        head.bias.zero_()
        if not use_sn:
            head.weight.zero_()
    if use_sn:
        parametrize.register_parametrization(head, "weight", _Gain())
    return head


class _FrameWise(nn.Module):
    """Apply a 2-D module to every frame of ``(B, C, T, H, W)``.

    A :class:`~.layers.FrameConv2d` takes the sequence as it is; any other module gets
    the frames folded into the batch.
    """

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if isinstance(self.module, FrameConv2d):
            return self.module(x)
        return unfold_time(self.module(fold_time(x)), x.shape[2])


class _Up(nn.Module):
    """Decoder step: 1x1 conv to ``cout`` at low resolution, nearest x2 upsampling."""

    def __init__(self, cin: int, cout: int, use_sn: bool) -> None:
        super().__init__()
        self.norm = nn.Sequential(batch_norm(cin), nn.ReLU())
        self.conv = conv2d(cin, cout, 1, use_sn=use_sn)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nnf.interpolate(self.conv(self.norm(x)), scale_factor=(1, 2, 2), mode="nearest")


class _Recurrent(nn.Module):
    """ConvGRU run forward in time over ``(B, C, T, H, W)``: causal."""

    def __init__(self, channels: int, use_sn: bool) -> None:
        super().__init__()
        self.cell = ConvGRUCell(channels, channels, 3, use_sn=use_sn)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = None
        outs = []
        for t in range(x.shape[2]):
            h = self.cell(x[:, :, t], h)
            outs.append(h)
        return torch.stack(outs, 2)


class _Refine(nn.Module):
    """Residual ``BN - ReLU - Conv2p1d`` (one (2+1)-D conv) used after a skip sum."""

    def __init__(self, channels: int, kt: int, use_sn: bool) -> None:
        super().__init__()
        self.body = nn.Sequential(batch_norm(channels), nn.ReLU(),
                                  Conv2p1d(channels, channels, kt=kt, use_sn=use_sn))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class FastGenerator(Generator):
    """Encoder/decoder with (2+1)-D residual blocks; see the module docstring."""

    multiple = 8

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        b = config["base"]
        use_sn = config["spectral_norm"]
        variant = config["variant"]
        kt = 1 if variant in ("static", "recurrent") else config["temporal_kernel"]
        ch = [b, 2 * b, 4 * b, 4 * b]

        def block(cin: int, cout: int, dilation: int = 1) -> nn.Module:
            return Block2p1d(cin, cout, kt=kt, dilation=dilation, use_sn=use_sn)

        def down(cin: int, cout: int) -> nn.Module:
            return nn.Sequential(batch_norm(cin), nn.ReLU(),
                                 _FrameWise(conv2d(cin, cout, 3, stride=2, use_sn=use_sn)))

        # encoder: full resolution -> 1/2 -> 1/4 -> 1/8
        self.stem = _FrameWise(conv2d(self.in_channels, ch[0], 3, use_sn=use_sn))
        self.down1, self.enc1 = down(ch[0], ch[1]), block(ch[1], ch[1])
        self.down2, self.enc2 = down(ch[1], ch[2]), block(ch[2], ch[2])
        self.down3 = down(ch[2], ch[3])
        mid: list[nn.Module] = [block(ch[3], ch[3])]
        if variant == "recurrent":
            mid.append(_Recurrent(ch[3], use_sn))
        if config["attention"]:
            mid.append(SelfAttention2d(ch[3], use_sn=use_sn))
        mid.append(block(ch[3], ch[3], dilation=2))
        self.mid = nn.Sequential(*mid)
        # decoder: upsample, add the encoder's features (skip), refine
        self.up3, self.dec2 = _Up(ch[3], ch[2], use_sn), _Refine(ch[2], kt, use_sn)
        self.up2, self.dec1 = _Up(ch[2], ch[1], use_sn), _Refine(ch[1], kt, use_sn)
        self.up1 = _Up(ch[1], ch[0], use_sn)
        self.dec0 = nn.Sequential(batch_norm(ch[0]), nn.ReLU(),
                                  _FrameWise(conv2d(ch[0], ch[0], 3, use_sn=use_sn)))
        self.head = nn.Sequential(batch_norm(ch[0]), nn.ReLU(),
                                  _FrameWise(_head_conv(ch[0], self.out_channels, self.prior,
                                                        use_sn)))

    def body(self, x: torch.Tensor) -> torch.Tensor:
        e0 = self.stem(x)
        e1 = self.enc1(self.down1(e0))
        e2 = self.enc2(self.down2(e1))
        z = self.mid(self.down3(e2))
        d2 = self.dec2(self.up3(z) + e2)
        d1 = self.dec1(self.up2(d2) + e1)
        d0 = self.up1(d1) + e0
        return self.head(d0 + self.dec0(d0))


class PaperGenerator(Generator):
    """Appendix B, Table 5a (3-D ResNet blocks + spatial self-attention, full resolution)."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        b = config["base"]
        use_sn = config["spectral_norm"]
        variant = config["variant"]
        kt = 1 if variant in ("static", "recurrent") else 3

        def res(cin: int, cout: int) -> nn.Module:
            return ResBlock3d(cin, cout, kt=kt, use_sn=use_sn)

        layers: list[nn.Module] = [res(self.in_channels, b), res(b, 16 * b), res(16 * b, 16 * b)]
        if variant == "recurrent":
            layers.append(_Recurrent(16 * b, use_sn))
        layers += [res(16 * b, 8 * b), res(8 * b, 4 * b), res(4 * b, 2 * b)]
        if config["attention"]:
            layers.append(SelfAttention2d(2 * b, use_sn=use_sn))
        layers += [
            res(2 * b, b),
            batch_norm(b), nn.ReLU(),
            conv3d(b, self.out_channels, (kt, 3, 3), use_sn=use_sn),
        ]
        self.net = nn.Sequential(*layers)

    def body(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def inference_copy(generator: Generator) -> Generator:
    """A copy of ``generator`` for inference: spectral norm folded into the weights.

    The copy is in eval mode, computes the same function as ``generator.eval()``, runs
    faster (no normalisation per call) and can be pickled (spectral-norm parametrised
    modules cannot), e.g. to ship it to ``dask.distributed`` workers.
    """
    plain = build_generator({**generator.config, "spectral_norm": False})
    plain.load_state_dict(plain_state_dict(generator))
    return plain.eval()


def build_generator(config: dict[str, Any] | None = None) -> Generator:
    """Build the generator phi described by ``config``.

    Parameters
    ----------
    config : dict
        See :func:`generator_config`: ``arch`` ("fast" default | "paper"), ``variant``
        ("spatiotemporal" default | "static" | "recurrent"), ``channels`` (C_img),
        ``base`` (C_base), ``spectral_norm``, ``attention``, ``temporal_kernel``.

    Returns
    -------
    Generator
        ``phi = net(y, m)`` with ``y`` ``(B, C, T, H, W)`` and ``m`` ``(B, 1, T, H, W)``;
        ``net.config`` holds the complete configuration (JSON-serialisable).
    """
    cfg = generator_config(config)
    cls = FastGenerator if cfg["arch"] == "fast" else PaperGenerator
    return cls(cfg)
