"""Baseline filling methods, all with one signature.

A baseline is a function ``method(obs: xarray.DataArray, **options) -> xarray.DataArray``
returning a prediction for every pixel of ``obs`` (same dims and coords). The data model
(observed pixels exact, land NaN, history) is enforced by :func:`seainpaint.fill`, which
looks baselines up by name in :data:`BASELINES`, and which completes the never-observed
sea pixels a method left empty with :func:`complete_frames`.
"""

from __future__ import annotations

from collections.abc import Callable

import xarray as xr

from ._frames import complete_frames
from .biharmonic import biharmonic
from .dineof import dineof
from .dip import deep_image_prior
from .interpolation import climatology, linear_in_time
from .opencv import navier_stokes, opencv_inpaint, telea

Baseline = Callable[..., xr.DataArray]

BASELINES: dict[str, Baseline] = {
    "dineof": dineof,
    "climatology": climatology,
    "linear": linear_in_time,
    "telea": telea,
    "navier_stokes": navier_stokes,
    "opencv": opencv_inpaint,
    "biharmonic": biharmonic,
    "dip": deep_image_prior,
}

__all__ = [
    "BASELINES",
    "Baseline",
    "biharmonic",
    "climatology",
    "complete_frames",
    "deep_image_prior",
    "dineof",
    "linear_in_time",
    "navier_stokes",
    "opencv_inpaint",
    "telea",
]
