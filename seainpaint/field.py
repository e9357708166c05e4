"""The data model: how seainpaint reads a field's dimensions, time, land and observations.

A field is an :class:`xarray.DataArray` with a ``time`` dimension, two spatial
dimensions and optionally a ``channel`` dimension last. Missing values are NaN.

- **Spatial dimensions** are identified, in this order, by an explicit override (the
  ``spatial=`` argument of :func:`field_dims`, or the field attribute
  ``seainpaint_spatial_dims = "row col"``, y first), by CF attributes of their
  coordinates read with cf_xarray (``axis="Y"``/``"X"``, ``standard_name`` latitude /
  longitude / projection_y_coordinate ..., ``units`` degrees_north ...), or by the known
  name pairs ``latitude``/``longitude``, ``lat``/``lon``, ``y``/``x``, ``rlat``/``rlon``.
  Anything else is refused with a :class:`~seainpaint.errors.FieldError`.
- **Time** is sorted and unique: :func:`validate_field` refuses duplicated, missing (NaT)
  or unsorted stamps; :func:`sort_time` sorts an unsorted field (with a warning), as
  :func:`seainpaint.fill` does.
- **Land** is the field's boolean ``land`` coordinate over its two spatial dims when it
  has one (``True`` = land; attach one with :func:`set_land`), otherwise the pixels with
  no finite value at any time step in any channel. Land is never filled.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .conventions import MEMBER_DIM
from .errors import FieldError, MaskError, SeainpaintWarning

TIME_DIM = "time"
CHANNEL_DIM = "channel"
LAND_COORD = "land"
SPATIAL_DIMS_ATTR = "seainpaint_spatial_dims"
KNOWN_SPATIAL_PAIRS: tuple[tuple[str, str], ...] = (
    ("latitude", "longitude"),
    ("lat", "lon"),
    ("y", "x"),
    ("rlat", "rlon"),
)
# cf_xarray keys that name a row (Y) or a column (X) coordinate
_CF_Y = (("axes", "Y"), ("coordinates", "latitude"))
_CF_X = (("axes", "X"), ("coordinates", "longitude"))


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


@dataclass(frozen=True, eq=False)
class FieldInfo:
    """A checked, frozen description of one field, made once at a journey's entry.

    :func:`describe` (and :func:`prepare_for_fill`) build it with one pass of the field
    rules; the helpers of filling, inference and training read it instead of looking the
    dims, masks and time up again. Every attribute is plain data (no computation on
    access).

    Attributes
    ----------
    name : str or None
        The field's name, for messages.
    dims : FieldDims
        Its dimension names.
    canonical : tuple of str
        Dimension order ``(time, y, x[, channel])`` (``dims.canonical``).
    shape : (int, int, int)
        ``(T, Y, X)``.
    channels : int
        Number of channels (1 without a channel dim).
    hours : numpy.ndarray
        Time stamps as float64 hours since the first step (:func:`time_in_hours`).
    observed : xarray.DataArray
        Boolean ``(time, y, x)``, True where every channel is finite
        (:func:`observed_mask`); lazy on dask input.
    never : xarray.DataArray
        Boolean ``(y, x)``, no finite value at any time in any channel
        (:func:`never_observed`); lazy on dask input.
    land : xarray.DataArray
        Boolean ``(y, x)`` land mask (:func:`land_mask`); lazy on dask input.
    explicit_land : bool
        Whether ``land`` is the field's ``land`` coordinate (else the never-observed pixels).
    """

    name: str | None
    dims: FieldDims
    canonical: tuple[str, ...]
    shape: tuple[int, int, int]
    channels: int
    hours: np.ndarray
    observed: xr.DataArray
    never: xr.DataArray
    land: xr.DataArray
    explicit_land: bool


def _override(da: xr.DataArray, spatial: Sequence[str] | str | None) -> tuple[str, ...] | None:
    value: Any = spatial if spatial is not None else da.attrs.get(SPATIAL_DIMS_ATTR)
    if value is None:
        return None
    names = tuple(value.replace(",", " ").split()) if isinstance(value, str) else tuple(value)
    return tuple(str(n) for n in names)


_CoordKey = tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...]


@functools.lru_cache(maxsize=256)
def _cf_lookup(key: _CoordKey) -> dict[str, dict[str, tuple[str, ...]]]:
    """cf_xarray's axes and coordinates of 1-D coordinates described by name, dim, attrs.

    Only names and attributes matter to cf_xarray's criteria, so the answer is cached on
    them (fields are inspected many times per fill).
    """
    import cf_xarray  # noqa: F401  (registers the .cf accessor)

    probe = xr.Dataset(coords={name: (dim, [0], dict(attrs)) for name, dim, attrs in key})
    try:
        found = {"axes": probe.cf.axes, "coordinates": probe.cf.coordinates}
    except Exception:  # cf_xarray cannot parse the attributes: fall back to names
        return {"axes": {}, "coordinates": {}}
    return {group: {k: tuple(v) for k, v in d.items()} for group, d in found.items()}


def _cf_spatial(da: xr.DataArray, rest: list[str]) -> tuple[str, str] | None:
    """(y, x) from CF attributes of the 1-D spatial coordinates (cf_xarray), or None."""
    key = tuple(
        (
            str(name),
            str(coord.dims[0]),
            tuple(sorted((str(k), str(v)) for k, v in coord.attrs.items())),
        )
        for name, coord in da.coords.items()
        if coord.ndim == 1 and str(coord.dims[0]) in rest and coord.attrs
    )
    if not key:
        return None  # nothing for cf_xarray to read
    found = _cf_lookup(key)
    dim_of = {name: dim for name, dim, _ in key}

    def dims_for(keys: tuple[tuple[str, str], ...]) -> set[str]:
        return {dim_of[n] for group, k in keys for n in found[group].get(k, ()) if n in dim_of}

    ys, xs = dims_for(_CF_Y), dims_for(_CF_X)
    if len(ys) == 1 and len(xs) == 1 and ys != xs:
        return next(iter(ys)), next(iter(xs))
    if len(ys) == 1 and not xs:
        y = next(iter(ys))
        return y, next(d for d in rest if d != y)
    if len(xs) == 1 and not ys:
        x = next(iter(xs))
        return next(d for d in rest if d != x), x
    return None


def field_dims(da: xr.DataArray, spatial: Sequence[str] | str | None = None) -> FieldDims:
    """Identify the time, spatial and channel dimensions of a field.

    Parameters
    ----------
    da : xarray.DataArray
        The field.
    spatial : (str, str) or str, optional
        The two spatial dimension names ``(y, x)``, row first, when they cannot be
        identified otherwise. The field attribute ``seainpaint_spatial_dims`` (e.g.
        ``"row col"``) does the same and travels with the field through every method.

    Returns
    -------
    FieldDims

    Raises
    ------
    FieldError
        If there is no ``time`` dimension, the number of dimensions is wrong, or the
        spatial dimensions can be identified neither by the override, nor by CF
        attributes of their coordinates, nor by a known name pair.
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
    if MEMBER_DIM in dims:
        raise FieldError(
            f"field {da.name!r} has a {MEMBER_DIM!r} dimension (an ensemble from "
            f"fill(..., members=N)): pass one member, e.g. da.isel({MEMBER_DIM}=0)"
        )
    if len(dims) != expected:
        raise FieldError(
            f"field {da.name!r} has {len(dims)} dimensions {dims}; expected (time, y, x)"
            " or (time, y, x, channel)"
        )
    rest = [d for d in dims if d not in (TIME_DIM, CHANNEL_DIM)]
    override = _override(da, spatial)
    if override is not None:
        if len(override) != 2 or set(override) != set(rest):
            raise FieldError(
                f"spatial dims {override} given for field {da.name!r} are not its two spatial "
                f"dimensions {tuple(rest)}"
            )
        return FieldDims(TIME_DIM, override[0], override[1], channel)
    cf = _cf_spatial(da, rest)
    if cf is not None:
        return FieldDims(TIME_DIM, cf[0], cf[1], channel)
    for y, x in KNOWN_SPATIAL_PAIRS:
        if set(rest) == {y, x}:
            return FieldDims(TIME_DIM, y, x, channel)
    raise FieldError(
        f"cannot tell the spatial dimensions {tuple(rest)} of field {da.name!r} apart: give "
        "their coordinates CF attributes (axis='Y' / axis='X', or standard_name latitude / "
        "longitude), rename them to y/x or latitude/longitude, or set "
        f"da.attrs[{SPATIAL_DIMS_ATTR!r}] = 'ydim xdim'"
    )


