"""Open a field from a NetCDF file or a Zarr store, choosing the variable."""

from __future__ import annotations

import os
from pathlib import Path

import xarray as xr

from ..errors import FieldError
from ..field import is_land_variable, land_from_dataset


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
    FileNotFoundError
        The path does not exist.
    FieldError
        The file cannot be read, or no / several candidate variables, or an unknown name.
    """
    if isinstance(source, xr.DataArray):
        return source
    if isinstance(source, xr.Dataset):
        ds, label = source, "the dataset"
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        label = repr(str(path))
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist")
        try:
            if path.is_dir() or path.suffix == ".zarr":
                ds = xr.open_zarr(path) if lazy else xr.open_zarr(path).load()
            else:
                ds = xr.open_dataset(path, chunks={} if lazy else None)
        except Exception as err:  # any reader failure is the user's file, say so
            raise FieldError(f"cannot open {label} as NetCDF or Zarr: {err}") from None
    else:
        raise FieldError(f"expected a DataArray, Dataset or path, got {type(source).__name__}")
    if variable is None:
        candidates = [
            str(v)
            for v in ds.data_vars
            if "time" in ds[v].dims
            and ds[v].ndim >= 3
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
