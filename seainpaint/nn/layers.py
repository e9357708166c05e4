"""Building blocks of the generator and the discriminators.

Every parametric layer (convolution, linear) is created through :func:`sn`, which
initialises its weight from N(0, 0.02) and its bias at zero (the paper's §3.4) and then
wraps it in spectral normalisation
(:func:`torch.nn.utils.parametrizations.spectral_norm`) when asked. Batch-norm scales are
drawn from N(1, 0.02) with zero shift.

Tensors follow PyTorch's layout: frames ``(N, C, H, W)``, sequences ``(B, C, T, H, W)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as nnf
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from ..errors import ConfigError  # noqa: F401  (re-exported to nn.*)

INIT_STD = 0.02


_PARAMETRIC = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear, nn.ConvTranspose2d, nn.ConvTranspose3d)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def init_weights(module: nn.Module, std: float = INIT_STD) -> nn.Module:
    """Initialise a module tree in place: N(0, std) weights, zero biases.

    Convolution and linear weights are drawn from N(0, ``std``); batch-norm scales from
    N(1, ``std``). Already spectral-normalised layers have their *original* weight
    initialised. Returns the module.
    """
    for mod in module.modules():
        if isinstance(mod, _PARAMETRIC):
            if parametrize.is_parametrized(mod, "weight"):
                weight = mod.parametrizations.weight.original
            else:
                weight = mod.weight
            with torch.no_grad():
                weight.normal_(0.0, std)
                if mod.bias is not None:
                    mod.bias.zero_()
        elif isinstance(mod, _NORMS) and mod.affine:
            with torch.no_grad():
                mod.weight.normal_(1.0, std)
                mod.bias.zero_()
    return module


def sn(layer: nn.Module, use: bool = True) -> nn.Module:
    """Initialise ``layer`` from N(0, 0.02) and wrap it in spectral normalisation.

    Parameters
    ----------
    layer : nn.Module
        A convolution or linear layer.
    use : bool
        Apply spectral normalisation (only the initialisation when False).
    """
    init_weights(layer)
    return spectral_norm(layer) if use else layer


def is_spectral_normed(layer: nn.Module) -> bool:
    """Whether ``layer``'s weight carries a spectral-norm parametrisation."""
    return any(mod is layer for mod, _ in _spectral_norms(layer))


def _spectral_norms(module: nn.Module) -> list[tuple[nn.Module, nn.Module]]:
    """``(layer, parametrisation)`` for every spectral-norm parametrisation in a tree."""
    out = []
    for mod in module.modules():
        if parametrize.is_parametrized(mod, "weight"):
            out += [(mod, p) for p in mod.parametrizations.weight
                    if type(p).__name__ == "_SpectralNorm"]
    return out


def refresh_spectral_norm(module: nn.Module, iterations: int = 5) -> nn.Module:
    """Re-estimate every spectral norm of ``module`` from its own weights, in place.

    Spectral normalisation stores its power-iteration vectors ``u`` and ``v`` as buffers
    and, in eval mode, divides the weight by ``u^T W v``. An exponential moving average of
    a network (``AveragedModel(..., use_buffers=True)``) averages those vectors too: their
    mean is shorter than 1 and no longer the averaged weight's singular pair, so sigma is
    underestimated (by up to 4x after 100 steps) and the averaged generator's weights are
    too large, layer after layer. Call this after each update of the average: it
    renormalises ``u``, ``v`` and runs ``iterations`` power iterations on the averaged
    weight. Returns ``module``.
    """
    with torch.no_grad():
        for mod, param in _spectral_norms(module):
            weight = mod.parametrizations.weight.original
            mat = weight.movedim(param.dim, 0).flatten(1)
            u, v = param._u, param._v
            for _ in range(max(1, iterations)):
                u = nnf.normalize(mat @ v, dim=0, eps=param.eps)
                v = nnf.normalize(mat.t() @ u, dim=0, eps=param.eps)
            param._u.copy_(u)
            param._v.copy_(v)
    return module


