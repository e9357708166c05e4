"""Bundled real sample data: OSTIA monthly SST from the ``iris-sample-data`` package.

The file is read by path with xarray; the package's own code is not needed.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import xarray as xr

from ..errors import DataSourceError

OSTIA_FILE = "ostia_monthly.nc"


def sample_data_dir() -> Path:
    """Folder of the ``iris-sample-data`` files.

    Raises
    ------
    DataSourceError
        If the package is not installed.
    """
    spec = importlib.util.find_spec("iris_sample_data")
    if spec is None or not spec.submodule_search_locations:
        raise DataSourceError(
            "the real OSTIA sample needs the 'iris-sample-data' package: "
            "pip install iris-sample-data"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "sample_data"


def ostia_monthly(
    longitude: tuple[float, float] | None = (20.0, 80.0),
) -> xr.DataArray:
    """Real OSTIA monthly-mean SST (K) with its real land mask (NaN on land).

    54 months from 2006-04 on a 5°S–5°N band at 1/1.2°; by default the sector
    20°–80°E: East African land and the western Indian Ocean.

    Parameters
    ----------
    longitude : (float, float) or None
        Longitude range to keep (degrees east, 0–360), or None for the whole band.

    Returns
    -------
    xarray.DataArray
        ``(time, latitude, longitude)`` float32 named ``sst``, units ``K``.
    """
    path = sample_data_dir() / OSTIA_FILE
    if not path.exists():
        raise DataSourceError(f"{path} is missing from the iris-sample-data package")
    with xr.open_dataset(path) as ds:
        da = ds["surface_temperature"].load()
    if longitude is not None:
        da = da.sel(longitude=slice(*longitude))
    da = da.drop_vars([c for c in da.coords if c not in ("time", "latitude", "longitude")])
    da.name = "sst"
    da.attrs = {
        "standard_name": "sea_surface_temperature",
        "long_name": "OSTIA monthly mean sea surface temperature",
        "units": "K",
        "source": "OSTIA monthly means shipped by the iris-sample-data package",
    }
    return da