def canonical(da: xr.DataArray) -> tuple[xr.DataArray, FieldDims]:
    """Return the field transposed to ``(time, y, x[, channel])`` and its dims."""
    dims = field_dims(da)
    return da.transpose(*dims.canonical), dims


def _finite(da: xr.DataArray) -> xr.DataArray:
    return np.isfinite(da) if da.dtype.kind in "fc" else xr.ones_like(da, dtype=bool)


def observed_mask(da: xr.DataArray) -> xr.DataArray:
    """Boolean mask of observed pixels (``True`` = observed, the paper's m = 1).

    For a multi-channel field a pixel is observed when every channel is finite, so the
    mask has dims ``(time, y, x)``. (Each finite channel value is still an observation
    that :func:`seainpaint.fill` keeps.)
    """
    return _observed(_finite(da), field_dims(da))


def _observed(finite: xr.DataArray, dims: FieldDims) -> xr.DataArray:
    """The observed mask from the field's finite values (every channel finite)."""
    if dims.channel:
        finite = finite.all(dims.channel)
    finite.name = "observed"
    finite.attrs = {"long_name": "observed pixel (True) or missing (False)"}
    return finite


def never_observed(da: xr.DataArray) -> xr.DataArray:
    """Pixels with no finite value at any time step in any channel, dims ``(y, x)``."""
    return _never(_finite(da), field_dims(da))


