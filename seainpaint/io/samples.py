"""Bundled real sample data: OSTIA monthly SST with its real land mask.

The 20°E–80°E sector the demo uses ships inside the package (``seainpaint/data/``, 113 kB,
Open Government Licence; provenance in ``seainpaint/data/README.md``), so it works offline
on a fresh install. Other longitudes are read from the full band in the optional
``iris-sample-data`` package, where the shipped file was cut from.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import xarray as xr

from ..errors import DataSourceError

OSTIA_FILE = "ostia_monthly.nc"
SHIPPED_OSTIA = Path(__file__).resolve().parents[1] / "data" / "ostia_monthly_20E-80E.nc"
SHIPPED_LONGITUDE = (20.0, 80.0)


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
            "OSTIA longitudes outside 20-80E need the full band of the 'iris-sample-data' "
            "package: pip install iris-sample-data"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "sample_data"


def _source(longitude: tuple[float, float] | None) -> tuple[Path, str]:
    lo, hi = SHIPPED_LONGITUDE
    if longitude is not None and lo <= min(longitude) and max(longitude) <= hi:
        return SHIPPED_OSTIA, "OSTIA monthly means shipped with seainpaint (from iris-sample-data)"
    path = sample_data_dir() / OSTIA_FILE
    return path, "OSTIA monthly means shipped by the iris-sample-data package"


def ostia_monthly(
    longitude: tuple[float, float] | None = (20.0, 80.0),
) -> xr.DataArray:
    """Real OSTIA monthly-mean SST (K) with its real land mask (NaN on land).

    54 months from 2006-04 on a 5°S–5°N band at 1/1.2°; by default the sector
    20°–80°E: East African land and the western Indian Ocean (shipped with seainpaint).

    Parameters
    ----------
    longitude : (float, float) or None
        Longitude range to keep (degrees east, 0–360), or None for the whole band. Ranges
        outside 20°–80°E need the ``iris-sample-data`` package.

    Returns
    -------
    xarray.DataArray
        ``(time, latitude, longitude)`` float32 named ``sst``, units ``K``.

    Raises
    ------
    DataSourceError
        The data file is missing (or ``iris-sample-data`` is, for other longitudes).
    """
    path, source = _source(longitude)
    if not path.exists():
        raise DataSourceError(f"the OSTIA sample {path} is missing; reinstall seainpaint")
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
        "source": source,
        "license": "British Crown copyright, Open Government Licence v3.0",
    }
    return da