def parametric_layers(module: nn.Module) -> list[nn.Module]:
    """All convolution and linear layers of a module tree."""
    return [m for m in module.modules() if isinstance(m, _PARAMETRIC)]


def plain_state_dict(module: nn.Module) -> dict[str, torch.Tensor]:
    """State dict with every spectral-normalised weight replaced by its normalised value.

    Keys are those of the same network built with ``spectral_norm=False``
    (``conv.weight`` instead of ``conv.parametrizations.weight.original``). Computed in
    eval mode, so no power iteration runs and ``module`` is left untouched.
    """
    was_training = module.training
    module.eval()
    try:
        out: dict[str, torch.Tensor] = {}
        with torch.no_grad():
            for key, value in module.state_dict().items():
                if ".parametrizations." not in key:
                    out[key] = value.detach().clone()
            for name, mod in module.named_modules():
                if parametrize.is_parametrized(mod, "weight"):
                    out[f"{name}.weight" if name else "weight"] = mod.weight.detach().clone()
        return out
    finally:
        module.train(was_training)


class FrameConv2d(nn.Conv2d):
    """A 2-D convolution that also takes sequences ``(B, C, T, H, W)``, frame by frame.

    On a sequence of frames of at least ``MIN_PIXELS_3D`` pixels it runs as a 3-D
    convolution with a ``1 x k x k`` kernel (the same weights, ``weight[:, :, None]``)
    instead of folding time into the batch, so no copy of the input is made: the
    generator's forward pass on the CPU is 1.1-1.2x faster (table 1 of
    ``benchmarks/bench_fill_plan.py``). Smaller frames are folded (oneDNN leaves small
    3-D convolutions to a slow kernel). Parameters and state dict are those of
    :class:`torch.nn.Conv2d`, so saved models load unchanged.
    """

    MIN_PIXELS_3D = 32 * 32

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 5:
            return super().forward(x)
        if (self.padding_mode != "zeros" or isinstance(self.padding, str)
                or x.shape[-2] * x.shape[-1] < self.MIN_PIXELS_3D):
            return unfold_time(super().forward(fold_time(x)), x.shape[2])
        return nnf.conv3d(x, self.weight.unsqueeze(2), self.bias, stride=(1, *self.stride),
                        padding=(0, *self.padding), dilation=(1, *self.dilation),
                        groups=self.groups)


def conv2d(cin: int, cout: int, k: int = 3, stride: int = 1, *, use_sn: bool = True,
           bias: bool = True, padding_mode: str = "zeros") -> nn.Module:
    """A 2-D convolution with 'same' padding, N(0, 0.02) init and spectral norm.

    A :class:`FrameConv2d`: it also applies to every frame of a ``(B, C, T, H, W)``
    sequence.
    """
    layer = FrameConv2d(cin, cout, k, stride=stride, padding=k // 2, bias=bias,
                        padding_mode=padding_mode)
    return sn(layer, use_sn)


