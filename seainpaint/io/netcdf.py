"""CF-1.8 / ACDD-1.3 NetCDF product writer for filled fields.

The filled variable keeps its standard_name and units (translated to UDUNITS spellings
where needed); the ``inpaint_flag`` coordinate that :func:`seainpaint.fill` attaches
becomes a CF flag variable linked through ``ancillary_variables``; ACDD global attributes
describe the product. The file is written under a temporary name in the target folder and
renamed into place, so a failed write never leaves a half-written product.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import FieldError, OutputExistsError
from ..field import field_dims

PAPER_REFERENCE = (
    "Unsupervised Spatiotemporal Data Inpainting, anonymous authors, under review at ICLR "
    "2020 (https://openreview.net/forum?id=rylqmxBKvH); DINEOF: Beckers and Rixen (2003), "
    "doi:10.1175/1520-0426(2003)020<1839:ECADFF>2.0.CO;2"
)
_UNIT_ALIASES = {
    "degC": "degree_Celsius",
    "deg C": "degree_Celsius",
    "degrees_C": "degree_Celsius",
    "°C": "degree_Celsius",
    "celsius": "degree_Celsius",
    "Celsius": "degree_Celsius",
    "kelvin": "K",
    "g m-2": "g m-2",
}
_LATLON_ATTRS = {
    "latitude": {"standard_name": "latitude", "units": "degrees_north", "axis": "Y"},
    "lat": {"standard_name": "latitude", "units": "degrees_north", "axis": "Y"},
    "longitude": {"standard_name": "longitude", "units": "degrees_east", "axis": "X"},
    "lon": {"standard_name": "longitude", "units": "degrees_east", "axis": "X"},
}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
        Filled field, usually from :func:`seainpaint.fill` (then carrying ``inpaint_flag``).
    title, summary, source, institution : str, optional
        ACDD attributes; sensible defaults are derived from the variable.
    extra_attrs : dict, optional
        More global attributes.

    Returns
    -------
    xarray.Dataset
    """
    dims = field_dims(da)
    name = str(da.name) if da.name is not None else "field"
    var = da.copy()
    flag = None
    if "inpaint_flag" in var.coords:
        flag = var.coords["inpaint_flag"].copy()
        var = var.drop_vars("inpaint_flag")
    var.name = name
    attrs = dict(var.attrs)
    history = attrs.pop("history", None)
    attrs.pop("seainpaint_occlusion", None)
    units = attrs.get("units")
    if units in _UNIT_ALIASES:
        attrs["units"] = _UNIT_ALIASES[units]
    if "long_name" not in attrs and "standard_name" not in attrs:
        attrs["long_name"] = name
    if flag is not None:
        attrs["ancillary_variables"] = "inpaint_flag"
    attrs.setdefault("coverage_content_type", "physicalMeasurement")
    var.attrs = attrs
    ds = var.to_dataset()
    # coordinate attributes may have been dropped by arithmetic: restore the CF ones
    for coord in (dims.y, dims.x):
        if coord in _LATLON_ATTRS and coord in ds.coords:
            extra = {**_LATLON_ATTRS[coord], "long_name": _LATLON_ATTRS[coord]["standard_name"]}
            ds = ds.assign_coords({coord: ds[coord].assign_attrs(extra)})
    if "time" in ds.coords:
        time_attrs = {**ds["time"].attrs, "standard_name": "time", "long_name": "time",
                      "axis": "T"}
        if np.issubdtype(ds["time"].dtype, np.datetime64):
            time_attrs.pop("units", None)
            time_attrs.pop("calendar", None)
        ds = ds.assign_coords(time=ds["time"].assign_attrs(time_attrs))
    if flag is not None:
        flag_attrs = dict(flag.attrs)
        flag_attrs["long_name"] = f"inpainting status flag of {name}"
        flag_attrs["coverage_content_type"] = "qualityInformation"
        flag.attrs = flag_attrs
        ds["inpaint_flag"] = flag.variable.astype(np.int8)
    long_name = attrs.get("long_name", attrs.get("standard_name", name))
    created = _now()
    line = f"{created} seainpaint: written with seainpaint.to_netcdf"
    global_attrs: dict[str, Any] = {
        "Conventions": "CF-1.8, ACDD-1.3",
        "title": title or f"Gap-filled {long_name}",
        "summary": summary
        or (
            f"{long_name} with cloud gaps filled by seainpaint; the variable inpaint_flag "
            "tells observed, filled and land pixels apart. Observed values are unchanged."
        ),
        "source": source or da.attrs.get("source", "seainpaint gap filling"),
        "history": f"{history}\n{line}" if history else line,
        "references": PAPER_REFERENCE,
        "date_created": created,
        "keywords": "sea surface temperature, gap filling, inpainting, clouds, GAN, DINEOF",
        "product_version": "seainpaint",
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
        enc["time"] = {"units": "hours since 1950-01-01 00:00:00", "calendar": "standard",
                       "dtype": "float64", "_FillValue": None}
    return enc


def atomic_write(path: str | os.PathLike, write: Any, *, overwrite: bool = False) -> Path:
    """Call ``write(tmp_path)`` then rename the temporary file onto ``path``.

    Raises
    ------
    OutputExistsError
        If ``path`` exists and ``overwrite`` is false.
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise OutputExistsError(f"{target} exists; pass overwrite=True (--overwrite) to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def to_netcdf(
    da: xr.DataArray,
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    complevel: int = 4,
    **attrs: Any,
) -> Path:
    """Write a (filled) field as a CF-1.8 / ACDD-1.3 NetCDF-4 file, atomically.

    Parameters
    ----------
    da : xarray.DataArray
        The field, usually the output of :func:`seainpaint.fill`.
    path : path-like
        Output file.
    overwrite : bool
        Replace an existing file.
    complevel : int
        zlib compression level.
    **attrs
        ``title``, ``summary``, ``source``, ``institution``, ``extra_attrs`` for
        :func:`build_product`.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    if not isinstance(da, xr.DataArray):
        raise FieldError(f"to_netcdf needs a DataArray, got {type(da).__name__}")
    ds = build_product(da, **attrs)
    encoding = _encoding(ds, complevel)

    def write(tmp: Path) -> None:
        ds.to_netcdf(tmp, format="NETCDF4", engine="netcdf4", encoding=encoding)

    return atomic_write(path, write, overwrite=overwrite)
