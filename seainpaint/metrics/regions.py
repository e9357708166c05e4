"""Which pixels a metric counts: occluded, observed or all sea pixels.

Pixels are chosen from the observation (``obs``, NaN = missing) or a boolean mask (``True``
= observed): **occluded** pixels are missing but not land, **observed** pixels are finite,
and **land** pixels (missing at every time step) never count.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import xarray as xr

from ..errors import FieldError, MaskError, SeainpaintError
from ..field import check_mask, field_dims, to_numpy_tyxc

Region = Literal["occluded", "observed", "all"]
MaskLike = xr.DataArray | np.ndarray

__all__ = ["Region", "occlusion_rate", "region_mask"]


def observed_and_land(
    template: xr.DataArray, obs: xr.DataArray | None, mask: MaskLike | None
) -> tuple[np.ndarray, np.ndarray]:
    """Observed ``(T, Y, X)`` and land ``(Y, X)`` boolean arrays on ``template``'s grid."""
    if (obs is None) == (mask is None):
        raise MaskError("give exactly one of obs (NaN = missing) or mask (True = observed)")
    dims = field_dims(template)
    if obs is not None:
        odims = field_dims(obs)
        values, _ = to_numpy_tyxc(obs)
        observed = np.isfinite(values).all(axis=-1)
        shape = tuple(template.sizes[d] for d in (dims.time, dims.y, dims.x))
        if observed.shape != shape:
            raise FieldError(
                f"obs grid {observed.shape} (dims {odims.canonical}) does not match the "
                f"field's {shape}"
            )
    else:
        observed = np.asarray(check_mask(template, mask).values)
    land = ~observed.any(axis=0)
    return observed, land


def land_of(
    template: xr.DataArray, obs: xr.DataArray | None, mask: MaskLike | None
) -> np.ndarray | None:
    """The land ``(Y, X)`` of ``obs``/``mask``, or None when neither is given."""
    if obs is None and mask is None:
        return None
    return observed_and_land(template, obs, mask)[1]


def paired(truth: xr.DataArray, filled: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    """Both fields as float64 ``(T, Y, X, C)`` arrays; refuses different shapes."""
    t, _ = to_numpy_tyxc(truth)
    f, _ = to_numpy_tyxc(filled)
    if t.shape != f.shape:
        raise FieldError(
            f"truth {t.shape} and filled {f.shape} differ in shape (canonical (T, Y, X, C))"
        )
    return t.astype(np.float64), f.astype(np.float64)


def region_mask(
    template: xr.DataArray,
    obs: xr.DataArray | None = None,
    *,
    mask: MaskLike | None = None,
    region: Region = "occluded",
) -> np.ndarray:
    """Boolean ``(T, Y, X)`` array selecting the pixels of a region.

    Parameters
    ----------
    template : xarray.DataArray
        A field on the grid (truth or filled), giving the dims.
    obs : xarray.DataArray, optional
        The observed field (NaN = missing). Give this or ``mask``.
    mask : xarray.DataArray or numpy.ndarray, optional
        Boolean ``(time, y, x)`` mask, ``True`` = observed.
    region : {"occluded", "observed", "all"}
        ``"occluded"``: missing but not land; ``"observed"``: observed; ``"all"``: not land.

    Returns
    -------
    numpy.ndarray
        Boolean array in canonical order ``(time, y, x)``.
    """
    observed, land = observed_and_land(template, obs, mask)
    if region == "occluded":
        return ~observed & ~land[None]
    if region == "observed":
        return observed
    if region == "all":
        return np.broadcast_to(~land[None], observed.shape).copy()
    raise SeainpaintError(f"unknown region {region!r}; use 'occluded', 'observed' or 'all'")


def occlusion_rate(obs: xr.DataArray | None = None, *, mask: MaskLike | None = None) -> float:
    """Fraction of non-land pixels that are occluded (0..1), over all frames.

    Parameters
    ----------
    obs : xarray.DataArray, optional
        The observed field (NaN = missing).
    mask : xarray.DataArray, optional
        Boolean ``(time, y, x)`` mask, ``True`` = observed (instead of ``obs``).

    Returns
    -------
    float
        Occluded fraction of the sea pixels (NaN when every pixel is land).
    """
    template = obs if obs is not None else mask
    if not isinstance(template, xr.DataArray):
        raise MaskError("occlusion_rate needs obs or a mask DataArray with dims")
    observed, land = observed_and_land(template, obs, mask)
    sea = np.broadcast_to(~land[None], observed.shape)
    n = int(sea.sum())
    return float((~observed & sea).sum() / n) if n else float("nan")