def conv3d(cin: int, cout: int, k: tuple[int, int, int] | int = 3,
           stride: tuple[int, int, int] | int = 1, *, dilation: tuple[int, int, int] | int = 1,
           use_sn: bool = True, bias: bool = True, padding_mode: str = "zeros") -> nn.Module:
    """A 3-D convolution with 'same' padding, N(0, 0.02) init and spectral norm."""
    k3 = (k, k, k) if isinstance(k, int) else tuple(k)
    d3 = (dilation,) * 3 if isinstance(dilation, int) else tuple(dilation)
    pad = tuple(d * (kk // 2) for kk, d in zip(k3, d3, strict=True))
    layer = nn.Conv3d(cin, cout, k3, stride=stride, padding=pad, dilation=d3, bias=bias,
                      padding_mode=padding_mode)
    return sn(layer, use_sn)


def batch_norm(channels: int, dims: int = 3) -> nn.Module:
    """Batch normalisation over ``dims`` spatial(-temporal) dims, scales from N(1, 0.02)."""
    cls = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}[dims]
    return init_weights(cls(channels))


def fold_time(x: torch.Tensor) -> torch.Tensor:
    """``(B, C, T, H, W)`` -> ``(B*T, C, H, W)``: every frame becomes a batch item."""
    b, c, t, h, w = x.shape
    return x.transpose(1, 2).reshape(b * t, c, h, w)


def unfold_time(x: torch.Tensor, t: int) -> torch.Tensor:
    """Inverse of :func:`fold_time`: ``(B*T, C, H, W)`` -> ``(B, C, T, H, W)``."""
    bt, c, h, w = x.shape
    return x.reshape(bt // t, t, c, h, w).transpose(1, 2)


class SelfAttention2d(nn.Module):
    """Spatial self-attention within each frame (SAGAN / non-local block).

    Input ``(N, C, H, W)`` or ``(B, C, T, H, W)``; for a sequence, time is moved into the
    batch dimension explicitly first (``(B, C, T, H, W) -> (B*T, C, H, W)``), so the
    attention never mixes frames. Queries and keys have ``C // 8`` channels, values
    ``C // 2``; keys and values are max-pooled 2x2 (as in SAGAN) when the frame is at least
    ``pool_min`` pixels on each side. The output is ``x + gamma * attention``, with the
    learned ``gamma`` starting at 0.
    """

    def __init__(self, channels: int, *, use_sn: bool = True, pool_min: int = 16) -> None:
        super().__init__()
        ck = max(channels // 8, 1)
        cv = max(channels // 2, 1)
        self.query = conv2d(channels, ck, 1, use_sn=use_sn, bias=False)
        self.key = conv2d(channels, ck, 1, use_sn=use_sn, bias=False)
        self.value = conv2d(channels, cv, 1, use_sn=use_sn, bias=False)
        self.out = conv2d(cv, channels, 1, use_sn=use_sn, bias=False)
        self.gamma = nn.Parameter(torch.zeros(()))
        self.pool_min = pool_min

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 5:
            return unfold_time(self._frames(fold_time(x)), x.shape[2])
        return self._frames(x)

    def _frames(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        q = self.query(x).flatten(2).transpose(1, 2)  # (N, HW, ck)
        kv = x
        if min(h, w) >= self.pool_min:
            kv = nnf.max_pool2d(x, 2)
        k = self.key(kv).flatten(2).transpose(1, 2)  # (N, hw, ck)
        v = self.value(kv).flatten(2).transpose(1, 2)  # (N, hw, cv)
        att = nnf.scaled_dot_product_attention(q.unsqueeze(1), k.unsqueeze(1), v.unsqueeze(1))
        att = att.squeeze(1).transpose(1, 2).reshape(n, -1, h, w)
        return x + self.gamma * self.out(att)


class ConvGRUCell(nn.Module):
    """Convolutional GRU cell (Siam et al., 2016) on frames ``(N, C, H, W)``.

    ``h' = (1 - z) * h + z * tanh(W_c [x, r * h])`` with reset ``r`` and update ``z``
    gates from ``sigmoid(W_g [x, h])``; all convolutions have kernel ``k``.
    """

    def __init__(self, cin: int, hidden: int, k: int = 3, *, use_sn: bool = True) -> None:
        super().__init__()
        self.hidden = hidden
        self.gates = conv2d(cin + hidden, 2 * hidden, k, use_sn=use_sn)
        self.cand = conv2d(cin + hidden, hidden, k, use_sn=use_sn)

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        if h is None:
            h = x.new_zeros(x.shape[0], self.hidden, *x.shape[2:])
        r, z = torch.sigmoid(self.gates(torch.cat([x, h], 1))).chunk(2, 1)
        c = torch.tanh(self.cand(torch.cat([x, r * h], 1)))
        return (1 - z) * h + z * c


class ResBlock3d(nn.Module):
    """Pre-activation 3-D ResNet block (He et al., 2016), kernel 3, stride 1.

    ``kt`` is the temporal kernel size (1 makes the block act on frames independently).

    ``BN - ReLU - conv3 - BN - ReLU - conv3`` plus a shortcut (a 1x1x1 convolution when
    the channel count changes). Activations are inside the block (Table 5a's ReLU*).
    """

    def __init__(self, cin: int, cout: int, *, kt: int = 3, use_sn: bool = True) -> None:
        super().__init__()
        k = (kt, 3, 3)
        self.body = nn.Sequential(
            batch_norm(cin), nn.ReLU(),
            conv3d(cin, cout, k, use_sn=use_sn),
            batch_norm(cout), nn.ReLU(),
            conv3d(cout, cout, k, use_sn=use_sn),
        )
        self.skip = nn.Identity() if cin == cout else conv3d(cin, cout, 1, use_sn=use_sn)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.skip(x) + self.body(x)


class Conv2p1d(nn.Module):
    """(2+1)-D convolution: a spatial ``1 x k x k`` conv then a temporal ``kt x 1 x 1`` one.

    The spatial convolution runs as a 2-D convolution over the frames (time folded into
    the batch), which is faster on CPUs than a 3-D kernel. With ``kt = 1`` it is purely
    spatial (frames independent). Temporal padding replicates the end frames, so any
    ``T >= 1`` works; ``dilation`` widens the temporal reach.
    """

    def __init__(self, cin: int, cout: int, *, k: int = 3, kt: int = 3, dilation: int = 1,
                 mid: int | None = None, use_sn: bool = True) -> None:
        super().__init__()
        mid = mid or cout
        self.kt = kt
        self.dilation = dilation
        self.spatial = conv2d(cin, mid if kt > 1 else cout, k, use_sn=use_sn)
        if kt > 1:
            self.act = nn.Sequential(batch_norm(mid, 3), nn.ReLU())
            self.temporal = sn(nn.Conv3d(mid, cout, (kt, 1, 1), dilation=(dilation, 1, 1)),
                               use_sn)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.spatial(x)  # frame by frame (a FrameConv2d)
        if self.kt == 1:
            return y
        y = self.act(y)
        p = self.dilation * (self.kt // 2)
        y = torch.cat([y[:, :, :1].expand(-1, -1, p, -1, -1), y,
                       y[:, :, -1:].expand(-1, -1, p, -1, -1)], 2)
        return self.temporal(y)


class Block2p1d(nn.Module):
    """Residual (2+1)-D block: ``BN - ReLU - Conv2p1d - BN - ReLU - Conv2p1d`` + shortcut."""

    def __init__(self, cin: int, cout: int, *, kt: int = 3, dilation: int = 1,
                 use_sn: bool = True) -> None:
        super().__init__()
        self.body = nn.Sequential(
            batch_norm(cin), nn.ReLU(),
            Conv2p1d(cin, cout, kt=kt, dilation=dilation, use_sn=use_sn),
            batch_norm(cout), nn.ReLU(),
            Conv2p1d(cout, cout, kt=kt, dilation=dilation, use_sn=use_sn),
        )
        self.skip = nn.Identity() if cin == cout else conv3d(cin, cout, 1, use_sn=use_sn)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.skip(x) + self.body(x)


def count_flops(module: nn.Module, input_shape: tuple[int, ...]) -> int:
    """Floating-point operations of one forward pass (eval mode, no autograd).

    Counted with :class:`torch.utils.flop_counter.FlopCounterMode` (a multiply-add counts
    as 2 FLOPs; convolutions, matrix products and attention are counted, element-wise
    operations are not).

    Parameters
    ----------
    module : nn.Module
        A generator (called as ``module(y, m)`` with an all-observed mask of shape
        ``(B, 1, T, H, W)``) or a discriminator (called as ``module(x)``).
    input_shape : tuple of int
        Shape of ``y`` (``(B, C, T, H, W)``) or of the discriminator input.
    """
    from torch.utils.flop_counter import FlopCounterMode

    was_training = module.training
    module.eval()
    try:
        x = torch.zeros(input_shape)
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter:
            if getattr(module, "takes_mask", False):
                module(x, torch.ones(input_shape[0], 1, *input_shape[2:]))
            else:
                module(x)
        return int(counter.get_total_flops())
    finally:
        module.train(was_training)