def _never(finite: xr.DataArray, dims: FieldDims) -> xr.DataArray:
    """The never-observed pixels from the field's finite values (no channel, no time)."""
    if dims.channel:
        finite = finite.any(dims.channel)
    never = ~finite.any(dims.time)
    never.name = "never_observed"
    never.attrs = {"long_name": "pixel never observed in the field"}
    return never.transpose(dims.y, dims.x)


def _land_coord(da: xr.DataArray, dims: FieldDims) -> xr.DataArray:
    """The field's ``land`` coordinate, checked, as a ``(y, x)`` DataArray."""
    coord = da.coords[LAND_COORD]
    if set(map(str, coord.dims)) != set(dims.spatial) or coord.ndim != 2:
        raise MaskError(
            f"the 'land' coordinate of field {da.name!r} has dims {coord.dims}; it must span "
            f"the two spatial dims {dims.spatial}"
        )
    if coord.dtype != bool:
        raise MaskError(
            f"the 'land' coordinate of field {da.name!r} has dtype {coord.dtype}; a boolean "
            "mask (True = land) is needed"
        )
    keep = {d: da.coords[d] for d in dims.spatial if d in da.coords}
    land = xr.DataArray(coord.variable, coords=keep, name=LAND_COORD)
    return land.transpose(dims.y, dims.x)


def has_land(da: xr.DataArray) -> bool:
    """Whether the field carries an explicit land mask (its ``land`` coordinate)."""
    return LAND_COORD in da.coords


