"""Natural videos in and out of the seainpaint array model, through ``imageio.v3``.

:func:`open_video` decodes a video file (mp4, avi, mov, gif, ... anything the ffmpeg binary
shipped by ``imageio-ffmpeg`` reads) into a ``(time, y, x, channel)`` float32 DataArray in
[0, 1], so the occlusion processes, the fillers and the metrics work on videos as on SST.
:func:`to_video` writes such an array (or any field, scaled to grey levels) back to mp4 or
gif; :func:`write_frames` is the one writer of video files (also behind
:func:`seainpaint.plot.animate`), atomic.

A file that ends before all its frames (a truncated download or copy) is read as far as
it goes, with a :class:`~seainpaint.errors.TruncatedVideoWarning` naming the file and the
frames read against those its header announces; turn it into an error with
``warnings.simplefilter("error", seainpaint.errors.TruncatedVideoWarning)``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import FieldError, SeainpaintError, TruncatedVideoWarning, VideoError
from .atomic import atomic_write

__all__ = ["VideoError", "open_video", "to_video", "write_frames"]

#: ffmpeg reads any container by its content; this extension only makes imageio's FFMPEG
#: plugin accept files whose suffix it does not list (.gif, a temporary name, ...)
_FFMPEG = {"plugin": "FFMPEG", "extension": ".mp4"}
FORMATS = (".mp4", ".gif")
PathLike = str | os.PathLike[str]


def _size(size: int | tuple[int, int] | None, src: tuple[int, int]) -> tuple[int, int]:
    """Output ``(height, width)`` from ``size`` (an edge, or (height, width))."""
    if size is None:
        return src
    if isinstance(size, (int, np.integer)):
        h = w = int(size)
    else:
        try:
            h, w = (int(s) for s in size)
        except (TypeError, ValueError):
            raise VideoError(f"size={size!r}: give an int or (height, width)") from None
    if h < 1 or w < 1:
        raise VideoError(f"size={size!r} must be positive")
    return h, w


@contextlib.contextmanager
def _quiet_ffmpeg() -> Iterator[None]:
    """Silence imageio-ffmpeg's "frame size for reading ... is different": as asked."""
    log = logging.getLogger("imageio_ffmpeg")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _first_line(err: BaseException) -> str:
    lines = [line for line in str(err).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(err).__name__


def _meta(path: Path) -> dict[str, Any]:
    import imageio.v3 as iio

    try:
        meta = iio.immeta(path, **_FFMPEG)
    except (OSError, RuntimeError, StopIteration, ValueError) as err:
        raise VideoError(f"cannot read video {path}: {_first_line(err)}") from None
    if not meta.get("size") or not meta.get("fps"):
        raise VideoError(f"cannot read video {path}: no video stream found")
    return meta


def _read(
    path: Path, out_hw: tuple[int, int], src_hw: tuple[int, int], start: int, frames: int | None
) -> tuple[list[np.ndarray], int | None]:
    """Frames ``start..start+frames`` as uint8 RGB, and the number of frames in the file.

    The number is None when the read stopped before the end (``frames`` were read).
    """
    import imageio.v3 as iio

    options: dict[str, Any] = {}
    if out_hw != src_hw:
        options["output_params"] = ["-vf", f"scale={out_hw[1]}:{out_hw[0]}:flags=area"]
    stack: list[np.ndarray] = []
    decoded = 0
    try:
        with _quiet_ffmpeg(), iio.imopen(path, "r", **_FFMPEG) as file:
            for decoded, frame in enumerate(file.iter(**options), start=1):
                if decoded > start:
                    stack.append(np.asarray(frame)[..., :3])
                    if frames is not None and len(stack) >= frames:
                        return stack, None
    except (OSError, RuntimeError, ValueError) as err:
        raise VideoError(f"cannot decode video {path}: {_first_line(err)}") from None
    return stack, decoded


def _check_complete(path: Path, meta: dict[str, Any], n_read: int) -> None:
    """Warn when a file read to its end gave fewer frames than it should have."""
    fps, duration = float(meta["fps"]), float(meta.get("duration") or 0.0)
    expected = int(round(duration * fps))
    # duration × fps is an estimate (rounding, the last frame's length, variable frame rate)
    if expected and n_read < expected - max(1, expected // 100):
        warnings.warn(
            f"{path}: only {n_read} of the {expected} frames its header announces "
            f"({duration:g} s at {fps:g} fps) could be decoded; the file is truncated or "
            "damaged, and the frames read are returned",
            TruncatedVideoWarning,
            stacklevel=3,
        )
        return
    with open(path, "rb") as file:
        is_gif = file.read(4) == b"GIF8"
        file.seek(-1, os.SEEK_END)
        complete = file.read(1) == b";"  # the GIF trailer
    if is_gif and not complete:
        warnings.warn(
            f"{path}: the GIF ends without its trailer, so it is truncated; {n_read} frames "
            "could be decoded (a GIF does not record how many it should have), and are "
            "returned",
            TruncatedVideoWarning,
            stacklevel=3,
        )


def open_video(
    path: str | os.PathLike[str],
    size: int | tuple[int, int] | None = None,
    frames: int | None = None,
    start: int = 0,
) -> xr.DataArray:
    """Read a video as a ``(time, y, x, channel)`` float32 DataArray in [0, 1].

    Parameters
    ----------
    path : str or Path
        Video file (any format the bundled ffmpeg reads: mp4, avi, mov, webm, gif, ...).
    size : int or (int, int), optional
        Resize every frame to ``size x size`` or ``(height, width)`` pixels (area
        averaging, aspect not kept); default: the native size.
    frames : int, optional
        Read at most this many frames (from ``start``); default: all.
    start : int
        Index of the first frame kept.

    Returns
    -------
    xarray.DataArray
        ``video`` with dims ``(time, y, x, channel)``, channel ``R, G, B``; ``time`` in
        seconds from the first kept frame (``1 / fps`` apart); ``fps`` and the source in the
        attributes.

    Raises
    ------
    VideoError
        Missing or unreadable file, no video stream, or no frame in the asked range.

    Warns
    -----
    TruncatedVideoWarning
        The file ends before the frames its header announces (or, for a GIF, before its
        trailer): the frames that could be decoded are returned.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise VideoError(f"video file {path} does not exist")
    if frames is not None and int(frames) < 1:
        raise VideoError(f"frames={frames!r} must be at least 1")
    meta = _meta(path)
    src_hw = (int(meta["size"][1]), int(meta["size"][0]))
    out_hw = _size(size, src_hw)
    fps = float(meta["fps"])
    stack, n_file = _read(path, out_hw, src_hw, int(start), None if frames is None else int(frames))
    if n_file is not None:
        _check_complete(path, meta, n_file)
    if not stack:
        raise VideoError(f"video {path} has no frame from index {start}")
    data = np.stack(stack).astype(np.float32) / np.float32(255.0)
    n = data.shape[0]
    return xr.DataArray(
        data,
        dims=("time", "y", "x", "channel"),
        coords={
            "time": (
                "time",
                np.arange(n) / fps,
                {"units": "s", "long_name": "time from the first frame"},
            ),
            "y": ("y", np.arange(out_hw[0]), {"long_name": "pixel row"}),
            "x": ("x", np.arange(out_hw[1]), {"long_name": "pixel column"}),
            "channel": ("channel", ["R", "G", "B"]),
        },
        name="video",
        attrs={
            "long_name": "video frames",
            "units": "1",
            "valid_min": 0.0,
            "valid_max": 1.0,
            "fps": fps,
            "source": str(path),
            "source_size": f"{src_hw[0]}x{src_hw[1]}",
            "first_frame": int(start),
            "codec": str(meta.get("codec", "")),
        },
    )


def _fps(da: xr.DataArray, fps: float | None) -> float:
    if fps is not None:
        return float(fps)
    if "fps" in da.attrs:
        return float(da.attrs["fps"])
    t = da["time"].values if "time" in da.coords else None
    if t is not None and t.size > 1:
        step = np.diff(t)
        if np.issubdtype(step.dtype, np.timedelta64):
            step = step / np.timedelta64(1, "s")
        if np.issubdtype(np.asarray(step).dtype, np.number) and np.all(step > 0):
            return float(1.0 / np.median(step))
    return 10.0


def _to_uint8(
    da: xr.DataArray, vmin: float | None, vmax: float | None, nan_color: float
) -> np.ndarray:
    if "time" not in da.dims:
        raise FieldError(f"a video needs a 'time' dimension; got {da.dims}")
    others = [d for d in da.dims if d not in ("time", "channel")]
    if len(others) != 2:
        raise FieldError(f"a video needs two spatial dims besides time/channel; got {da.dims}")
    order = ["time", *others] + (["channel"] if "channel" in da.dims else [])
    arr = np.asarray(da.transpose(*order).values, dtype=np.float64)
    if arr.ndim == 3:
        arr = np.repeat(arr[..., None], 3, axis=-1)
    elif arr.shape[-1] == 1:
        arr = np.repeat(arr, 3, axis=-1)
    elif arr.shape[-1] != 3:
        raise FieldError(f"a video needs 1 or 3 channels; got {arr.shape[-1]}")
    finite = np.isfinite(arr)
    if vmin is None or vmax is None:
        lo, hi = (
            (float(np.min(arr[finite])), float(np.max(arr[finite]))) if finite.any() else (0, 1)
        )
        in_unit = lo >= 0.0 and hi <= 1.0
        vmin = (0.0 if in_unit else lo) if vmin is None else vmin
        vmax = (1.0 if in_unit else hi) if vmax is None else vmax
    scale = (vmax - vmin) or 1.0
    out = (arr - vmin) / scale
    out = np.where(finite, out, nan_color)
    return np.round(np.clip(out, 0.0, 1.0) * 255.0).astype(np.uint8)


def write_frames(
    frames: np.ndarray, path: PathLike, fps: float, *, overwrite: bool = False, quality: float = 8
) -> Path:
    """Write RGB frames as an mp4 (H.264) or an animated gif, atomically.

    Parameters
    ----------
    frames : numpy.ndarray
        ``(time, height, width, 3)`` uint8 frames. For mp4, odd sizes are padded to even
        ones (which H.264 in yuv420p needs) by repeating the last row / column.
    path : str or Path
        Output file; the suffix picks the format (``.mp4`` or ``.gif``).
    fps : float
        Frames per second.
    overwrite : bool
        Replace an existing file.
    quality : float
        mp4 quality, 0..10.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    VideoError
        Another suffix, bad frames or fps, or the encoder failed (nothing is left behind).
    OutputExistsError
        ``path`` exists and ``overwrite`` is false.
    """
    import imageio.v3 as iio

    path = Path(path).expanduser()
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise VideoError(f"{path}: choose a .mp4 or .gif file name")
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or not len(frames):
        raise VideoError(
            f"{path}: frames must be a non-empty (time, height, width, 3) uint8 array, got "
            f"{frames.dtype} {frames.shape}"
        )
    if not fps > 0:
        raise VideoError(f"fps={fps!r} must be positive")

    def write(tmp: Path) -> None:
        if suffix == ".gif":
            iio.imwrite(tmp, frames, extension=".gif", duration=1000.0 / fps, loop=0)
            return
        h, w = frames.shape[1:3]
        even = np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        iio.imwrite(
            tmp,
            even,
            **_FFMPEG,
            fps=fps,
            quality=quality,
            codec="libx264",
            macro_block_size=1,
            output_params=["-f", "mp4"],
        )

    try:
        return atomic_write(path, write, overwrite=overwrite)
    except SeainpaintError:
        raise
    except (OSError, RuntimeError, ValueError) as err:
        raise VideoError(f"cannot write video {path}: {_first_line(err)}") from None


def to_video(
    da: xr.DataArray,
    path: str | os.PathLike[str],
    fps: float | None = None,
    *,
    overwrite: bool = False,
    vmin: float | None = None,
    vmax: float | None = None,
    nan_color: float = 0.0,
    quality: float = 8,
) -> Path:
    """Write a field as an mp4 or gif video, atomically.

    Parameters
    ----------
    da : xarray.DataArray
        ``(time, y, x, channel)`` with 3 (or 1) channels, or ``(time, y, x)`` shown in grey.
        Values in [0, 1] are written as they are; otherwise ``[vmin, vmax]`` (default: the
        data range) is mapped to [0, 1].
    path : str or Path
        Output file: ``.mp4`` (H.264) or ``.gif``.
    fps : float, optional
        Frames per second; default: the ``fps`` attribute, else from the time step in
        seconds, else 10.
    vmin, vmax : float, optional
        Value range mapped to black..white.
    nan_color : float
        Grey level in [0, 1] drawn for missing (NaN) pixels.
    overwrite, quality
        As in :func:`write_frames`.

    Returns
    -------
    Path
        The written file.
    """
    path = Path(path).expanduser()
    if path.suffix.lower() not in FORMATS:
        raise VideoError(f"{path}: choose a .mp4 or .gif file name")
    frames = _to_uint8(da, vmin, vmax, float(nan_color))
    return write_frames(frames, path, _fps(da, fps), overwrite=overwrite, quality=quality)
