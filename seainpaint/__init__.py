"""seainpaint: unsupervised spatiotemporal inpainting of cloud-occluded fields.

Importing the package registers the ``.inpaint`` accessor on xarray objects.
"""

from __future__ import annotations

from . import accessor as _accessor  # noqa: F401  (registers .inpaint)
from . import errors as _errors
from . import metrics
from .errors import *  # noqa: F403  (the whole family, see errors.__all__)
from .evaluation import evaluate
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

__version__ = "0.1.0"

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