def land_mask(da: xr.DataArray) -> xr.DataArray:
    """Boolean land mask, dims ``(y, x)``, ``True`` = land.

    The field's ``land`` coordinate when it has one (an explicit land/sea mask, see
    :func:`set_land`), otherwise the pixels never observed in the field
    (:func:`never_observed`).

    Raises
    ------
    MaskError
        If the ``land`` coordinate is not boolean or does not span the spatial dims.
    """
    dims = field_dims(da)
    if has_land(da):
        return _explicit_land(da, dims)
    return _never_as_land(never_observed(da))


def _explicit_land(da: xr.DataArray, dims: FieldDims) -> xr.DataArray:
    """The field's ``land`` coordinate as its land mask (checked)."""
    land = _land_coord(da, dims)
    land.attrs = {"long_name": "land (explicit land/sea mask)"}
    return land


def _never_as_land(never: xr.DataArray) -> xr.DataArray:
    """The never-observed pixels as the land mask (a renamed shallow copy)."""
    land = never.copy(deep=False)
    land.name = LAND_COORD
    land.attrs = {"long_name": "pixel never observed (land or permanently missing)"}
    return land


def set_land(da: xr.DataArray, land: xr.DataArray | np.ndarray) -> xr.DataArray:
    """Attach an explicit land mask to a field as its ``land`` coordinate.

    Parameters
    ----------
    da : xarray.DataArray
        The field.
    land : xarray.DataArray or numpy.ndarray
        Boolean, ``True`` = land: a DataArray over the field's two spatial dims (any
        order; its coordinates, if any, must equal the field's), or an array of shape
        ``(Y, X)`` in the field's canonical order.

    Returns
    -------
    xarray.DataArray
        ``da`` with the boolean coordinate ``land`` over its spatial dims.

    Raises
    ------
    MaskError
        Wrong dims, shape, dtype or coordinates.
    """
    dims = field_dims(da)
    shape = (da.sizes[dims.y], da.sizes[dims.x])
    if isinstance(land, xr.DataArray):
        if set(map(str, land.dims)) != set(dims.spatial) or land.ndim != 2:
            raise MaskError(
                f"land mask dims {land.dims} must be the field's spatial dims {dims.spatial}"
            )
        land = land.transpose(dims.y, dims.x)
        for d in dims.spatial:
            if d in land.indexes and d in da.indexes and not land.indexes[d].equals(da.indexes[d]):
                raise MaskError(
                    f"land mask coordinate {d!r} differs from the field's: put the mask on "
                    "the field's grid first"
                )
        data: Any = land.data
    else:
        data = np.asarray(land)
    if tuple(data.shape) != shape:
        raise MaskError(
            f"land mask shape {tuple(data.shape)} does not match the field's grid {shape} "
            f"({dims.y}, {dims.x})"
        )
    if data.dtype != bool:
        raise MaskError(f"land mask dtype is {data.dtype}; a boolean mask (True = land) is needed")
    attrs = {"long_name": "land mask", "comment": "True = land (never filled)"}
    return da.assign_coords({LAND_COORD: (dims.spatial, data, attrs)})


def land_on_grid(da: xr.DataArray, dims: FieldDims, land: np.ndarray | None,
                 grid: Mapping[str, np.ndarray]) -> xr.DataArray | None:
    """A ``(Y, X)`` land mask given with its grid, when ``da`` lies on that grid.

    Parameters
    ----------
    da : xarray.DataArray
        The field.
    dims : FieldDims
        Its dimensions.
    land : numpy.ndarray or None
        Boolean ``(Y, X)`` land mask (e.g. a model's training land).
    grid : mapping of str to numpy.ndarray
        The spatial coordinates ``land`` lies on (name -> values).

    Returns
    -------
    xarray.DataArray or None
        ``land`` over the field's spatial dims, or None when there is no mask or grid, or
        the field's shape or coordinates (to 1e-6) differ.
    """
    if land is None or not grid:
        return None
    if (da.sizes[dims.y], da.sizes[dims.x]) != land.shape:
        return None
    for name, values in grid.items():
        if name not in (dims.y, dims.x) or name not in da.coords:
            return None
        mine = np.asarray(da[name].values)
        if mine.shape != values.shape or not np.allclose(
            mine.astype(np.float64), values.astype(np.float64), rtol=0, atol=1e-6
        ):
            return None
    return xr.DataArray(land, dims=(dims.y, dims.x),
                        coords={d: da[d] for d in (dims.y, dims.x) if d in da.coords},
                        name="land")


