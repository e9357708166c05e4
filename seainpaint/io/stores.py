"""Open a field from a NetCDF file or a Zarr store, choosing the variable.

Reads of a file's data are checked: a corrupt or truncated chunk (a Zarr chunk that does
not decompress, a damaged NetCDF/HDF5 block) raises :class:`DataSourceError` naming the
file and the problem, also when the field is lazy and the chunk is only read at compute
time, on any dask scheduler.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import xarray as xr
from dask.array.core import getter as _dask_getter

from ..errors import DataSourceError, FieldError, InputNotFoundError
from ..field import is_land_variable, land_from_dataset


def _checked_getter(label: str, *args: Any, **kwargs: Any) -> Any:
    """dask's chunk reader, naming the file when the read fails (runs in dask tasks)."""
    try:
        return _dask_getter(*args, **kwargs)
    except MemoryError:
        raise
    except Exception as err:  # codec, HDF5 and storage errors of this file's chunks
        raise DataSourceError(_read_failure(label, err)) from err


def _read_failure(label: str, err: BaseException) -> str:
    return (
        f"cannot read the data of {label}: {type(err).__name__}: {err}. A chunk of it is "
        "corrupt or truncated (or its storage failed); fetch or write it again"
    )


def _open_path(path: Path, label: str, lazy: bool) -> xr.Dataset:
    """Open a NetCDF file or Zarr store; lazily with checked chunk reads, or loaded."""
    zarr = path.is_dir() or path.suffix == ".zarr"
    try:
        if lazy:  # dask chunks whose reads name the file when they fail
            checked = {"getitem": functools.partial(_checked_getter, label)}
            if zarr:
                ds = xr.open_zarr(path, from_array_kwargs=checked)
            else:
                ds = xr.open_dataset(path, chunks={}, from_array_kwargs=checked)
        else:
            ds = xr.open_zarr(path, chunks=None) if zarr else xr.open_dataset(path)
    except Exception as err:  # any reader failure is the user's file, say so
        raise FieldError(f"cannot open {label} as NetCDF or Zarr: {err}") from None
    if not lazy:
        try:
            ds = ds.load()
        except Exception as err:
            ds.close()
            raise DataSourceError(_read_failure(label, err)) from None
        ds.close()
    return ds


def open_field(
    source: xr.DataArray | xr.Dataset | str | os.PathLike[str],
    variable: str | None = None,
    *,
    lazy: bool = True,
) -> xr.DataArray:
    """Open the field to work on.

    Parameters
    ----------
    source : DataArray, Dataset or path
        A field, a Dataset holding it, a NetCDF file or a Zarr store (folder or ``*.zarr``).
    variable : str, optional
        Variable name; by default the only variable with a ``time`` dimension and at least
        three dimensions that is not a flag.
    lazy : bool
        Open files with dask chunks (Zarr: its own chunks; NetCDF: one chunk) instead of
        loading them.

    Returns
    -------
    xarray.DataArray
        The field; a land/sea mask variable of the dataset (CF ``land_binary_mask`` /
        ``sea_binary_mask``, or ``mask``/``lsm``/``land_mask``/``landmask``; see
        :func:`seainpaint.field.land_from_dataset`) is attached as its ``land`` coordinate.

    Raises
    ------
    InputNotFoundError
        The path does not exist (a ``FileNotFoundError`` too).
    FieldError
        The file cannot be read, or no / several candidate variables, or an unknown name.
    DataSourceError
        A chunk of the data cannot be read, corrupt or truncated (raised when it is read:
        at once with ``lazy=False``, at compute time otherwise).
    """
    if isinstance(source, xr.DataArray):
        return source
    if isinstance(source, xr.Dataset):
        ds, label = source, "the dataset"
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        label = repr(str(path))
        if not path.exists():
            raise InputNotFoundError(f"{path} does not exist")
        ds = _open_path(path, label, lazy)
    else:
        raise FieldError(f"expected a DataArray, Dataset or path, got {type(source).__name__}")
    if variable is None:
        # ancillary variables (flags, standard errors) are named by the field they go with
        ancillary = {
            name
            for v in ds.data_vars
            for name in str(ds[v].attrs.get("ancillary_variables", "")).split()
        }
        candidates = [
            str(v)
            for v in ds.data_vars
            if "time" in ds[v].dims
            and ds[v].ndim >= 3
            and str(v) not in ancillary
            and "flag_values" not in ds[v].attrs
            and "flag_meanings" not in ds[v].attrs
            and not is_land_variable(ds[v])
        ]
        if not candidates and len(ds.data_vars) == 1:
            candidates = [str(next(iter(ds.data_vars)))]  # let the field checks say what is wrong
        if len(candidates) != 1:
            raise FieldError(
                f"{label} holds {sorted(map(str, ds.data_vars))}; name the field with "
                "variable= (--variable)"
            )
        variable = candidates[0]
    if variable not in ds.data_vars:
        raise FieldError(
            f"{label} has no variable {variable!r}; it has {sorted(map(str, ds.data_vars))}"
        )
    return land_from_dataset(ds, ds[variable])
