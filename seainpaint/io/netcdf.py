"""CF-1.11 / ACDD-1.3 NetCDF product writer for filled fields.

The filled variable keeps its standard_name and units (translated to UDUNITS spellings
where needed, with CF-1.11 ``units_metadata`` for temperatures); the ``inpaint_flag``
coordinate that :func:`seainpaint.fill` attaches becomes a CF flag variable, and an optional
``<var>_standard_error`` coordinate a standard-error variable, both linked through
``ancillary_variables``; ACDD global attributes describe the product.

What the writer keeps exact:

- **time**: the input's time encoding (``units``, ``calendar``, ``dtype`` from the time
  coordinate's ``.encoding``) when it represents every time exactly; otherwise (or without
  one) integer counts of the coarsest unit that does (``milliseconds since ...``), in the
  input's calendar (``standard`` by default), so times come back to the nanosecond;
- **packing**: a field read from packed data (integer ``dtype`` with ``scale_factor`` /
  ``add_offset`` in its ``.encoding``) is written packed the same way when every value fits
  the packed range, else unpacked as float32 with a warning; never silently as float64;
- **atomicity and modes**: the file is written under a temporary name in the target folder
  and renamed into place (:mod:`seainpaint.io.atomic`), so a failed write never leaves a
  half-written product, and the product follows the user's umask.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .. import __version__
from ..conventions import (
    FLAG_MEANINGS,
    FLAG_NAME,
    FLAG_VALUES,
    MEMBER_DIM,
    METHOD_ATTR,
    SE_SUFFIX,
    append_history,
    utc_stamp,
)
from ..errors import FieldError
from ..field import field_dims
from ..units import is_temperature, normalize_units
from .atomic import atomic_write, check_target

__all__ = ["CF_VERSION", "build_product", "to_netcdf"]

CF_VERSION = "1.11"
PAPER_REFERENCE = (
    "Unsupervised Spatiotemporal Data Inpainting, anonymous authors, under review at ICLR "
    "2020 (https://openreview.net/forum?id=rylqmxBKvH); DINEOF: Beckers and Rixen (2003), "
    "doi:10.1175/1520-0426(2003)020<1839:ECADFF>2.0.CO;2"
)
_LATLON_ATTRS = {
    "latitude": {"standard_name": "latitude", "units": "degrees_north", "axis": "Y"},
    "lat": {"standard_name": "latitude", "units": "degrees_north", "axis": "Y"},
    "longitude": {"standard_name": "longitude", "units": "degrees_east", "axis": "X"},
    "lon": {"standard_name": "longitude", "units": "degrees_east", "axis": "X"},
}
# calendars whose dates numpy's datetime64 represents (proleptic Gregorian arithmetic)
_GREGORIAN = ("standard", "gregorian", "proleptic_gregorian")
_TIME_UNITS = (
    ("days", 86_400 * 10**9),
    ("hours", 3_600 * 10**9),
    ("minutes", 60 * 10**9),
    ("seconds", 10**9),
    ("milliseconds", 10**6),
    ("microseconds", 10**3),
    ("nanoseconds", 1),
)


def method_keywords(method: str | None) -> list[str]:
    """ACDD keywords for the method that filled a field (``seainpaint_method``)."""
    if not method:
        return []
    text = method.lower()
    if text.startswith("gan"):
        return ["generative adversarial network", method]
    if "self-supervised" in text:
        return ["self-supervised learning", "neural network"]
    return [method]


def _geospatial_attrs(da: xr.DataArray) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    for name, kind in (("latitude", "lat"), ("lat", "lat"), ("longitude", "lon"), ("lon", "lon")):
        if name in da.coords and da[name].size:
            values = np.asarray(da[name].values, dtype=float)
            attrs[f"geospatial_{kind}_min"] = float(np.nanmin(values))
            attrs[f"geospatial_{kind}_max"] = float(np.nanmax(values))
            attrs[f"geospatial_{kind}_units"] = _LATLON_ATTRS[name]["units"]
    if "time" in da.coords and np.issubdtype(da["time"].dtype, np.datetime64):
        times = da["time"].values
        attrs["time_coverage_start"] = str(np.datetime_as_string(times.min(), unit="s")) + "Z"
        attrs["time_coverage_end"] = str(np.datetime_as_string(times.max(), unit="s")) + "Z"
        if times.size > 1:
            step = np.median(np.diff(np.sort(times))).astype("timedelta64[s]").astype(int)
            span = (times.max() - times.min()).astype("timedelta64[s]").astype(int)
            attrs["time_coverage_resolution"] = f"PT{int(step)}S"
            attrs["time_coverage_duration"] = f"PT{int(span)}S"
    return attrs


# --------------------------------------------------------------------------- time


def _gregorian_dates(values: np.ndarray) -> bool:
    days = values.astype("datetime64[D]")
    return values.size == 0 or bool(days.min() >= np.datetime64("1582-10-15", "D"))


def _exact(values: np.ndarray, encoding: dict[str, Any]) -> bool:
    """Whether ``encoding`` writes and reads back the datetime64 ``values`` exactly."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # xarray warns when it must change the units
            var = xr.Variable(("time",), values, encoding=dict(encoding))
            encoded = xr.conventions.encode_cf_variable(var, name="time")
            decoded = xr.conventions.decode_cf_variable("time", encoded)
            back = np.asarray(decoded.values)
            if back.dtype.kind != "M":
                return False
            same = back.astype(values.dtype)
            return bool(
                np.array_equal(same, values) and np.array_equal(same.astype(back.dtype), back)
            )
    except Exception:  # any encoding failure means: not this encoding
        return False