# land/sea mask variables of a dataset: names and CF standard names (value 1 = land?)
LAND_MASK_NAMES = ("mask", "lsm", "land_mask", "landmask")
LAND_STANDARD_NAMES = {
    "land_binary_mask": True,
    "land_area_fraction": True,
    "sea_binary_mask": False,
    "sea_area_fraction": False,
}


def is_land_variable(var: xr.DataArray) -> bool:
    """Whether a dataset variable looks like a land/sea mask (by standard_name or name)."""
    return (
        var.attrs.get("standard_name") in LAND_STANDARD_NAMES
        or str(var.name).lower() in LAND_MASK_NAMES
    )


def _is_sea_meaning(meaning: str) -> bool:
    words = meaning.lower().split("_")
    return "land" not in words and any(w in words for w in ("water", "sea", "ocean"))


def _land_from_flags(values: np.ndarray, attrs: dict[str, Any]) -> np.ndarray | None:
    meanings = str(attrs["flag_meanings"]).split()
    sea = [i for i, m in enumerate(meanings) if _is_sea_meaning(m)]
    landish = [i for i, m in enumerate(meanings) if "land" in m.lower().split("_")]
    if attrs.get("flag_masks") is not None:
        bits = np.atleast_1d(np.asarray(attrs["flag_masks"])).astype(np.int64)
        if len(bits) != len(meanings):
            return None
        codes = np.where(np.isfinite(values), values, 0).astype(np.int64)

        def has(idx: list[int]) -> np.ndarray:
            return (codes[..., None] & bits[idx]).any(axis=-1)

        if sea:
            return ~has(sea) | (has(landish) if landish else False)
        return has(landish) if landish else None
    if attrs.get("flag_values") is not None:
        flag_values = np.atleast_1d(np.asarray(attrs["flag_values"]))
        if len(flag_values) != len(meanings):
            return None
        if sea:
            return ~np.isin(values, flag_values[sea])
        return np.isin(values, flag_values[landish]) if landish else None
    return None


def land_values(var: xr.DataArray) -> np.ndarray | None:
    """Boolean land (``True``) from a land/sea mask variable, or None if its meaning is unclear.

    - ``flag_meanings`` with ``flag_values`` or ``flag_masks`` (e.g. OSTIA's ``mask``:
      ``water land optional_lake_surface sea_ice optional_river_surface``): a pixel is sea
      when its flag is a sea meaning (``water``, ``sea``, ``ocean``, ``sea_ice``, ...) and
      land otherwise (lakes and rivers included); without any sea meaning, land is what a
      meaning containing ``land`` flags.
    - standard_name ``land_binary_mask`` / ``land_area_fraction``, or the names ``lsm``,
      ``land_mask``, ``landmask``: land where the value exceeds 0.5;
      ``sea_binary_mask`` / ``sea_area_fraction``: land where it is below 0.5.
    - A missing (NaN) mask value counts as land: seainpaint never fills where the mask
      does not say sea. A variable ``mask`` with neither flags nor standard_name is unclear.
    """
    values = np.asarray(var.values)
    if values.dtype.kind not in "biuf":
        return None
    values = values.astype(np.float64)
    if var.attrs.get("flag_meanings"):
        land = _land_from_flags(values, dict(var.attrs))
        return None if land is None else np.asarray(land, dtype=bool) | np.isnan(values)
    one_is_land = LAND_STANDARD_NAMES.get(str(var.attrs.get("standard_name")))
    if one_is_land is None and str(var.name).lower() in ("lsm", "land_mask", "landmask"):
        one_is_land = True
    if one_is_land is None:
        return None
    with np.errstate(invalid="ignore"):
        land = values > 0.5 if one_is_land else values < 0.5
    return land | np.isnan(values)


