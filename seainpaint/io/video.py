"""Natural videos in and out of the seainpaint array model.

:func:`open_video` decodes a video file (mp4, avi, mov, gif, ... anything the ffmpeg binary
shipped by ``imageio-ffmpeg`` reads) into a ``(time, y, x, channel)`` float32 DataArray in
[0, 1], so the occlusion processes, the fillers and the metrics work on videos as on SST.
:func:`to_video` writes such an array (or any field, scaled to grey levels) back to mp4 or
gif, atomically.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import DataSourceError, FieldError, OutputExistsError
from ._zarr import remove, temp_sibling

__all__ = ["VideoError", "open_video", "to_video"]


class VideoError(DataSourceError):
    """A video file cannot be read or written."""


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


def _frames(
    path: Path, out_hw: tuple[int, int] | None, src_hw: tuple[int, int]
) -> Iterator[np.ndarray]:
    import imageio_ffmpeg

    output_params = None
    if out_hw is not None and out_hw != src_hw:
        output_params = ["-vf", f"scale={out_hw[1]}:{out_hw[0]}:flags=area"]
    h, w = out_hw or src_hw
    gen = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24", output_params=output_params)
    try:
        log = logging.getLogger("imageio_ffmpeg")
        level = log.level
        log.setLevel(logging.ERROR)  # "frame size for reading ... is different": as asked
        try:
            next(gen)  # metadata
        finally:
            log.setLevel(level)
        for raw in gen:
            yield np.frombuffer(raw, dtype=np.uint8).reshape(h, w, 3)
    finally:
        gen.close()


def _meta(path: Path) -> dict[str, Any]:
    import imageio_ffmpeg

    try:
        gen = imageio_ffmpeg.read_frames(str(path))
        try:
            meta = next(gen)
        finally:
            gen.close()
    except (OSError, RuntimeError, StopIteration, ValueError) as err:
        first = str(err).strip().splitlines()
        raise VideoError(
            f"cannot read video {path}: {first[-1] if first else type(err).__name__}"
        ) from None
    if not meta.get("size") or not meta.get("fps"):
        raise VideoError(f"cannot read video {path}: no video stream found")
    return meta


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
    stack = []
    try:
        for i, frame in enumerate(_frames(path, out_hw, src_hw)):
            if i < start:
                continue
            stack.append(frame)
            if frames is not None and len(stack) >= int(frames):
                break
    except (OSError, RuntimeError, ValueError) as err:
        raise VideoError(f"cannot decode video {path}: {err}") from None
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
        if fps <= 0:
            raise VideoError(f"fps={fps!r} must be positive")
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
        Output file; the suffix picks the format (``.mp4`` H.264, or ``.gif``).
    fps : float, optional
        Frames per second; default: the ``fps`` attribute, else from the time step in
        seconds, else 10.
    overwrite : bool
        Replace an existing file.
    vmin, vmax : float, optional
        Value range mapped to black..white.
    nan_color : float
        Grey level in [0, 1] drawn for missing (NaN) pixels.
    quality : float
        mp4 quality, 0..10.

    Returns
    -------
    Path
        The written file.
    """
    path = Path(path).expanduser()
    suffix = path.suffix.lower()
    if suffix not in (".mp4", ".gif"):
        raise VideoError(f"{path}: choose a .mp4 or .gif file name")
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} exists; pass overwrite=True to replace it")
    frames = _to_uint8(da, vmin, vmax, float(nan_color))
    rate = _fps(da, fps)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(path).with_suffix(suffix)
    try:
        if suffix == ".gif":
            import imageio.v3 as iio

            iio.imwrite(tmp, frames, extension=".gif", duration=1000.0 / rate, loop=0)
        else:
            _write_mp4(frames, tmp, rate, quality)
        os.replace(tmp, path)
    except (OSError, RuntimeError, ValueError) as err:
        raise VideoError(f"cannot write video {path}: {err}") from None
    finally:
        if tmp.exists():
            remove(tmp)
    return path


def _write_mp4(frames: np.ndarray, path: Path, fps: float, quality: float) -> None:
    import imageio_ffmpeg

    t, h, w, _ = frames.shape
    # yuv420p needs even sizes: pad by repeating the last row / column
    ph, pw = h % 2, w % 2
    if ph or pw:
        frames = np.pad(frames, ((0, 0), (0, ph), (0, pw), (0, 0)), mode="edge")
        h, w = h + ph, w + pw
    writer = imageio_ffmpeg.write_frames(
        str(path),
        (w, h),
        fps=fps,
        quality=quality,
        codec="libx264",
        macro_block_size=1,
        output_params=["-f", "mp4"],
    )
    writer.send(None)
    for frame in frames:
        writer.send(np.ascontiguousarray(frame))
    writer.close()