def _reference(text: str | None) -> pd.Timestamp | None:
    if not text:
        return None
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError, OverflowError):
        return None
    if stamp is pd.NaT:
        return None
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp


def _int_encoding(values: np.ndarray, calendar: str, reference: str | None) -> dict[str, Any]:
    """Integer counts of the coarsest unit that holds every ``values`` exactly."""
    resolution = np.datetime_data(values.dtype)[0]
    native_ns = int(np.timedelta64(1, resolution) / np.timedelta64(1, "ns"))
    steps = [(u, n // native_ns) for u, n in _TIME_UNITS if n % native_ns == 0]
    candidates: list[tuple[np.datetime64, str]] = []
    ref = _reference(reference)
    if ref is not None and reference is not None:
        try:
            candidates.append((np.datetime64(ref.to_datetime64(), resolution), reference))
        except (ValueError, OverflowError):  # pragma: no cover - out of range
            pass
    start = values.min() if values.size else np.datetime64("1970-01-01", resolution)
    first = start.astype("datetime64[s]")
    candidates.append((first.astype(values.dtype), str(first).replace("T", " ")))
    for ref_value, ref_text in candidates:
        deltas = (values - ref_value).astype(np.int64)  # in the native resolution
        unit, step = next((u, n) for u, n in steps if np.all(deltas % n == 0))
        counts = deltas // step
        small = counts.size == 0 or (
            counts.min() >= np.iinfo(np.int32).min and counts.max() <= np.iinfo(np.int32).max
        )  # int32 where it suffices: readable by CF < 1.9 tools, which have no int64
        encoding = {
            "units": f"{unit} since {ref_text}",
            "calendar": calendar,
            "dtype": np.dtype(np.int32 if small else np.int64),
        }
        if _exact(values, encoding):
            return encoding
    raise FieldError(  # pragma: no cover - counts of the native unit are always exact
        "cannot find an exact encoding for the time coordinate"
    )


def time_encoding(time: xr.DataArray) -> dict[str, Any]:
    """The NetCDF encoding that writes a datetime64 time coordinate exactly.

    The coordinate's own ``.encoding`` (``units``, ``calendar``, ``dtype``, as read from
    a file) is kept when it represents every time exactly. Otherwise integer counts
    (int32 where they fit, else int64) of the coarsest exact unit are used, since the
    input's reference date when it has one, else since the first time (whole seconds);
    the input's calendar is kept (``standard`` by default, ``proleptic_gregorian`` for
    dates before 1582-10-15).

    Parameters
    ----------
    time : xarray.DataArray
        A ``datetime64`` coordinate.

    Returns
    -------
    dict
        ``units``, ``calendar``, ``dtype`` and ``_FillValue`` (None) for xarray.
    """
    values = np.asarray(time.values)
    if np.isnat(values).any():
        raise FieldError("the time coordinate holds NaT (missing times); drop those steps")
    enc = time.encoding
    calendar = str(enc.get("calendar") or "")
    if not calendar:
        calendar = "standard" if _gregorian_dates(values) else "proleptic_gregorian"
    units = enc.get("units")
    units = str(units) if units else None
    if units and " since " in units:
        kept: dict[str, Any] = {"units": units, "calendar": calendar}
        if enc.get("dtype") is not None:
            kept["dtype"] = np.dtype(enc["dtype"])
        if calendar not in _GREGORIAN or _exact(values, kept):
            return {**kept, "_FillValue": None}
        reference = units.split(" since ", 1)[1].strip()
    else:
        reference = None
    if calendar not in _GREGORIAN:  # pragma: no cover - handled above
        return {"units": units, "calendar": calendar, "_FillValue": None}
    return {**_int_encoding(values, calendar, reference), "_FillValue": None}


# --------------------------------------------------------------------------- packing


class _PackingOverflow(Exception):
    """Raised inside a (possibly dask) block when a value does not fit the packing."""

    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.count = count


def _packing_of(encoding: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The integer packing described by an ``.encoding``, or None."""
    if not encoding:
        return None
    dtype = encoding.get("dtype")
    if dtype is None or np.dtype(dtype).kind not in "iu":
        return None
    if "scale_factor" not in encoding and "add_offset" not in encoding:
        return None  # plain integers: writing floats as integers would round them
    dtype = np.dtype(dtype)
    info = np.iinfo(dtype)
    fill = encoding.get("_FillValue", encoding.get("missing_value"))
    if fill is None or np.ndim(fill) != 0 or not np.isfinite(fill):
        fill = info.min if dtype.kind == "i" else info.max
    packing = {"dtype": dtype, "_FillValue": dtype.type(fill)}
    for key in ("scale_factor", "add_offset"):
        if key in encoding:
            packing[key] = np.asarray(encoding[key])[()]
    return packing


def _pack_block(
    x: np.ndarray, scale: float, offset: float, fill: int, dtype: np.dtype
) -> np.ndarray:
    info = np.iinfo(dtype)
    finite = np.isfinite(x)
    with np.errstate(invalid="ignore", over="ignore"):
        q = np.round((np.asarray(x, dtype=np.float64) - offset) / scale)
    bad = finite & ((q < info.min) | (q > info.max) | (q == fill))
    if bad.any():
        raise _PackingOverflow(int(bad.sum()))
    return np.where(finite, q, fill).astype(dtype)


def _packed(var: xr.Variable, packing: dict[str, Any]) -> xr.Variable:
    """``var`` packed to integers (lazily for dask data; raises _PackingOverflow)."""
    scale = float(packing.get("scale_factor", 1.0))
    offset = float(packing.get("add_offset", 0.0))
    fill = packing["_FillValue"]
    dtype = packing["dtype"]
    data = var.data
    if hasattr(data, "map_blocks") and not isinstance(data, np.ndarray):
        packed = data.map_blocks(_pack_block, scale, offset, fill, dtype, dtype=dtype)
    else:
        packed = _pack_block(np.asarray(data), scale, offset, fill, dtype)
    attrs = dict(var.attrs)
    for key in ("scale_factor", "add_offset"):
        if key in packing:
            attrs[key] = packing[key]
    return xr.Variable(var.dims, packed, attrs)


def _float_fallback(packing: dict[str, Any]) -> np.dtype:
    """float32 when it resolves the packing's step, else float64."""
    scale = abs(float(packing.get("scale_factor", 1.0)))
    offset = abs(float(packing.get("add_offset", 0.0)))
    info = np.iinfo(packing["dtype"])
    largest = offset + scale * max(abs(int(info.min)), abs(int(info.max)))
    return np.dtype(np.float32 if np.spacing(np.float32(largest)) <= scale / 2 else np.float64)


# --------------------------------------------------------------------------- product


def build_product(
    da: xr.DataArray,
    *,
    title: str | None = None,
    summary: str | None = None,
    source: str | None = None,
    institution: str | None = None,
    extra_attrs: dict[str, Any] | None = None,
) -> xr.Dataset:
    """Build the CF/ACDD Dataset that :func:`to_netcdf` writes.

    Parameters
    ----------
    da : xarray.DataArray
        Filled field, usually from :func:`seainpaint.fill` (then carrying
        ``inpaint_flag``); it may carry a ``<name>_standard_error`` coordinate with the
        dims of the field (physical units, NaN where nothing was filled).
    title, summary, source, institution : str, optional
        ACDD attributes; sensible defaults are derived from the variable.
    extra_attrs : dict, optional
        More global attributes.

    Returns
    -------
    xarray.Dataset
        The field, its ``inpaint_flag`` and ``<name>_standard_error`` variables (when
        present), CF coordinates and ACDD global attributes.

    Raises
    ------
    FieldError
        The standard-error coordinate does not have the dims of the field.
    """
    members = MEMBER_DIM in da.dims  # an ensemble (fill(..., members=N)): one more dim
    dims = field_dims(da.isel({MEMBER_DIM: 0}, drop=True) if members else da)
    name = str(da.name) if da.name is not None else "field"
    var = da.copy()
    var.name = name
    var, flag = _take_coord(var, FLAG_NAME)
    se_name = f"{name}{SE_SUFFIX}"
    var, se = _take_coord(var, se_name)
    if se is not None:
        field_only = [d for d in var.dims if d != MEMBER_DIM]
        if set(se.dims) != set(field_only):
            raise FieldError(
                f"{se_name} has dims {se.dims}; a standard error needs the dims of {name} "
                f"{tuple(field_only)}"
            )
        se = se.transpose(*field_only)
    attrs = dict(var.attrs)
    history = attrs.pop("history", None)
    method = attrs.pop(METHOD_ATTR, None)
    ancillary = [
        v for v, present in ((se_name, se is not None), (FLAG_NAME, flag is not None)) if present
    ]
    var.attrs = attrs = _variable_attrs(attrs, name, ancillary)
    ds = _with_cf_coords(var.to_dataset(), dims)
    long_name = attrs.get("long_name", attrs.get("standard_name", name))
    if se is not None:
        ds[se_name] = _se_variable(se, attrs, long_name)
    if flag is not None:
        ds[FLAG_NAME] = _flag_variable(flag, name)
    created = utc_stamp()
    meanings_text = str(ds[FLAG_NAME].attrs["flag_meanings"]) if flag is not None else ""
    global_attrs: dict[str, Any] = {
        "Conventions": f"CF-{CF_VERSION}, ACDD-1.3",
        "title": title or f"Gap-filled {long_name}" + (f" ({method})" if method else ""),
        "summary": summary
        or (
            f"{long_name} with cloud gaps filled by seainpaint; the variable inpaint_flag "
            f"tells pixels apart ({meanings_text or 'observed filled land'}). Observed "
            "values are unchanged."
            + (f" {da.sizes[MEMBER_DIM]} ensemble members (dimension {MEMBER_DIM}) differ "
               "only where filled." if members else "")
        ),
        "source": source or da.attrs.get("source", "seainpaint gap filling"),
        "history": append_history(history, "written with seainpaint.to_netcdf", stamp=created),
        "references": PAPER_REFERENCE,
        "date_created": created,
        "keywords": ", ".join(["sea surface temperature", "gap filling", "inpainting",
                               "clouds", *method_keywords(method),
                               *(["ensemble"] if members else [])]),
        "product_version": __version__,
        "processing_level": "L4 (gap-filled)",
        "standard_name_vocabulary": "CF Standard Name Table v93",
    }
    if institution:
        global_attrs["institution"] = institution
    global_attrs.update(_geospatial_attrs(da))
    if extra_attrs:
        global_attrs.update(extra_attrs)
    ds.attrs = global_attrs
    return ds


def _take_coord(var: xr.DataArray, name: str) -> tuple[xr.DataArray, xr.DataArray | None]:
    """``var`` without its coordinate ``name``, and a copy of that coordinate (or None)."""
    if name not in var.coords:
        return var, None
    return var.drop_vars(name), var.coords[name].copy()


def _variable_attrs(attrs: dict[str, Any], name: str, ancillary: list[str]) -> dict[str, Any]:
    """The field's CF attributes: UDUNITS units, ``units_metadata``, ancillary variables."""
    attrs.pop("seainpaint_occlusion", None)
    if attrs.get("units") is not None:
        attrs["units"] = normalize_units(attrs["units"])
    if "long_name" not in attrs and "standard_name" not in attrs:
        attrs["long_name"] = name
    if is_temperature(attrs.get("units")):
        attrs.setdefault("units_metadata", "temperature: on_scale")
    if ancillary:
        attrs["ancillary_variables"] = " ".join(ancillary)
    attrs.setdefault("coverage_content_type", "physicalMeasurement")
    return attrs


def _with_cf_coords(ds: xr.Dataset, dims: Any) -> xr.Dataset:
    """Restore the CF attributes of the coordinates (arithmetic may have dropped them)."""
    for coord in (dims.y, dims.x):
        if coord in _LATLON_ATTRS and coord in ds.coords:
            extra = {**_LATLON_ATTRS[coord], "long_name": _LATLON_ATTRS[coord]["standard_name"]}
            ds = ds.assign_coords({coord: ds[coord].assign_attrs(extra)})
    if "time" in ds.coords:
        time_attrs = {**ds["time"].attrs, "standard_name": "time", "long_name": "time", "axis": "T"}
        if np.issubdtype(ds["time"].dtype, np.datetime64):
            time_attrs.pop("units", None)
            time_attrs.pop("calendar", None)
            calendar = ds["time"].encoding.get("calendar", "standard")
            if calendar in _GREGORIAN + ("julian",):
                # numpy datetimes, and so the encoded counts, know no leap seconds
                time_attrs.setdefault("units_metadata", "leap_seconds: none")
        ds = ds.assign_coords(time=ds["time"].copy().assign_attrs(time_attrs))
    return ds


def _se_variable(se: xr.DataArray, attrs: dict[str, Any], long_name: str) -> xr.Variable:
    """The standard-error variable of a field with CF attributes ``attrs``."""
    units = attrs.get("units")
    se_attrs = {
        "long_name": f"standard error of {long_name}",
        "coverage_content_type": "qualityInformation",
        "comment": "one-sigma uncertainty of the filled values; NaN where not filled",
    }
    if attrs.get("standard_name"):
        se_attrs["standard_name"] = f"{attrs['standard_name']} standard_error"
    if units is not None:
        se_attrs["units"] = units
        if is_temperature(units):
            se_attrs["units_metadata"] = "temperature: difference"
    return xr.Variable(se.dims, se.data, se_attrs)


def _flag_variable(flag: xr.DataArray, name: str) -> xr.Variable:
    """The CF flag variable (int8, ``flag_values``/``flag_meanings``) of field ``name``."""
    flag_attrs = {k: v for k, v in flag.attrs.items() if k not in ("flag_values",)}
    values = flag.attrs.get("flag_values")
    meanings = flag.attrs.get("flag_meanings")
    if values is None or meanings is None:  # a flag coordinate made elsewhere
        values, meanings = FLAG_VALUES, FLAG_MEANINGS
    flag_attrs["flag_values"] = np.asarray(values).astype(np.int8)
    flag_attrs["flag_meanings"] = str(meanings)
    flag_attrs["long_name"] = f"inpainting status flag of {name}"
    flag_attrs["coverage_content_type"] = "qualityInformation"
    return xr.Variable(flag.dims, flag.data, flag_attrs).astype(np.int8)


def _encoding(ds: xr.Dataset, complevel: int) -> dict[str, dict[str, Any]]:
    enc: dict[str, dict[str, Any]] = {}
    for name, var in ds.data_vars.items():
        e: dict[str, Any] = {"zlib": True, "complevel": complevel, "shuffle": True}
        if var.dtype.kind == "f":
            e["_FillValue"] = np.array(np.nan, dtype=var.dtype)
        else:
            e["_FillValue"] = None
        enc[str(name)] = e
    for name in ds.coords:
        if ds[name].dtype.kind == "f":
            enc[str(name)] = {"_FillValue": None}
    if "time" in ds.coords and np.issubdtype(ds["time"].dtype, np.datetime64):
        enc["time"] = time_encoding(ds["time"])
    return enc


def to_netcdf(
    da: xr.DataArray,
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    complevel: int = 4,
    packing: str | Mapping[str, Any] | None = "auto",
    **attrs: Any,
) -> Path:
    """Write a (filled) field as a CF-1.11 / ACDD-1.3 NetCDF-4 file, atomically.

    Parameters
    ----------
    da : xarray.DataArray
        The field, usually the output of :func:`seainpaint.fill`; an ``inpaint_flag`` and a
        ``<name>_standard_error`` coordinate become variables of their own.
    path : path-like
        Output file (follows the umask; written under a temporary name, then renamed).
    overwrite : bool
        Replace an existing file.
    complevel : int
        zlib compression level.
    packing : "auto", mapping or None
        Integer packing of the field: ``"auto"`` takes it from ``da.encoding`` (a field
        read from a packed file), a mapping gives it (``dtype``, ``scale_factor``,
        ``add_offset``, ``_FillValue``; e.g. the ``.encoding`` of the unfilled input; a
        mapping without an integer ``dtype`` and a scale or offset packs nothing), None
        writes floats. A field whose values do not all fit the packing is written
        unpacked (float32 when it resolves the packing step) with a warning.
    **attrs
        ``title``, ``summary``, ``source``, ``institution``, ``extra_attrs`` for
        :func:`build_product`.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``overwrite`` is false, or ``path`` is a folder.
    FieldError
        ``da`` is not a DataArray.
    """
    if not isinstance(da, xr.DataArray):
        raise FieldError(f"to_netcdf needs a DataArray, got {type(da).__name__}")
    check_target(path, kind="file", overwrite=overwrite)  # fail before any computing
    ds = build_product(da, **attrs)
    encoding = _encoding(ds, complevel)
    name = str(da.name) if da.name is not None else "field"
    if packing == "auto":
        pack = _packing_of(da.encoding)
    elif packing is None or isinstance(packing, Mapping):
        pack = _packing_of(packing)  # a float encoding (an unpacked input) packs nothing
    else:
        raise FieldError(f"packing must be 'auto', a mapping or None, not {packing!r}")
    if pack is not None and ds[name].dtype.kind == "f":
        try:
            packed = ds.copy()
            packed[name] = _packed(ds[name].variable, pack)  # eager data: checked here
            packed_encoding = {
                **encoding,
                name: {**encoding[name], "dtype": pack["dtype"], "_FillValue": pack["_FillValue"]},
            }
            return atomic_write(  # dask data: checked block by block while writing
                path,
                lambda tmp: packed.to_netcdf(
                    tmp, format="NETCDF4", engine="netcdf4", encoding=packed_encoding
                ),
                overwrite=overwrite,
                suffix=".tmp",
            )
        except _PackingOverflow as err:
            dtype = _float_fallback(pack)
            warnings.warn(
                f"{name}: {err.count} value(s) do not fit the input's {pack['dtype']} packing "
                f"(scale_factor {pack.get('scale_factor', 1)}, add_offset "
                f"{pack.get('add_offset', 0)}); written unpacked as {dtype}",
                UserWarning,
                stacklevel=2,
            )
            ds[name] = ds[name].astype(dtype)
            encoding[name]["_FillValue"] = np.array(np.nan, dtype=dtype)

    def write(tmp: Path) -> None:
        ds.to_netcdf(tmp, format="NETCDF4", engine="netcdf4", encoding=encoding)

    return atomic_write(path, write, overwrite=overwrite, suffix=".tmp")