def land_from_dataset(ds: xr.Dataset, da: xr.DataArray) -> xr.DataArray:
    """The field with the dataset's land/sea mask attached as its ``land`` coordinate.

    A variable of ``ds`` (other than the field) is a land/sea mask when its standard_name
    is ``land_binary_mask``, ``sea_binary_mask``, ``land_area_fraction`` or
    ``sea_area_fraction``, or its name is ``mask``, ``lsm``, ``land_mask`` or
    ``landmask``, and it spans the field's two spatial dims with the same sizes and
    coordinates (other dims of length 1, or ``time``: its first step is used). Its values
    are read by :func:`land_values`. A field that already has a ``land`` coordinate, or a
    dataset without such a variable, is returned unchanged; a candidate whose meaning is
    unclear is skipped with a :class:`SeainpaintWarning`.
    """
    if has_land(da):
        return da
    try:
        dims = field_dims(da)
    except FieldError:  # not a field: the field checks will say what is wrong
        return da
    for name in ds.variables:
        if name == da.name or name in ds.dims:
            continue
        var = ds[name]
        if not is_land_variable(var) or not set(dims.spatial) <= set(map(str, var.dims)):
            continue
        extra = [d for d in map(str, var.dims) if d not in dims.spatial]
        if any(d != TIME_DIM and var.sizes[d] != 1 for d in extra):
            continue
        if any(var.sizes[d] != da.sizes[d] for d in dims.spatial):
            continue
        if any(
            d in var.indexes and d in da.indexes and not var.indexes[d].equals(da.indexes[d])
            for d in dims.spatial
        ):
            continue
        var = var.isel({d: 0 for d in extra}, drop=True).transpose(dims.y, dims.x)
        land = land_values(var)
        if land is None:
            warnings.warn(
                f"variable {str(name)!r} looks like a land/sea mask but has no flag_meanings "
                "or standard_name saying which value is land: not used (pass land= to fill)",
                SeainpaintWarning,
                stacklevel=2,
            )
            continue
        return set_land(da, land)
    return da


def to_numpy_tyxc(da: xr.DataArray) -> tuple[np.ndarray, FieldDims]:
    """Values as a float array of shape ``(T, Y, X, C)`` (C = 1 without channels)."""
    tyx, dims = canonical(da)
    values = np.asarray(tyx.values)
    if values.dtype.kind not in "f":
        values = values.astype(np.float64)
    if dims.channel is None:
        values = values[..., None]
    return values, dims


def time_index(da: xr.DataArray) -> pd.Index | None:
    """The field's time index, or None when ``time`` has no coordinate."""
    return da.indexes.get(TIME_DIM)


def time_in_hours(da: xr.DataArray, time_dim: str | None = None) -> np.ndarray:
    """The field's times as float64 hours since its first step.

    A datetime coordinate is converted; a numeric one is taken as hours; without a time
    coordinate the steps are taken as hourly (index = hours). ``time_dim`` skips looking
    the dims up when the caller knows them.
    """
    if time_dim is None:
        time_dim = field_dims(da).time
    coord = da.coords.get(time_dim)
    n = da.sizes[time_dim]
    if coord is not None and np.issubdtype(coord.dtype, np.datetime64) and n:
        ns = coord.values.astype("datetime64[ns]").astype(np.int64)
        return (ns - ns[0]).astype(np.float64) / 3.6e12
    if coord is not None and coord.dtype.kind in "iuf" and n:
        return np.asarray(coord.values, np.float64) - float(coord.values[0])
    return np.arange(n, dtype=np.float64)


def check_float_dtype(da: xr.DataArray) -> None:
    """Refuse a field whose values are not floating point (NaN marks what is missing)."""
    if da.dtype.kind != "f":
        raise FieldError(f"field {da.name!r} has dtype {da.dtype}; a float field is needed")


