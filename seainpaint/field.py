"""The data model: how seainpaint reads a field's dimensions, land and observations.

A field is an :class:`xarray.DataArray` with a ``time`` dimension, two spatial
dimensions (``latitude``/``longitude``, ``lat``/``lon`` or ``y``/``x``) and optionally a
``channel`` dimension last. Missing values are NaN. *Land* (never observed) pixels are
those missing at every time step (in every channel); they are never filled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from .errors import FieldError, MaskError

TIME_DIM = "time"
CHANNEL_DIM = "channel"
KNOWN_SPATIAL_PAIRS: tuple[tuple[str, str], ...] = (
    ("latitude", "longitude"),
    ("lat", "lon"),
    ("y", "x"),
    ("rlat", "rlon"),
)


@dataclass(frozen=True)
class FieldDims:
    """Names of a field's dimensions in canonical order.

    Attributes
    ----------
    time : str
        Name of the time dimension.
    y, x : str
        Names of the two spatial dimensions (row, column).
    channel : str or None
        Name of the channel dimension, or None for a single-channel field.
    """

    time: str
    y: str
    x: str
    channel: str | None = None

    @property
    def canonical(self) -> tuple[str, ...]:
        """Dimension order ``(time, y, x[, channel])``."""
        dims = (self.time, self.y, self.x)
        return dims + ((self.channel,) if self.channel else ())

    @property
    def spatial(self) -> tuple[str, str]:
        """The two spatial dimension names ``(y, x)``."""
        return (self.y, self.x)


def field_dims(da: xr.DataArray) -> FieldDims:
    """Identify the time, spatial and channel dimensions of a field.

    Parameters
    ----------
    da : xarray.DataArray
        The field.

    Returns
    -------
    FieldDims

    Raises
    ------
    FieldError
        If there is no ``time`` dimension or the number of dimensions is wrong.
    """
    if not isinstance(da, xr.DataArray):
        raise FieldError(f"expected an xarray.DataArray, got {type(da).__name__}")
    dims = tuple(str(d) for d in da.dims)
    if TIME_DIM not in dims:
        raise FieldError(
            f"field {da.name!r} has no 'time' dimension (dims are {dims}); "
            "rename the time dimension to 'time'"
        )
    channel = CHANNEL_DIM if CHANNEL_DIM in dims else None
    expected = 4 if channel else 3
    if len(dims) != expected:
        raise FieldError(
            f"field {da.name!r} has {len(dims)} dimensions {dims}; expected (time, y, x)"
            " or (time, y, x, channel)"
        )
    rest = [d for d in dims if d not in (TIME_DIM, CHANNEL_DIM)]
    for y, x in KNOWN_SPATIAL_PAIRS:
        if set(rest) == {y, x}:
            return FieldDims(TIME_DIM, y, x, channel)
    # unknown names: keep the order in which they appear
    return FieldDims(TIME_DIM, rest[0], rest[1], channel)


def canonical(da: xr.DataArray) -> tuple[xr.DataArray, FieldDims]:
    """Return the field transposed to ``(time, y, x[, channel])`` and its dims."""
    dims = field_dims(da)
    return da.transpose(*dims.canonical), dims


def observed_mask(da: xr.DataArray) -> xr.DataArray:
    """Boolean mask of observed pixels (``True`` = observed, the paper's m = 1).

    For a multi-channel field a pixel is observed when every channel is finite, so the
    mask has dims ``(time, y, x)``.
    """
    dims = field_dims(da)
    finite = np.isfinite(da) if da.dtype.kind in "fc" else xr.ones_like(da, dtype=bool)
    if dims.channel:
        finite = finite.all(dims.channel)
    finite.name = "observed"
    finite.attrs = {"long_name": "observed pixel (True) or missing (False)"}
    return finite


def land_mask(da: xr.DataArray) -> xr.DataArray:
    """Boolean mask of never-observed pixels (land), dims ``(y, x)``."""
    dims = field_dims(da)
    land = ~observed_mask(da).any(dims.time)
    land.name = "land"
    land.attrs = {"long_name": "pixel never observed (land or permanently missing)"}
    return land


def to_numpy_tyxc(da: xr.DataArray) -> tuple[np.ndarray, FieldDims]:
    """Values as a float array of shape ``(T, Y, X, C)`` (C = 1 without channels)."""
    can, dims = canonical(da)
    values = np.asarray(can.values)
    if values.dtype.kind not in "f":
        values = values.astype(np.float64)
    if dims.channel is None:
        values = values[..., None]
    return values, dims


def validate_field(da: xr.DataArray, *, min_time: int = 1) -> FieldDims:
    """Check that ``da`` is a fillable field and return its dims.

    Raises
    ------
    FieldError
        No time dimension, wrong number of dims, too few time steps, a non-float dtype,
        or nothing observed at all.
    """
    dims = field_dims(da)
    if da.sizes[dims.time] < min_time:
        raise FieldError(
            f"field {da.name!r} has {da.sizes[dims.time]} time steps; at least {min_time} needed"
        )
    if da.dtype.kind not in "f":
        raise FieldError(f"field {da.name!r} has dtype {da.dtype}; a float field is needed")
    # on dask-backed input this check would compute the whole field: leave it lazy
    if da.chunks is None and not bool(observed_mask(da).any()):
        raise FieldError(f"field {da.name!r} has nothing observed: every value is NaN")
    return dims


def check_mask(da: xr.DataArray, mask: xr.DataArray | np.ndarray) -> xr.DataArray:
    """Check that a boolean mask matches a field's ``(time, y, x)`` grid.

    Returns the mask as a DataArray aligned with the field.

    Raises
    ------
    MaskError
        If the shape or the dimension names do not match, or it is not boolean.
    """
    dims = field_dims(da)
    shape = tuple(da.sizes[d] for d in (dims.time, dims.y, dims.x))
    if isinstance(mask, xr.DataArray):
        missing = [d for d in mask.dims if d not in (dims.time, dims.y, dims.x)]
        if missing or mask.ndim != 3:
            raise MaskError(
                f"mask dims {mask.dims} do not match the field's {(dims.time, dims.y, dims.x)}"
            )
        mask = mask.transpose(dims.time, dims.y, dims.x)
        values = np.asarray(mask.values)
    else:
        values = np.asarray(mask)
    if values.shape != shape:
        raise MaskError(f"mask shape {values.shape} does not match the field's grid {shape}")
    if values.dtype != bool:
        raise MaskError(f"mask dtype is {values.dtype}; a boolean mask (True = observed) is needed")
    template = da.isel({dims.channel: 0}, drop=True) if dims.channel else da
    template = template.transpose(dims.time, dims.y, dims.x)
    return xr.DataArray(values, dims=template.dims, coords=template.coords, name="observed")
