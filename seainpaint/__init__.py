"""seainpaint: unsupervised spatiotemporal inpainting of cloud-occluded fields.

Importing the package registers the ``.inpaint`` accessor on xarray objects. The public
names below are imported on first use, so ``import seainpaint`` (and ``seainpaint
--help``) stays fast: xarray, dask and torch load only when something needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import _accessor_hook
from . import errors as _errors

_accessor_hook.install()  # .inpaint on DataArray/Dataset, now or when xarray is imported

__version__ = "0.1.0"

#: public name -> module that defines it (relative to the package)
_EXPORTS = {
    "Cloud": ".occlusion",
    "FieldClouds": ".occlusion",
    "InpaintModel": ".model",
    "MovingVerticalBar": ".occlusion",
    "OcclusionProcess": ".occlusion",
    "Raindrops": ".occlusion",
    "RemovePixel": ".occlusion",
    "apply_measurement": ".occlusion",
    "evaluate": ".evaluation",
    "evaluate_by_cover": ".evaluation",
    "evaluate_by_distance": ".evaluation",
    "fetch_sst": ".io.copernicus",
    "fill": ".filling",
    "land_mask": ".field",
    "metrics": None,  # a submodule
    "observed_mask": ".field",
    "occlude": ".occlusion",
    "open_lwp": ".io.pycles",
    "open_video": ".io.video",
    "to_netcdf": ".io.netcdf",
    "to_video": ".io.video",
    "train": ".training",
    # the whole error family (errors.py is light: no heavy import)
    **dict.fromkeys(_errors.__all__, ".errors"),
}

__all__ = [
    "Cloud",
    "FieldClouds",
    "InpaintModel",
    "MovingVerticalBar",
    "OcclusionProcess",
    "Raindrops",
    "RemovePixel",
    "apply_measurement",
    "evaluate",
    "evaluate_by_cover",
    "evaluate_by_distance",
    "fetch_sst",
    "fill",
    "land_mask",
    "metrics",
    "observed_mask",
    "occlude",
    "open_lwp",
    "open_video",
    "to_netcdf",
    "to_video",
    "train",
]
__all__ += _errors.__all__


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'seainpaint' has no attribute {name!r}")
    module = _EXPORTS[name]
    if module is None:
        value: Any = importlib.import_module(f".{name}", __name__)
    else:
        value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # for type checkers and IDEs; at run time the names load lazily
    from . import metrics
    from .errors import *  # noqa: F403
    from .evaluation import evaluate, evaluate_by_cover, evaluate_by_distance
    from .field import land_mask, observed_mask
    from .filling import fill
    from .io.copernicus import fetch_sst
    from .io.netcdf import to_netcdf
    from .io.pycles import open_lwp
    from .io.video import open_video, to_video
    from .model import InpaintModel
    from .occlusion import (
        Cloud,
        FieldClouds,
        MovingVerticalBar,
        OcclusionProcess,
        Raindrops,
        RemovePixel,
        apply_measurement,
        occlude,
    )
    from .training import train