def check_time(da: xr.DataArray, *, sorted_: bool = True) -> None:
    """Refuse missing (NaT) and duplicated time stamps, and unsorted time.

    Parameters
    ----------
    da : xarray.DataArray
        The field.
    sorted_ : bool
        Also refuse time that is not increasing.

    Raises
    ------
    FieldError
        Naming the first duplicated stamp, or saying how to sort.
    """
    index = time_index(da)
    if index is None:
        return
    if index.hasnans:
        raise FieldError(f"the time coordinate of field {da.name!r} has missing (NaT) stamps")
    if not index.is_unique:
        first = index[index.duplicated()][0]
        raise FieldError(
            f"the time coordinate of field {da.name!r} has duplicated stamps, first {first}: "
            "time must be unique (drop or average the duplicates first)"
        )
    if sorted_ and not index.is_monotonic_increasing:
        raise FieldError(
            f"the time coordinate of field {da.name!r} is not sorted: sort it with "
            "da.sortby('time') (seainpaint.fill sorts it for you)"
        )


def sort_time(da: xr.DataArray, *, stacklevel: int = 3) -> xr.DataArray:
    """The field sorted by time, with a :class:`SeainpaintWarning` when it was not.

    ``stacklevel`` places the warning (3: the caller of the function calling this one).

    Raises
    ------
    FieldError
        Duplicated or missing stamps (see :func:`check_time`).
    """
    check_time(da, sorted_=False)
    index = time_index(da)
    if index is None or index.is_monotonic_increasing:
        return da
    warnings.warn(
        f"the time coordinate of field {da.name!r} is not sorted: sorted it; the result is "
        "in time order",
        SeainpaintWarning,
        stacklevel=stacklevel,
    )
    return da.sortby(TIME_DIM)


def _infinite_to_nan(values: np.ndarray, where: str, stacklevel: int) -> np.ndarray:
    """``values`` with ±inf replaced by NaN and a warning that counts them (``values``
    itself when it has none); ``stacklevel`` counts from the caller."""
    bad = np.isinf(values)
    n = int(bad.sum())
    if not n:
        return values
    warnings.warn(
        f"{n} infinite value(s) in {where} treated as missing (NaN)",
        SeainpaintWarning,
        stacklevel=stacklevel + 1,
    )
    return np.where(bad, np.array(np.nan, dtype=values.dtype), values)


def _infinite_to_nan_block(block: np.ndarray, field: str) -> np.ndarray:
    return _infinite_to_nan(block, f"a chunk of field {field!r}", stacklevel=2)


def drop_infinite(da: xr.DataArray, *, stacklevel: int = 3) -> xr.DataArray:
    """Treat ±inf as missing: replace them by NaN, with a warning that counts them.

    In-memory fields are counted at once (the warning placed by ``stacklevel``, 3: the
    caller of the function calling this one); on dask-backed fields the replacement is
    lazy and each chunk warns with its own count when it is computed.
    """
    if da.dtype.kind != "f":
        return da
    if da.chunks is None:
        values = np.asarray(da.values)
        finite = _infinite_to_nan(values, f"field {da.name!r}", stacklevel=stacklevel)
        return da if finite is values else da.copy(data=finite)
    data = da.data.map_blocks(
        _infinite_to_nan_block,
        field=str(da.name),
        dtype=da.dtype,
        meta=np.empty((0,) * da.ndim, dtype=da.dtype),
    )
    return da.copy(data=data)


