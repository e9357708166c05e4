"""How far each hidden pixel lies from an observation: in time, and in space.

Where a fill errs depends on how far it had to reach. :func:`frames_to_observation`
counts, per pixel, the frames to the nearest frame where that pixel is observed (1: the
pixel was seen in the frame before or after); :func:`pixels_to_observation` measures,
per frame, the Euclidean distance in pixels to the nearest observed pixel of the same
frame (1: next to the cloud's edge). :func:`seainpaint.evaluate_by_distance` bins the
errors by either.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["frames_to_observation", "pixels_to_observation"]


def frames_to_observation(observed: np.ndarray) -> np.ndarray:
    """Frames from each pixel to the nearest frame where it is observed.

    Parameters
    ----------
    observed : numpy.ndarray of bool, ``(time, y, x)``
        True where observed.

    Returns
    -------
    numpy.ndarray of float64, ``(time, y, x)``
        0 where observed; ``k`` where the nearest observation of that pixel, before or
        after, is ``k`` frames away; ``inf`` for a pixel never observed in the record.
    """
    observed = np.asarray(observed, dtype=bool)
    index = np.arange(observed.shape[0], dtype=np.float64).reshape(-1, 1, 1)
    previous = np.maximum.accumulate(np.where(observed, index, -np.inf), axis=0)
    following = np.minimum.accumulate(np.where(observed, index, np.inf)[::-1], axis=0)[::-1]
    return np.minimum(index - previous, following - index)


def pixels_to_observation(observed: np.ndarray) -> np.ndarray:
    """Distance (pixels) from each pixel to the nearest observed pixel of its frame.

    Parameters
    ----------
    observed : numpy.ndarray of bool, ``(time, y, x)``
        True where observed.

    Returns
    -------
    numpy.ndarray of float64, ``(time, y, x)``
        0 where observed; the Euclidean distance in grid steps to the nearest observed
        pixel of the same frame otherwise (land, never observed, counts as missing);
        ``inf`` in a frame with no observed pixel.
    """
    observed = np.asarray(observed, dtype=bool)
    out = np.full(observed.shape, np.inf)
    for t, frame in enumerate(observed):
        if frame.any():
            out[t] = ndimage.distance_transform_edt(~frame)
    return out
