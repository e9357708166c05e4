"""One entry point for every filling method, enforcing the data model.

Whatever fills the gaps — a baseline named by a string or a trained model — the result
keeps every observed pixel bit-for-bit, keeps land NaN, keeps coordinates and attributes,
and gets a ``history`` line. Enforcement uses xarray operations, so it stays lazy on
dask-backed input.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
import xarray as xr

from .errors import MethodError
from .field import canonical, land_mask, observed_mask, validate_field
from .occlusion import _append_history

FLAG_OBSERVED, FLAG_FILLED, FLAG_LAND = 0, 1, 2
FLAG_NAME = "inpaint_flag"


@runtime_checkable
class FieldFiller(Protocol):
    """Anything that can fill a field: a trained model implements ``fill_field``."""

    def fill_field(self, da: xr.DataArray, **options: Any) -> xr.DataArray:
        """Return ``da`` with every pixel predicted (observed pixels may be changed)."""


def _baseline(name: str):
    from .baselines import BASELINES

    try:
        return BASELINES[name]
    except KeyError:
        raise MethodError(
            f"unknown filling method {name!r}; choose one of {sorted(BASELINES)} or pass a "
            "trained seainpaint model"
        ) from None


def flags(obs: xr.DataArray) -> xr.DataArray:
    """Per-pixel flag: 0 = observed, 1 = filled, 2 = land (dims ``(time, y, x)``)."""
    observed = observed_mask(obs)
    land = land_mask(obs)
    flag = xr.where(observed, FLAG_OBSERVED, FLAG_FILLED).astype(np.int8)
    flag = flag.where(~land, FLAG_LAND).astype(np.int8)
    flag.name = FLAG_NAME
    flag.attrs = {
        "long_name": "inpainting status flag",
        "flag_values": np.array([FLAG_OBSERVED, FLAG_FILLED, FLAG_LAND], dtype=np.int8),
        "flag_meanings": "observed filled land",
    }
    return flag


def fill(obs: xr.DataArray, method: str | FieldFiller = "dineof", **options: Any) -> xr.DataArray:
    """Fill the missing, non-land pixels of a field.

    Parameters
    ----------
    obs : xarray.DataArray
        Observed field ``(time, y, x[, channel])`` with NaN where missing.
    method : str or model
        A baseline name (``"dineof"``, ``"climatology"``, ``"linear"``, ...) or a trained
        model (anything with a ``fill_field`` method, e.g. :class:`seainpaint.InpaintModel`).
    **options
        Passed to the method.

    Returns
    -------
    xarray.DataArray
        The filled field: observed pixels bit-for-bit unchanged, land NaN, same dims,
        coordinates and attributes, ``history`` appended, and a non-index coordinate
        ``inpaint_flag`` (0 observed, 1 filled, 2 land) that :func:`seainpaint.to_netcdf`
        writes as a CF flag variable.
    """
    dims = validate_field(obs)
    if isinstance(method, str):
        filler = _baseline(method.lower())
        predicted = filler(obs, **options)
        label = method.lower()
    elif isinstance(method, FieldFiller):
        predicted = method.fill_field(obs, **options)
        label = getattr(method, "label", type(method).__name__)
    else:
        raise MethodError(
            f"method must be a baseline name or a trained model, got {type(method).__name__}"
        )
    predicted = predicted.transpose(*obs.dims)
    observed = observed_mask(obs)
    land = land_mask(obs)
    # observed pixels come straight from the input: bit-for-bit
    out = xr.where(observed, obs, predicted, keep_attrs=False)
    out = out.where(~land)
    out = out.astype(obs.dtype)
    # arithmetic drops coordinate attributes: put the caller's coordinates back
    out = out.assign_coords({name: obs.coords[name] for name in obs.coords})
    out.attrs = dict(obs.attrs)
    out.name = obs.name
    opts = ", ".join(f"{k}={v!r}" for k, v in options.items())
    out.attrs["history"] = _append_history(
        obs.attrs.get("history"), f"filled with {label}({opts})"
    )
    # assign the bare variable: its own coords (without attributes) must not replace ours
    out = out.assign_coords({FLAG_NAME: flags(obs).variable})
    # keep the caller's coordinate order and dims
    can, _ = canonical(out)
    return can.transpose(*obs.dims) if dims else out