def validate_field(da: xr.DataArray, *, min_time: int = 1) -> FieldDims:
    """Check that ``da`` is a fillable field and return its dims.

    Raises
    ------
    FieldError
        No time dimension, spatial dims that cannot be identified, wrong number of dims,
        too few time steps, a non-float dtype, missing, duplicated or unsorted time
        stamps, or nothing observed at all (checked here for in-memory fields;
        :func:`seainpaint.fill` checks dask-backed fields when they are computed).
    MaskError
        A ``land`` coordinate that is not a boolean ``(y, x)`` mask.
    """
    dims = field_dims(da)
    if da.sizes[dims.time] < min_time:
        raise FieldError(
            f"field {da.name!r} has {da.sizes[dims.time]} time steps; at least {min_time} needed"
        )
    check_float_dtype(da)
    check_time(da)
    if has_land(da):
        _land_coord(da, dims)
    # on dask-backed input this check would compute the whole field: leave it lazy
    if da.chunks is None and not bool(np.isfinite(np.asarray(da.values)).any()):
        raise FieldError(f"field {da.name!r} has nothing observed: every value is NaN")
    return dims


def describe(da: xr.DataArray, *, check: str = "all") -> FieldInfo:
    """Check a field once and describe it: dims, canonical order, masks, time in hours.

    Parameters
    ----------
    da : xarray.DataArray
        The field (its ``land`` coordinate, if any, is its land mask).
    check : {"all", "dtype", "none"}
        What is refused besides dims that cannot be identified: ``"all"`` everything
        :func:`validate_field` refuses (a fill's rules), ``"dtype"`` a non-float field
        (training's), ``"none"`` nothing more.

    Returns
    -------
    FieldInfo

    Raises
    ------
    FieldError
        See ``check``.
    MaskError
        A ``land`` coordinate that is not a boolean ``(y, x)`` mask.
    """
    if check == "all":
        dims = validate_field(da)
    else:
        dims = field_dims(da)
        if check == "dtype":
            check_float_dtype(da)
    can = da.transpose(*dims.canonical)
    finite = _finite(can)
    never = _never(finite, dims)
    explicit = has_land(da)
    land = _explicit_land(da, dims) if explicit else _never_as_land(never)
    return FieldInfo(
        name=None if da.name is None else str(da.name),
        dims=dims,
        canonical=dims.canonical,
        shape=(int(da.sizes[dims.time]), int(da.sizes[dims.y]), int(da.sizes[dims.x])),
        channels=int(da.sizes[dims.channel]) if dims.channel else 1,
        hours=time_in_hours(da, dims.time),
        observed=_observed(finite, dims),
        never=never,
        land=land,
        explicit_land=explicit,
    )


def prepare_for_fill(
    da: xr.DataArray,
    *,
    land: xr.DataArray | np.ndarray | None = None,
    grid_land: tuple[np.ndarray | None, Mapping[str, np.ndarray]] | None = None,
) -> tuple[xr.DataArray, FieldInfo]:
    """The field as a fill works on it, and its description, in one step.

    Attaches the land mask (``land``; else the field's own ``land`` coordinate; else
    ``grid_land`` when the field lies on its grid, see :func:`land_on_grid`), sorts time
    (:func:`sort_time`), applies every check of :func:`validate_field`, treats ±inf as
    missing (:func:`drop_infinite`) and describes the result (:func:`describe`).

    Parameters
    ----------
    da : xarray.DataArray
        The observed field.
    land : xarray.DataArray or numpy.ndarray, optional
        An explicit land mask (see :func:`set_land`).
    grid_land : (numpy.ndarray or None, mapping), optional
        A land mask and the grid it lies on (a trained model's), used when neither
        ``land`` nor a ``land`` coordinate is given.

    Returns
    -------
    (xarray.DataArray, FieldInfo)
        The field ready to fill (land attached, time sorted, no ±inf) and its description.

    Raises
    ------
    FieldError, MaskError
        As :func:`set_land`, :func:`sort_time` and :func:`validate_field`.
    """
    if land is None and grid_land is not None and not has_land(da):
        land = land_on_grid(da, field_dims(da), grid_land[0], grid_land[1])
    if land is not None:
        da = set_land(da, land)
    # the warnings point at the caller of seainpaint.fill, as when fill sorted itself
    da = sort_time(da, stacklevel=4)
    validate_field(da)
    clean = drop_infinite(da, stacklevel=4)
    return clean, describe(clean, check="none")


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
