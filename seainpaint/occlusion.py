"""Measurement (occlusion) processes, mask extraction and the operator F.

Each process is a seeded, time-correlated generator of boolean masks on the grid of a
field, ``True`` = observed (the paper's m = 1). Parameters are normalised to the frame
edge, as in the paper (§3.2): a width of 0.1 is a tenth of the frame. A parameter given as
a pair ``(low, high)`` is drawn uniformly per object (drop, bar) from that range.

The operator F(x, m) = x·m + c·(1−m) (paper eq. 1) is :func:`apply_measurement`; users see
NaN for occluded pixels (:func:`occlude`), the networks see ``c``.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import xarray as xr
from scipy import ndimage

from .conventions import append_history
from .errors import FieldError, OcclusionError, SeainpaintError
from .field import canonical, observed_mask
from .io.pycles import as_lwp

Range = float | tuple[float, float]


def _draw(rng: np.random.Generator, value: Range, size: int | None = None) -> np.ndarray:
    """Draw ``value`` (a constant or a ``(low, high)`` range) ``size`` times."""
    if isinstance(value, (tuple, list)):
        low, high = float(value[0]), float(value[1])
        return rng.uniform(low, high, size)
    return np.full(size if size is not None else (), float(value))


def _check_unit(name: str, value: Range, *, allow_zero: bool = False) -> Range:
    values = value if isinstance(value, (tuple, list)) else (value,)
    for v in values:
        ok = 0 <= v < 1 if allow_zero else 0 < v < 1
        if not ok:
            raise OcclusionError(
                f"{name}={value!r} must lie in ]0, 1[ (normalised to the frame edge)"
            )
    if isinstance(value, (tuple, list)):
        if len(value) != 2 or value[0] > value[1]:
            raise OcclusionError(f"{name}={value!r}: a range must be (low, high) with low <= high")
        return (float(value[0]), float(value[1]))
    return float(value)


class OcclusionProcess(ABC):
    """A stochastic measurement process generating observation masks.

    Subclasses implement :meth:`sample`. ``fill_value`` is the constant c written into
    occluded pixels by F; ``time_dependent`` says whether consecutive masks are
    correlated (the sequence discriminator then sees frame differences, paper §3.4).
    """

    fill_value: ClassVar[float] = 1.0
    time_dependent: ClassVar[bool] = True
    registry: ClassVar[dict[str, type[OcclusionProcess]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        OcclusionProcess.registry[cls.__name__] = cls

    @abstractmethod
    def sample(self, shape: tuple[int, int, int], rng: np.random.Generator) -> np.ndarray:
        """Draw one mask sequence.

        Parameters
        ----------
        shape : tuple of int
            ``(T, H, W)``: number of frames and frame size in pixels.
        rng : numpy.random.Generator
            Source of randomness.

        Returns
        -------
        numpy.ndarray
            Boolean array of shape ``(T, H, W)``, ``True`` = observed.
        """

    def masks(self, shape: tuple[int, int, int], seed: int | None = None) -> np.ndarray:
        """Seeded convenience wrapper around :meth:`sample`."""
        return self.sample(tuple(int(s) for s in shape), np.random.default_rng(seed))

    @abstractmethod
    def to_config(self) -> dict[str, Any]:
        """JSON-serialisable description (``{"name": ..., **parameters}``)."""

    def _attribute_config(self, name: str, *params: str) -> dict[str, Any]:
        """``{"name": name, param: self.param, ...}``: the :meth:`to_config` of a process
        that keeps each parameter in an attribute of the same name."""
        return {"name": name, **{param: getattr(self, param) for param in params}}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> OcclusionProcess:
        """Rebuild a process from :meth:`to_config` output."""
        config = dict(config)
        name = config.pop("name")
        if name not in cls.registry:
            raise OcclusionError(
                f"unknown occlusion process {name!r}; known: {sorted(cls.registry)}"
            )
        sub = cls.registry[name]
        return sub._from_params(config)

    @classmethod
    def _from_params(cls, params: dict[str, Any]) -> OcclusionProcess:
        fixed = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
        return cls(**fixed)

    def __repr__(self) -> str:
        params = {k: v for k, v in self.to_config().items() if k != "name"}
        inner = ", ".join(f"{k}={v!r}" for k, v in params.items())
        return f"{type(self).__name__}({inner})"


class RemovePixel(OcclusionProcess):
    """Remove a proportion ``p`` of pixels, independently in every frame (c = 0).

    Parameters
    ----------
    p : float
        Proportion of pixels masked per frame, in ]0, 1[.
    """

    fill_value: ClassVar[float] = 0.0
    time_dependent: ClassVar[bool] = False

    def __init__(self, p: float = 0.5) -> None:
        self.p = float(_check_unit("p", p))

    def sample(self, shape: tuple[int, int, int], rng: np.random.Generator) -> np.ndarray:
        return rng.random(shape) >= self.p

    def to_config(self) -> dict[str, Any]:
        return self._attribute_config("RemovePixel", "p")


class Raindrops(OcclusionProcess):
    """Vertical bars ("raindrops") falling at random speeds, wrapping to the top (c = 1).

    Parameters
    ----------
    n : int
        Number of drops.
    width : float
        Drop width, normalised to the frame edge.
    length : float or (float, float)
        Drop length (constant or range drawn per drop).
    speed : float or (float, float)
        Falling speed in frame edges per frame (constant or range drawn per drop).
    """

    def __init__(
        self,
        n: int = 10,
        width: float = 0.03,
        length: Range = (0.1, 0.4),
        speed: Range = (0.02, 0.1),
    ) -> None:
        if int(n) < 1:
            raise OcclusionError(f"n={n!r}: at least one raindrop is needed")
        self.n = int(n)
        self.width = float(_check_unit("width", width))
        self.length = _check_unit("length", length)
        self.speed = _check_unit("speed", speed)

    def sample(self, shape: tuple[int, int, int], rng: np.random.Generator) -> np.ndarray:
        t_len, h, w = shape
        x0 = rng.uniform(0.0, 1.0 - self.width, self.n)
        y0 = rng.uniform(0.0, 1.0, self.n)
        lengths = _draw(rng, self.length, self.n)
        speeds = _draw(rng, self.speed, self.n)
        rows = (np.arange(h) + 0.5) / h
        cols = (np.arange(w) + 0.5) / w
        occluded = np.zeros(shape, dtype=bool)
        times = np.arange(t_len)
        for x, y, length, speed in zip(x0, y0, lengths, speeds, strict=True):
            col_in = (cols >= x) & (cols < x + max(self.width, 1.0 / w))
            # the drop's top edge travels over [-length, 1) and then wraps to the top
            top = (y + speed * times) % (1.0 + length) - length
            row_in = (rows[None, :] >= top[:, None]) & (rows[None, :] < top[:, None] + length)
            occluded |= row_in[:, :, None] & col_in[None, None, :]
        return ~occluded

    def to_config(self) -> dict[str, Any]:
        return self._attribute_config("Raindrops", "n", "width", "length", "speed")


class MovingVerticalBar(OcclusionProcess):
    """A vertical bar crossing the frames at constant speed, wrapping around (c = 1).

    Parameters
    ----------
    width : float or (float, float)
        Bar width, normalised to the frame edge.
    speed : float or (float, float)
        Horizontal speed in frame edges per frame; the direction is drawn at random.
    """

    def __init__(self, width: Range = 0.2, speed: Range = (0.02, 0.1)) -> None:
        self.width = _check_unit("width", width)
        self.speed = _check_unit("speed", speed, allow_zero=True)

    def sample(self, shape: tuple[int, int, int], rng: np.random.Generator) -> np.ndarray:
        t_len, h, w = shape
        width = float(_draw(rng, self.width))
        speed = float(_draw(rng, self.speed)) * rng.choice([-1.0, 1.0])
        start = rng.uniform(0.0, 1.0)
        cols = (np.arange(w) + 0.5) / w
        left = (start + speed * np.arange(t_len)) % 1.0
        offset = (cols[None, :] - left[:, None]) % 1.0
        occluded_cols = offset < max(width, 1.0 / w)
        return np.broadcast_to(~occluded_cols[:, None, :], shape).copy()

    def to_config(self) -> dict[str, Any]:
        return self._attribute_config("MovingVerticalBar", "width", "speed")


class Cloud(OcclusionProcess):
    """Cloud masks from a liquid water path (LWP) sequence (c = 1).

    Pixels whose LWP exceeds ``threshold`` (g m-2) are cloudy. For each mask sequence a
    random window of the LWP sequence is taken: a random run of frames (played back and
    forth when the LWP sequence is shorter than asked), a random spatial crop (tiled
    periodically, as LES domains are periodic), random flips and transposition, regridded
    to the target grid by nearest neighbour (so the cloud cover is kept).

    Parameters
    ----------
    lwp : xarray.DataArray or path
        LWP in g m-2, dims ``(time, y, x)``, or a Zarr/NetCDF store holding ``lwp``.
    threshold : float, optional
        LWP threshold in g m-2 above which a pixel is cloudy.
    cover : float, optional
        Target mean cloud cover in ]0, 1[; the threshold is then the LWP quantile
        ``1 - cover``. Give exactly one of ``threshold`` and ``cover``.
    crop : (float, float)
        Range of the crop size as a fraction of the LWP domain edge.
    time_stride : int
        Take every ``time_stride``-th LWP frame (to match the field's time step).
    """

    def __init__(
        self,
        lwp: xr.DataArray | str | Path,
        threshold: float | None = None,
        *,
        cover: float | None = None,
        crop: tuple[float, float] = (0.5, 1.0),
        time_stride: int = 1,
    ) -> None:
        data, self.source = as_lwp(lwp)
        if (threshold is None) == (cover is None):
            raise OcclusionError("give exactly one of threshold (g m-2) or cover (fraction)")
        values = np.asarray(data.transpose("time", ...).values, dtype=np.float32)
        if not np.isfinite(values).any():
            raise FieldError("LWP is all NaN")
        self.values = np.nan_to_num(values, nan=0.0)[:: int(time_stride)]
        self.time_stride = int(time_stride)
        self.crop = (float(crop[0]), float(crop[1]))
        if not 0 < self.crop[0] <= self.crop[1] <= 1:
            raise OcclusionError(f"crop={crop!r} must satisfy 0 < low <= high <= 1")
        if cover is not None:
            cover = float(_check_unit("cover", cover))
            threshold = float(np.quantile(self.values, 1.0 - cover))
        self.cover = cover
        self.threshold = float(threshold)

    @property
    def mean_cover(self) -> float:
        """Fraction of LWP pixels above the threshold over the whole LWP sequence."""
        return float((self.values > self.threshold).mean())

    def sample(self, shape: tuple[int, int, int], rng: np.random.Generator) -> np.ndarray:
        t_len, h, w = shape
        n_lwp, ly, lx = self.values.shape
        # frames: a random run; ping-pong when the LWP sequence is too short
        if n_lwp >= t_len:
            start = int(rng.integers(0, n_lwp - t_len + 1))
            frames = np.arange(start, start + t_len)
        else:
            period = max(2 * n_lwp - 2, 1)
            idx = (int(rng.integers(0, period)) + np.arange(t_len)) % period
            frames = np.where(idx < n_lwp, idx, period - idx)
        # space: crop of the aspect of the target grid, periodic tiling
        frac = rng.uniform(*self.crop)
        transpose = bool(rng.integers(0, 2)) and ly == lx
        edge = frac * min(ly, lx)
        if h >= w:
            size_y, size_x = edge, edge * w / h
        else:
            size_y, size_x = edge * h / w, edge
        y0, x0 = rng.uniform(0, ly), rng.uniform(0, lx)
        yy = y0 + (np.arange(h) + 0.5) * size_y / h - 0.5
        xx = x0 + (np.arange(w) + 0.5) * size_x / w - 0.5
        grid_y, grid_x = np.meshgrid(yy, xx, indexing="ij")
        cloudy = np.empty(shape, dtype=bool)
        for i, f in enumerate(frames):
            frame = self.values[f].T if transpose else self.values[f]
            # threshold first, then regrid the cloud indicator by nearest neighbour:
            # interpolating LWP (or the indicator) would erode small clouds and so lower
            # the cloud cover
            indicator = (frame > self.threshold).astype(np.float32)
            regridded = ndimage.map_coordinates(
                indicator, [grid_y, grid_x], order=0, mode="grid-wrap"
            )
            cloudy[i] = regridded >= 0.5
        if rng.integers(0, 2):
            cloudy = cloudy[:, ::-1, :]
        if rng.integers(0, 2):
            cloudy = cloudy[:, :, ::-1]
        return ~np.ascontiguousarray(cloudy)

    def to_config(self) -> dict[str, Any]:
        return self._attribute_config(
            "Cloud", "threshold", "cover", "crop", "time_stride", "source"
        )

    @classmethod
    def _from_params(cls, params: dict[str, Any]) -> Cloud:
        source = params.get("source")
        if not source:
            raise OcclusionError(
                "this Cloud process was built from an in-memory LWP array; pass the LWP "
                "again: Cloud(lwp, threshold=...)"
            )
        return cls(
            source,
            threshold=params["threshold"],
            crop=tuple(params.get("crop", (0.5, 1.0))),
            time_stride=params.get("time_stride", 1),
        )


def process_from_json(text: str) -> OcclusionProcess:
    """Rebuild a process from a JSON string made with ``json.dumps(p.to_config())``."""
    return OcclusionProcess.from_config(json.loads(text))


def apply_measurement(x: Any, m: Any, c: float) -> Any:
    """The measurement operator F(x, m) = x·m + c·(1−m) (paper eq. 1).

    Works on numpy arrays and torch tensors alike. A boolean ``m`` selects: ``x`` where
    ``m``, else ``c`` — so a missing value (NaN) under ``m = False`` becomes ``c``, as the
    networks must see it. A 0/1 float ``m`` is applied as the product above (the form
    gradients flow through, for ``x`` finite everywhere).
    """
    if hasattr(m, "dtype") and str(m.dtype) == "torch.bool":
        import torch  # only reached with a tensor: torch is loaded already

        return torch.where(m, x, c)
    if hasattr(m, "dtype") and str(m.dtype) == "bool":
        return np.where(m, x, c)
    return x * m + c * (1 - m)


def occlude(
    da: xr.DataArray,
    process: OcclusionProcess,
    seed: int | None = None,
) -> xr.DataArray:
    """Hide pixels of a field with masks drawn from ``process``.

    Occluded pixels become NaN; land stays NaN; coordinates and attributes are kept.
    The process is recorded in the ``seainpaint_occlusion`` attribute (JSON) and the
    ``history`` attribute is appended to.

    Parameters
    ----------
    da : xarray.DataArray
        Field ``(time, y, x[, channel])``.
    process : OcclusionProcess
        The measurement process.
    seed : int, optional
        Seed of the mask draw.

    Returns
    -------
    xarray.DataArray
        The observation, same dims, coords and attributes as ``da``.
    """
    if not isinstance(process, OcclusionProcess):
        raise OcclusionError(f"process must be an OcclusionProcess, got {type(process).__name__}")
    tyx, dims = canonical(da)
    shape = tuple(tyx.sizes[d] for d in (dims.time, dims.y, dims.x))
    mask = np.asarray(process.masks(shape, seed=seed))
    if mask.shape != shape or mask.dtype != bool:
        raise OcclusionError(
            f"{type(process).__name__}.sample returned a {mask.dtype} mask of shape "
            f"{mask.shape}; a boolean mask of shape {shape} (time, y, x) is needed"
        )
    mask_da = xr.DataArray(mask, dims=(dims.time, dims.y, dims.x))
    out = da.where(mask_da)
    out.attrs = dict(da.attrs)
    out.attrs["seainpaint_occlusion"] = json.dumps(process.to_config())
    out.attrs["history"] = append_history(
        da.attrs.get("history"), f"occluded with {process!r} (seed={seed})"
    )
    out.name = da.name
    return out


class FieldClouds(OcclusionProcess):
    """Mask sequences drawn from a field's own missing-data pattern (c = 1).

    Real satellite data never record the process that hid them, but they carry many
    examples of it: their own gaps. Each draw takes a random run of frames of the
    source field's mask (missing sea pixels = cloud; land and pixels outside the
    source count as observed), at a random place, shifted periodically at random, with
    random flips and — where the frame is square — transposition. This is how DINCAE
    (Barth et al., 2020) and Asperti et al. (2024) train on satellite data without truth,
    and it is the measurement process :func:`seainpaint.train` uses when the field
    records none.

    Parameters
    ----------
    source : xarray.DataArray
        A field ``(time, y, x[, channel])`` (NaN = missing; dask-backed is fine) or a
        boolean observed mask ``(time, y, x)`` (True = observed). Only its mask is kept,
        in memory, as bits.
    land : xarray.DataArray or numpy.ndarray, optional
        Boolean ``(y, x)`` land mask of the source (default: its never-observed pixels).
    shift, flip : bool
        Random periodic shifts; random flips and transposition.
    """

    time_dependent: ClassVar[bool] = True

    def __init__(
        self,
        source: xr.DataArray,
        land: xr.DataArray | np.ndarray | None = None,
        *,
        shift: bool = True,
        flip: bool = True,
    ) -> None:
        if not isinstance(source, xr.DataArray):
            raise FieldError(
                f"FieldClouds needs a field or a mask DataArray, got {type(source).__name__}"
            )
        if source.dtype == bool:
            if source.ndim != 3 or "time" not in source.dims:
                raise FieldError(f"a mask source must have dims (time, y, x); got {source.dims}")
            observed = np.asarray(source.transpose("time", ...).values)
        else:
            tyx, _ = canonical(source)
            observed = np.asarray(observed_mask(tyx).values)
        if land is None:
            land_arr = ~observed.any(axis=0)
        else:
            land_arr = np.asarray(land.values if isinstance(land, xr.DataArray) else land)
            if land_arr.shape != observed.shape[1:]:
                raise FieldError(
                    f"land mask shape {land_arr.shape} does not match the source grid "
                    f"{observed.shape[1:]}"
                )
        cloud = ~observed & ~land_arr.astype(bool)
        self.shape = cloud.shape
        self._bits = np.packbits(cloud, axis=-1)
        self.shift = bool(shift)
        self.flip = bool(flip)
        sea = int((~land_arr).sum()) * cloud.shape[0]
        self.cover = float(cloud.sum() / sea) if sea else 0.0

    def cloud_window(self, t0: int, length: int) -> np.ndarray:
        """Cloud mask of ``length`` frames of the source from ``t0`` (played back and forth
        when the source is shorter)."""
        n = self.shape[0]
        if n >= length:
            frames = np.arange(t0, t0 + length)
        else:
            period = max(2 * n - 2, 1)
            idx = (t0 + np.arange(length)) % period
            frames = np.where(idx < n, idx, period - idx)
        return np.unpackbits(self._bits[frames], axis=-1, count=self.shape[-1]).astype(bool)

    def sample(self, shape: tuple[int, int, int], rng: np.random.Generator) -> np.ndarray:
        t_len, h, w = shape
        n, sy, sx = self.shape
        t0 = int(rng.integers(0, max(n - t_len, 0) + 1))
        cloud = self.cloud_window(t0, t_len)
        transpose = self.flip and sy == sx and bool(rng.integers(0, 2))
        if transpose:
            cloud = cloud.transpose(0, 2, 1)
        if self.flip:
            if rng.integers(0, 2):
                cloud = cloud[:, ::-1]
            if rng.integers(0, 2):
                cloud = cloud[:, :, ::-1]
        if self.shift:
            cloud = np.roll(cloud, (int(rng.integers(0, sy)), int(rng.integers(0, sx))), (1, 2))
        # a target larger than the source sees it tiled periodically; a smaller one a crop
        reps = (1, -(-h // cloud.shape[1]), -(-w // cloud.shape[2]))
        if reps != (1, 1, 1):
            cloud = np.tile(cloud, reps)
        y0 = int(rng.integers(0, cloud.shape[1] - h + 1))
        x0 = int(rng.integers(0, cloud.shape[2] - w + 1))
        return ~np.ascontiguousarray(cloud[:, y0 : y0 + h, x0 : x0 + w])

    def to_config(self) -> dict[str, Any]:
        return {
            "name": "FieldClouds",
            "shift": self.shift,
            "flip": self.flip,
            "cover": round(self.cover, 6),
            "source_shape": list(self.shape),
        }

    @classmethod
    def _from_params(cls, params: dict[str, Any]) -> FieldClouds:
        raise SeainpaintError(
            "a FieldClouds process is rebuilt from its source field: "
            "FieldClouds(field) (seainpaint.train does this from the field it trains on)"
        )
