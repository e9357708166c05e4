"""OpenCV inpainting frame by frame: Telea (2004) and Navier–Stokes (Bertalmio 2001)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import MethodError
from ._frames import fill_frames, frame_baseline_doc

ALGORITHMS = ("telea", "navier_stokes")


def _inpaint_frame(frame: np.ndarray, missing: np.ndarray, flag: int, radius: float) -> np.ndarray:
    import cv2

    valid = frame[~missing]
    lo, hi = float(valid.min()), float(valid.max())
    scale = hi - lo if hi > lo else 1.0
    # cv2.inpaint takes 8-bit or single-channel 32-bit float images: scale the frame to
    # [0, 255] in float32 (no 8-bit quantisation; Telea's float path misbehaves on a
    # [0, 1] range) and map the result back
    image = np.where(missing, 0.0, (frame - lo) * (255.0 / scale)).astype(np.float32)
    holes = missing.astype(np.uint8)
    filled = cv2.inpaint(image, holes, float(radius), flag)
    return filled.astype(np.float64) * (scale / 255.0) + lo


@frame_baseline_doc
def opencv_inpaint(
    obs: xr.DataArray,
    algorithm: str = "telea",
    radius: float = 3.0,
    progress: bool = False,
) -> xr.DataArray:
    """Fill each frame (and channel) with OpenCV's ``cv2.inpaint``.

    Purely spatial: each frame is filled from its own observed pixels. Each frame is
    scaled to [0, 255] (min/max of its observed pixels), inpainted as a 32-bit float
    single-channel image and mapped back, so there is no 8-bit quantisation; a 3-channel
    field is filled channel by channel.

    Parameters
    ----------
    obs : xarray.DataArray
        Field ``(time, y, x[, channel])`` with NaN where missing.
    algorithm : {"telea", "navier_stokes"}
        ``cv2.INPAINT_TELEA`` (fast marching, Telea 2004) or ``cv2.INPAINT_NS``.
    radius : float
        Neighbourhood radius in pixels.
    """
    import cv2

    flags = {"telea": cv2.INPAINT_TELEA, "navier_stokes": cv2.INPAINT_NS, "ns": cv2.INPAINT_NS}
    key = str(algorithm).lower()
    if key not in flags:
        raise MethodError(f"unknown OpenCV algorithm {algorithm!r}; choose one of {ALGORITHMS}")
    if radius <= 0:
        raise MethodError(f"radius must be positive, got {radius}")
    flag = flags[key]
    return fill_frames(
        obs,
        lambda frame, missing: _inpaint_frame(frame, missing, flag, radius),
        desc=f"opencv {key}",
        progress=progress,
    )


def telea(obs: xr.DataArray, radius: float = 3.0, progress: bool = False) -> xr.DataArray:
    """OpenCV Telea inpainting frame by frame (see :func:`opencv_inpaint`)."""
    return opencv_inpaint(obs, "telea", radius=radius, progress=progress)


def navier_stokes(obs: xr.DataArray, radius: float = 3.0, progress: bool = False) -> xr.DataArray:
    """OpenCV Navier–Stokes inpainting frame by frame (see :func:`opencv_inpaint`)."""
    return opencv_inpaint(obs, "navier_stokes", radius=radius, progress=progress)
