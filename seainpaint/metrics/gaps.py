"""How far each hidden pixel lies from an observation: in time, or in space.

Where a fill errs depends on how far it had to reach. :func:`distance_to_observation`
measures it per pixel, in frames to the nearest frame where that pixel is observed (1: it
was seen in the frame before or after) or in pixels to the nearest observed pixel of the
same frame (1: next to the cloud's edge). :func:`seainpaint.evaluate_by_distance` bins
the errors by either.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..errors import SeainpaintError

__all__ = ["AXES", "distance_to_observation"]

AXES = ("time", "space")


def distance_to_observation(observed: np.ndarray, axis: str = "time") -> np.ndarray:
    """Distance from each pixel to the nearest observation, in time or in space.

    Parameters
    ----------
    observed : numpy.ndarray of bool, ``(time, y, x)``
        True where observed.
    axis : {"time", "space"}
        ``"time"``: frames to the nearest frame, before or after, where the same pixel is
        observed (``inf`` for a pixel never observed in the record). ``"space"``: the
        Euclidean distance in grid steps to the nearest observed pixel of the same frame
        (land, never observed, counts as missing; ``inf`` in a frame with no observed
        pixel).

    Returns
    -------
    numpy.ndarray of float64, ``(time, y, x)``
        0 where observed.

    Raises
    ------
    SeainpaintError
        Unknown axis.
    """
    observed = np.asarray(observed, dtype=bool)
    if axis == "time":
        index = np.arange(observed.shape[0], dtype=np.float64).reshape(-1, 1, 1)
        previous = np.maximum.accumulate(np.where(observed, index, -np.inf), axis=0)
        following = np.minimum.accumulate(np.where(observed, index, np.inf)[::-1], axis=0)
        return np.minimum(index - previous, following[::-1] - index)
    if axis != "space":
        raise SeainpaintError(f"axis={axis!r}; choose one of {AXES}")
    out = np.full(observed.shape, np.inf)
    for t, frame in enumerate(observed):
        if frame.any():
            out[t] = ndimage.distance_transform_edt(~frame)
    return out
