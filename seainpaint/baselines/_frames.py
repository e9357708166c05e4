"""Helpers for baselines that fill a field frame by frame (OpenCV, biharmonic)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import xarray as xr
from tqdm.auto import tqdm

from ..field import canonical, validate_field

FrameFiller = Callable[[np.ndarray, np.ndarray], np.ndarray]


def fill_frames(
    obs: xr.DataArray, fill_frame: FrameFiller, *, desc: str, progress: bool = False
) -> xr.DataArray:
    """Apply ``fill_frame(frame, missing)`` to every 2-D frame and channel of ``obs``.

    ``frame`` is a float64 ``(Y, X)`` array with NaN where missing and ``missing`` the
    boolean mask of its NaN; ``fill_frame`` returns the frame with every pixel predicted.
    A frame with no observed pixel takes each pixel's temporal mean (and the field mean
    where a pixel is never observed), since a purely spatial method has nothing to use.

    Returns
    -------
    xarray.DataArray
        Prediction for every pixel, same dims and coords as ``obs``.
    """
    validate_field(obs)
    can, dims = canonical(obs)
    values = np.asarray(can.values, dtype=np.float64)
    if dims.channel is None:
        values = values[..., None]
    out = values.copy()
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(values)
        counts = finite.sum(axis=0)
        pixel_mean = np.where(counts > 0, np.nansum(values, axis=0) / np.maximum(counts, 1), 0)
    global_mean = float(np.nanmean(values)) if finite.any() else 0.0
    pixel_mean = np.where(counts > 0, pixel_mean, global_mean)
    n_time, _, _, n_chan = values.shape
    for t in tqdm(range(n_time), desc=desc, disable=not progress, leave=False):
        for c in range(n_chan):
            frame = values[t, :, :, c]
            missing = ~np.isfinite(frame)
            if not missing.any():
                continue
            if missing.all():
                out[t, :, :, c] = pixel_mean[:, :, c]
                continue
            out[t, :, :, c] = fill_frame(frame, missing)
    if dims.channel is None:
        out = out[..., 0]
    result = can.copy(data=out.astype(can.dtype))
    return result.transpose(*obs.dims)
