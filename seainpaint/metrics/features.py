"""Feature networks for FID/FVD: a seeded random default and local reference networks.

A feature network is a callable mapping a ``torch.Tensor`` batch to ``(N, D)`` feature
vectors. :class:`SmallFeatureNet` is a seeded, randomly initialised convolutional network
that needs no download; it is the default and is fine to *rank* methods on one data set,
but its numbers are **not comparable to published FID/FVD**. For those, load the reference
networks from local files with :func:`load_inception` and :func:`load_i3d` (nothing is
ever downloaded). This is the only metrics module that uses torch (imported when needed).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FeatureNetError

FeatureNet = Callable[[Any], Any]

__all__ = [
    "FeatureNet",
    "PretrainedFeatures",
    "SmallFeatureNet",
    "extract_features",
    "load_i3d",
    "load_inception",
]


class SmallFeatureNet:
    """A seeded, randomly initialised conv net mapping frames or clips to feature vectors.

    It needs no download and runs fast on a CPU, so it is the default feature network for
    FID (``dims=2``: input ``(N, C, H, W)``) and FVD (``dims=3``: input ``(N, C, T, H, W)``).
    Random features are good enough to rank fills of one data set against each other, but
    **numbers computed with it are not comparable to published FID/FVD values**, which use
    InceptionV3 / I3D (see :func:`load_inception`, :func:`load_i3d`).

    Parameters
    ----------
    in_channels : int
        Channels of the input (1 for SST, 3 for RGB video).
    dims : {2, 3}
        2-D convolutions on frames or 3-D convolutions on clips.
    width : int
        Channels of the first layer (doubled at each of the three stages); the features
        are the ``4 * width`` channels of the last stage, averaged over space (and time).
    seed : int
        Seed of the weight initialisation: same seed, same features.
    """

    def __init__(self, in_channels: int = 1, dims: int = 2, width: int = 16, seed: int = 0):
        import torch
        from torch import nn

        if dims not in (2, 3):
            raise FeatureNetError(f"dims must be 2 (frames) or 3 (clips), got {dims}")
        conv = nn.Conv2d if dims == 2 else nn.Conv3d
        pool = nn.AdaptiveAvgPool2d if dims == 2 else nn.AdaptiveAvgPool3d
        gen = torch.Generator().manual_seed(seed)
        layers: list[nn.Module] = []
        channels = in_channels
        for stage in range(3):
            out = width * 2**stage
            layers += [conv(channels, out, 3, stride=2, padding=1), nn.LeakyReLU(0.2)]
            channels = out
        self.net = nn.Sequential(*layers, pool(1), nn.Flatten())
        with torch.no_grad():
            for module in self.net.modules():
                if isinstance(module, conv):
                    fan_in = module.weight[0].numel()
                    w = torch.randn(module.weight.shape, generator=gen) * math.sqrt(2.0 / fan_in)
                    module.weight.copy_(w)
                    module.bias.zero_()
        self.net.eval()
        self.in_channels = in_channels
        self.dims = dims
        self.seed = seed
        self.n_features = channels

    def __call__(self, batch):
        import torch

        with torch.no_grad():
            return self.net(batch.float())

    def to(self, device: Any) -> SmallFeatureNet:
        """Move the network to a torch device (batches follow it); returns self."""
        self.net.to(device)
        return self

    def __repr__(self) -> str:
        return (
            f"SmallFeatureNet(in_channels={self.in_channels}, dims={self.dims}, seed={self.seed})"
        )


class PretrainedFeatures:
    """Adapter around a loaded reference network (InceptionV3 or I3D).

    It repeats single-channel input to 3 channels, resizes frames to ``size``, maps the
    normalised input range [-1, 1] to ``value_range`` and calls the module with
    ``call_kwargs`` (falling back to a plain call when the module rejects them).

    Parameters
    ----------
    module : torch.nn.Module or torch.jit.ScriptModule
        The network; its output (a tensor, or a tuple whose first item is one) is
        flattened to ``(N, D)`` features.
    dims : {2, 3}
        Frames ``(N, C, H, W)`` or clips ``(N, C, T, H, W)``.
    size : tuple of int or None
        Spatial size the network expects, or None to pass frames unchanged.
    value_range : tuple of float
        Range of the network's input.
    call_kwargs : dict
        Keyword arguments of the call (e.g. ``{"return_features": True}``).
    """

    def __init__(
        self,
        module: Any,
        *,
        dims: int,
        size: tuple[int, int] | None,
        value_range: tuple[float, float] = (-1.0, 1.0),
        call_kwargs: Mapping[str, Any] | None = None,
    ):
        self.module = module
        self.dims = dims
        self.size = size
        self.value_range = value_range
        self.call_kwargs = dict(call_kwargs or {})
        self.in_channels = 3
        if hasattr(module, "eval"):
            module.eval()

    def to(self, device: Any) -> PretrainedFeatures:
        """Move the network to a torch device (batches follow it); returns self."""
        self.module.to(device)
        return self

    def __call__(self, batch):
        import torch
        import torch.nn.functional as F

        x = batch.float()
        if x.shape[1] == 1:
            x = x.expand(-1, 3, *x.shape[2:])
        if self.size is not None:
            if self.dims == 2:
                x = F.interpolate(x, size=self.size, mode="bilinear", align_corners=False)
            else:
                size = (x.shape[2], *self.size)
                x = F.interpolate(x, size=size, mode="trilinear", align_corners=False)
        lo, hi = self.value_range
        x = (x.clamp(-1, 1) + 1) / 2 * (hi - lo) + lo
        with torch.no_grad():
            if self.call_kwargs:
                try:
                    out = self.module(x, **self.call_kwargs)
                except (TypeError, RuntimeError):
                    self.call_kwargs = {}
                    out = self.module(x)
            else:
                out = self.module(x)
        if isinstance(out, (tuple, list)):
            out = out[0]
        return out.reshape(out.shape[0], -1)


_INCEPTION_HINT = (
    "FID needs InceptionV3 weights in a local file: a TorchScript export such as "
    "'inception-2015-12-05.pt' (the NVlabs StyleGAN2-ADA metrics network, "
    "https://api.ngc.nvidia.com/v2/models/nvidia/research/stylegan3/versions/1/files/"
    "metrics/inception-2015-12-05.pkl converted, or any torch.jit.save'd InceptionV3 "
    "returning pool features), or a state dict together with model=<architecture>; "
    "seainpaint never downloads weights"
)
_I3D_HINT = (
    "FVD needs I3D weights in a local file: a TorchScript file such as 'i3d_torchscript.pt' "
    "(the Kinetics-400 I3D used by StyleGAN-V / the FVD reference implementation of "
    "Unterthiner et al. 2018), or a state dict together with model=<architecture>; "
    "seainpaint never downloads weights"
)


def _load_module(path: str | Path, model: Any, hint: str) -> Any:
    import torch

    path = Path(path).expanduser()
    if not path.is_file():
        raise FeatureNetError(f"feature network file {str(path)!r} not found. {hint}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return torch.jit.load(str(path), map_location="cpu")
    except Exception:  # not TorchScript: try a state dict
        pass
    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as err:
        raise FeatureNetError(
            f"cannot read {str(path)!r} as TorchScript or a state dict ({err}). {hint}"
        ) from None
    if isinstance(state, torch.nn.Module):
        return state
    if not isinstance(state, Mapping):
        raise FeatureNetError(f"{str(path)!r} holds a {type(state).__name__}, not weights. {hint}")
    if model is None:
        raise FeatureNetError(
            f"{str(path)!r} is a state dict: pass model=<torch module of the matching "
            f"architecture> to load it into, or give a TorchScript file. {hint}"
        )
    if "state_dict" in state and isinstance(state["state_dict"], Mapping):
        state = state["state_dict"]
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise FeatureNetError(f"weights in {str(path)!r} do not fit the model: {err}") from None
    return model


def _pretrained(
    path: str | Path, model: Any, hint: str, dims: int, script: dict, options: dict
) -> PretrainedFeatures:
    """Load a reference network; a TorchScript file is called with ``script`` by default."""
    module = _load_module(path, model, hint)
    if options["call_kwargs"] is None:
        options["call_kwargs"] = script if model is None else {}
    return PretrainedFeatures(module, dims=dims, **options)


def load_inception(
    path: str | Path,
    *,
    model: Any = None,
    size: tuple[int, int] | None = (299, 299),
    value_range: tuple[float, float] = (0.0, 255.0),
    call_kwargs: Mapping[str, Any] | None = None,
) -> PretrainedFeatures:
    """Load an InceptionV3 feature network for FID from a local file.

    Parameters
    ----------
    path : str or Path
        TorchScript file, or a state dict (then ``model`` is required).
    model : torch.nn.Module, optional
        Architecture to load a state dict into (its output must be the features).
    size : tuple of int or None
        Input frame size (299 × 299 for InceptionV3).
    value_range : tuple of float
        Input value range; the default (0, 255) suits the StyleGAN2-ADA TorchScript network.
    call_kwargs : dict, optional
        Call keywords; default ``{"return_features": True}`` for TorchScript files.

    Returns
    -------
    PretrainedFeatures
        A feature network to pass to :func:`fid` or :func:`seainpaint.evaluate`.

    Raises
    ------
    FeatureNetError
        The file is missing or unreadable; the message says which file is needed.
    """
    options = {"size": size, "value_range": value_range, "call_kwargs": call_kwargs}
    return _pretrained(path, model, _INCEPTION_HINT, 2, {"return_features": True}, options)


def load_i3d(
    path: str | Path,
    *,
    model: Any = None,
    size: tuple[int, int] | None = (224, 224),
    value_range: tuple[float, float] = (-1.0, 1.0),
    call_kwargs: Mapping[str, Any] | None = None,
) -> PretrainedFeatures:
    """Load an I3D feature network for FVD from a local file.

    Parameters are as in :func:`load_inception`; the defaults (224 × 224 input in [-1, 1],
    ``{"rescale": False, "resize": False, "return_features": True}``) suit the StyleGAN-V
    ``i3d_torchscript.pt`` file.

    Raises
    ------
    FeatureNetError
        The file is missing or unreadable; the message says which file is needed.
    """
    options = {"size": size, "value_range": value_range, "call_kwargs": call_kwargs}
    script = {"rescale": False, "resize": False, "return_features": True}
    return _pretrained(path, model, _I3D_HINT, 3, script, options)


# ----------------------------------------------------------------------------- batches


def _batches(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def _net_device(net: FeatureNet) -> Any:
    """The torch device of a feature network's weights (None when it has none)."""
    for module in (getattr(net, "net", None), getattr(net, "module", None), net):
        params = getattr(module, "parameters", None)
        if callable(params):
            try:
                return next(iter(params())).device
            except (StopIteration, TypeError):
                continue
    return None


def extract_features(net: FeatureNet, arrays: np.ndarray, batch_size: int) -> np.ndarray:
    """Features ``(N, D)`` of ``arrays`` (a float32 batch axis first), ``batch_size`` at once.

    Batches go to the device of the network's weights; non-finite features are refused.
    """
    import torch

    device = _net_device(net)
    feats = []
    for sl in _batches(arrays.shape[0], batch_size):
        batch = torch.from_numpy(np.ascontiguousarray(arrays[sl]))
        out = net(batch.to(device) if device is not None else batch)
        out = out.detach().cpu().numpy() if hasattr(out, "detach") else np.asarray(out)
        feats.append(out.reshape(out.shape[0], -1).astype(np.float64))
    result = np.concatenate(feats)
    if not np.isfinite(result).all():
        raise FeatureNetError("the feature network returned non-finite features")
    return result
