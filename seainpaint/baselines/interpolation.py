"""Simple baselines: climatological mean and linear interpolation in time."""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import ndimage

from ..field import canonical, validate_field


def _spatial_fallback(frame: np.ndarray) -> np.ndarray:
    """Fill the NaN of a 2-D frame with the value of the nearest finite pixel."""
    missing = ~np.isfinite(frame)
    if not missing.any() or missing.all():
        return frame
    idx = ndimage.distance_transform_edt(missing, return_distances=False, return_indices=True)
    return frame[tuple(idx)]


def climatology(obs: xr.DataArray) -> xr.DataArray:
    """Fill every pixel with its temporal mean over the observed time steps.

    Parameters
    ----------
    obs : xarray.DataArray
        Field ``(time, y, x[, channel])`` with NaN where missing.

    Returns
    -------
    xarray.DataArray
        The per-pixel mean broadcast over time (NaN where never observed).
    """
    dims = validate_field(obs)
    mean = obs.mean(dims.time, skipna=True)
    return mean.broadcast_like(obs).transpose(*obs.dims)


def linear_in_time(obs: xr.DataArray) -> xr.DataArray:
    """Interpolate each pixel linearly in time between its observations.

    Before the first and after the last observation of a pixel the nearest observation
    is held. A pixel observed in no frame of the sequence (but not land) — possible when a
    short window is filled — takes the nearest observed pixel of the same frame.

    Parameters
    ----------
    obs : xarray.DataArray
        Field ``(time, y, x[, channel])`` with NaN where missing.

    Returns
    -------
    xarray.DataArray
        Prediction for every pixel.
    """
    validate_field(obs)
    can, dims = canonical(obs)
    values = np.asarray(can.values, dtype=np.float64)
    t_len = values.shape[0]
    flat = values.reshape(t_len, -1)
    out = flat.copy()
    t = np.arange(t_len, dtype=np.float64)
    finite = np.isfinite(flat)
    counts = finite.sum(axis=0)
    for j in np.flatnonzero((counts > 0) & (counts < t_len)):
        ok = finite[:, j]
        out[:, j] = np.interp(t, t[ok], flat[ok, j])
    out = out.reshape(values.shape)
    if (counts == 0).any():
        extra = values.shape[3:] if values.ndim == 4 else ()
        for i in range(t_len):
            if extra:
                for c in range(extra[0]):
                    out[i, ..., c] = _spatial_fallback(out[i, ..., c])
            else:
                out[i] = _spatial_fallback(out[i])
    result = can.copy(data=out.astype(values.dtype))
    return result.transpose(*obs.dims)
