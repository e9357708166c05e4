"""scikit-image biharmonic inpainting frame by frame."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ._frames import fill_frames, frame_baseline_doc


def _biharmonic_frame(frame: np.ndarray, missing: np.ndarray) -> np.ndarray:
    from skimage.restoration import inpaint_biharmonic

    image = np.where(missing, 0.0, frame)
    return inpaint_biharmonic(image, missing)


@frame_baseline_doc
def biharmonic(obs: xr.DataArray, progress: bool = False) -> xr.DataArray:
    """Fill each frame (and channel) by biharmonic inpainting (Damelin & Hoang 2018).

    Uses :func:`skimage.restoration.inpaint_biharmonic`: the gaps are the smoothest
    surface (zero bi-Laplacian) matching the observed pixels around them. Purely spatial;
    each connected gap is solved as its own sparse linear system, so large gaps (and large
    land areas, which are filled and then masked again by :func:`seainpaint.fill`) cost
    more.

    Parameters
    ----------
    obs : xarray.DataArray
        Field ``(time, y, x[, channel])`` with NaN where missing.
    """
    return fill_frames(obs, _biharmonic_frame, desc="biharmonic", progress=progress)
