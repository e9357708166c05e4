"""Hourly sea surface temperature from Copernicus Marine into a Zarr store.

Data come through the official ``copernicusmarine`` toolbox (its Python API,
:func:`copernicusmarine.open_dataset`, which opens the product's ARCO Zarr lazily). The
surface level only, the asked region and time range are fetched one chunk of time (a month
by default) at a time and appended to the store along ``time``, so a year of hourly data
streams with bounded memory:

- a first fetch builds the store under a temporary name and renames it at the end, so a
  failure leaves no partial store;
- re-running on an existing store resumes: the intervals already fetched (recorded in the
  store's ``seainpaint_fetch`` attribute) are skipped, only missing times are requested,
  and a time already in the store is never written twice. Each chunk is fully downloaded
  before anything is written, so a failed chunk leaves the existing store valid.

Credentials are the toolbox's own: the environment variables
``COPERNICUSMARINE_SERVICE_USERNAME``/``COPERNICUSMARINE_SERVICE_PASSWORD`` or the file that
``copernicusmarine login`` writes. Missing credentials and an offline machine are detected
before the toolbox is called, so both fail within seconds with a message saying what to do.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import socket
import time as _time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from netrc import NetrcParseError, netrc
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataSourceError, OutputExistsError
from ._zarr import remove, replace_into, temp_sibling, to_zarr

__all__ = [
    "DEFAULT_DATASET_ID",
    "DEFAULT_VARIABLE",
    "CopernicusError",
    "fetch_sst",
    "find_credentials",
    "parse_region",
]

DEFAULT_DATASET_ID = "cmems_mod_glo_phy_anfc_0.083deg_PT1H-m"
DEFAULT_VARIABLE = "thetao"
#: the product's top level is at 0.494 m; the next one at 1.54 m
SURFACE_MAX_DEPTH = 1.0
AUTH_HOST = "auth.marine.copernicus.eu"
FETCH_ATTR = "seainpaint_fetch"
TIME_ENCODING = {
    "units": "minutes since 1950-01-01 00:00:00",
    "calendar": "proleptic_gregorian",
    "dtype": "int64",
}


class CopernicusError(DataSourceError):
    """Copernicus Marine data could not be fetched (see the message for what to do)."""


class RegionError(CopernicusError, ValueError):
    """The region is malformed or outside the product's grid."""


class TimeRangeError(CopernicusError, ValueError):
    """The dates are malformed or the time range is empty."""


# ----------------------------------------------------------------------- arguments


def parse_region(region: str | Sequence[float]) -> tuple[float, float, float, float]:
    """Parse and check a region ``(south, north, west, east)`` in degrees.

    Parameters
    ----------
    region : str or sequence of 4 floats
        ``"S,N,W,E"`` or ``(S, N, W, E)``; longitudes in [-180, 360].

    Returns
    -------
    tuple of float
        ``(south, north, west, east)``.
    """
    if isinstance(region, str):
        parts = [p for p in region.replace(" ", "").split(",") if p != ""]
    else:
        parts = list(region)
    try:
        south, north, west, east = (float(p) for p in parts)
    except (TypeError, ValueError):
        raise RegionError(
            f"region {region!r} must be four numbers S,N,W,E in degrees, e.g. 20,25.25,-40,-34.75"
        ) from None
    if not all(np.isfinite([south, north, west, east])):
        raise RegionError(f"region {region!r} has a non-finite bound")
    if not -90 <= south < north <= 90:
        raise RegionError(
            f"region latitudes S={south:g}, N={north:g} must satisfy -90 <= S < N <= 90"
        )
    if not (-180 <= west <= 360 and -180 <= east <= 360 and west < east):
        raise RegionError(
            f"region longitudes W={west:g}, E={east:g} must satisfy W < E, within [-180, 360]"
        )
    return south, north, west, east


def _parse_date(value: str | datetime | pd.Timestamp, *, end: bool) -> pd.Timestamp:
    text = value if isinstance(value, str) else None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise TimeRangeError(f"bad date {value!r}: use YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None
    if ts is pd.NaT or pd.isna(ts):
        raise TimeRangeError(f"bad date {value!r}: use YYYY-MM-DD or YYYY-MM-DDTHH:MM")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    if end and text is not None and len(text.strip()) <= 10:
        # a date alone as the end means the whole of that day
        ts = ts + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
    return ts


def _month_pieces(
    start: pd.Timestamp, end: pd.Timestamp, chunk: str
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    freq = {"month": "MS", "week": "W-MON", "day": "D", "year": "YS"}.get(chunk)
    if freq is None:
        raise CopernicusError(f"chunk={chunk!r}: choose 'day', 'week', 'month' or 'year'")
    edges = list(pd.date_range(start.normalize(), end, freq=freq))
    bounds = sorted({start, *[e for e in edges if start < e <= end]})
    pieces = []
    for i, lo in enumerate(bounds):
        hi = bounds[i + 1] - pd.Timedelta(seconds=1) if i + 1 < len(bounds) else end
        pieces.append((lo, hi))
    return pieces


def _subtract(
    pieces: list[tuple[pd.Timestamp, pd.Timestamp]],
    done: list[tuple[pd.Timestamp, pd.Timestamp]],
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """The parts of ``pieces`` not covered by the intervals in ``done``."""
    out = []
    for lo, hi in pieces:
        parts = [(lo, hi)]
        for d_lo, d_hi in done:
            nxt = []
            for p_lo, p_hi in parts:
                if d_hi < p_lo or d_lo > p_hi:
                    nxt.append((p_lo, p_hi))
                    continue
                if p_lo < d_lo:
                    nxt.append((p_lo, d_lo - pd.Timedelta(seconds=1)))
                if d_hi < p_hi:
                    nxt.append((d_hi + pd.Timedelta(seconds=1), p_hi))
            parts = nxt
        out.extend(parts)
    return out


def _merge(
    intervals: list[tuple[pd.Timestamp, pd.Timestamp]],
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    merged: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1] + pd.Timedelta(seconds=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


# ----------------------------------------------------------------------- credentials


def _default_credentials_dir() -> Path:
    env = os.environ.get("COPERNICUSMARINE_CREDENTIALS_DIRECTORY")
    return Path(env) if env else Path.home() / ".copernicusmarine"


def find_credentials(
    username: str | None = None,
    password: str | None = None,
    credentials_file: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Find Copernicus Marine credentials the toolbox's way, without any network call.

    Looked up in order: the arguments; the environment variables
    ``COPERNICUSMARINE_SERVICE_USERNAME``/``COPERNICUSMARINE_SERVICE_PASSWORD``; the
    ``.copernicusmarine-credentials`` file written by ``copernicusmarine login`` (in
    ``$COPERNICUSMARINE_CREDENTIALS_DIRECTORY`` or ``~/.copernicusmarine``); ``~/.netrc`` with
    a Copernicus Marine host; ``COPERNICUSMARINE_MYOCEAN_AUTH``.

    Returns
    -------
    dict
        Keyword arguments for the toolbox (``username``/``password`` or
        ``credentials_file``; empty for a MyOcean token the toolbox reads itself).

    Raises
    ------
    CopernicusError
        No credentials anywhere: run ``copernicusmarine login``.
    """
    if username or password:
        if not (username and password):
            raise CopernicusError("give both a Copernicus Marine username and password")
        return {"username": username, "password": password}
    if credentials_file is not None:
        path = Path(credentials_file).expanduser()
        if not path.is_file():
            raise CopernicusError(f"credentials file {path} does not exist")
        return {"credentials_file": path}
    env_user = os.environ.get("COPERNICUSMARINE_SERVICE_USERNAME") or os.environ.get(
        "COPERNICUS_MARINE_SERVICE_USERNAME"
    )
    env_pass = os.environ.get("COPERNICUSMARINE_SERVICE_PASSWORD") or os.environ.get(
        "COPERNICUS_MARINE_SERVICE_PASSWORD"
    )
    if env_user and env_pass:
        return {"username": env_user, "password": env_pass}
    file = _default_credentials_dir() / ".copernicusmarine-credentials"
    if file.is_file() and file.stat().st_size > 0:
        return {"credentials_file": file}
    netrc_file = Path.home() / ".netrc"
    if netrc_file.is_file():
        try:
            hosts = netrc(netrc_file).hosts
        except (NetrcParseError, OSError):
            hosts = {}
        for host in (AUTH_HOST, "my.cmems-du.eu", "nrt.cmems-du.eu"):
            if host in hosts:
                return {"credentials_file": netrc_file}
    if os.environ.get("COPERNICUSMARINE_MYOCEAN_AUTH"):
        return {}
    raise CopernicusError(
        "no Copernicus Marine credentials found: run `copernicusmarine login` once (it saves "
        f"them in {file}), or set COPERNICUSMARINE_SERVICE_USERNAME and "
        "COPERNICUSMARINE_SERVICE_PASSWORD. Register for free at "
        "https://data.marine.copernicus.eu/register"
    )


# ----------------------------------------------------------------------- network


def _proxy_target() -> tuple[str, int] | None:
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        url = os.environ.get(name)
        if url:
            parsed = urlparse(url if "://" in url else f"http://{url}")
            if parsed.hostname:
                return parsed.hostname, parsed.port or 8080
    return None


def check_online(host: str = AUTH_HOST, port: int = 443, timeout: float = 8.0) -> None:
    """Fail fast when Copernicus Marine cannot be reached (DNS and TCP, bounded time).

    Goes to the HTTPS proxy instead when one is configured, as the toolbox would.

    Raises
    ------
    CopernicusError
        The host (or proxy) does not resolve or does not accept a connection in time.
    """
    target = _proxy_target() or (host, port)
    deadline = _time.monotonic() + timeout

    def connect() -> None:
        infos = socket.getaddrinfo(target[0], target[1], type=socket.SOCK_STREAM)
        last: OSError | None = None
        for family, kind, proto, _, addr in infos:
            left = max(deadline - _time.monotonic(), 0.1)
            try:
                with socket.socket(family, kind, proto) as sock:
                    sock.settimeout(left)
                    sock.connect(addr)
                return
            except OSError as err:
                last = err
        raise last or OSError("no address")

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        pool.submit(connect).result(timeout=timeout)
    except (OSError, concurrent.futures.TimeoutError) as err:
        via = f" through the proxy {target[0]}:{target[1]}" if target[0] != host else ""
        raise CopernicusError(
            f"cannot reach Copernicus Marine ({host}:{port}){via}: {err or 'timed out'}. "
            "You seem to be offline: check the internet connection (or HTTPS_PROXY) and "
            "run the same command again; nothing was written."
        ) from None
    finally:
        pool.shutdown(wait=False)


# ----------------------------------------------------------------------- toolbox call


def _toolbox_open() -> Callable[..., Any]:
    try:
        import copernicusmarine
    except ImportError as err:  # pragma: no cover - a declared dependency
        raise CopernicusError(
            f"the copernicusmarine toolbox is not installed ({err}); pip install copernicusmarine"
        ) from None
    return copernicusmarine.open_dataset


def _explain(err: BaseException, dataset_id: str, variable: str) -> str:
    name = type(err).__name__
    text = str(err).strip().splitlines()[0] if str(err).strip() else name
    hints = {
        "DatasetNotFound": f"unknown dataset id {dataset_id!r}; check it with "
        "`copernicusmarine describe --dataset-id ...`",
        "DatasetVersionNotFound": f"unknown version of dataset {dataset_id!r}",
        "DatasetVersionPartNotFound": f"unknown part of dataset {dataset_id!r}",
        "ProductNotFound": f"unknown product for dataset {dataset_id!r}",
        "VariableDoesNotExistInTheDataset": f"dataset {dataset_id!r} has no variable {variable!r}",
        "CoordinatesOutOfDatasetBounds": "the region or time range is outside the dataset",
        "InvalidUsernameOrPassword": "Copernicus Marine rejected the credentials; run "
        "`copernicusmarine login` again",
        "CredentialsCannotBeNone": "no Copernicus Marine credentials; run `copernicusmarine login`",
        "CouldNotConnectToAuthenticationSystem": "cannot reach the Copernicus Marine "
        "authentication system (offline?); check the connection and run again",
        "WrongDatetimeFormat": "a date was not understood by the toolbox",
        "DatasetUpdating": f"dataset {dataset_id!r} is being updated; try again later",
        "ServiceNotAvailable": "the Copernicus Marine service is not available; try later",
        "NoServiceAvailable": "no Copernicus Marine service can serve this request",
    }
    hint = hints.get(name)
    if hint is None and isinstance(err, (ConnectionError, TimeoutError, OSError)):
        hint = "network error while talking to Copernicus Marine; check the connection"
    if hint is None and "requests" in type(err).__module__:
        hint = "network error while talking to Copernicus Marine; check the connection"
    hint = hint or "the copernicusmarine toolbox failed"
    return f"{hint} ({name}: {text})"


def _call(
    open_dataset: Callable[..., Any], kwargs: dict[str, Any], dataset_id: str, variable: str
) -> xr.Dataset:
    try:
        ds = open_dataset(**kwargs)
    except (KeyboardInterrupt, SystemExit) as err:
        if isinstance(err, SystemExit) and err.code not in (0, None):
            raise CopernicusError(f"the copernicusmarine toolbox exited ({err.code})") from None
        raise
    except Exception as err:  # the toolbox's exceptions share no base class
        raise CopernicusError(_explain(err, dataset_id, variable)) from err
    if ds is None:
        raise CopernicusError(
            "the copernicusmarine toolbox returned nothing (the request was aborted)"
        )
    if not isinstance(ds, xr.Dataset):
        raise CopernicusError(f"the toolbox returned {type(ds).__name__}, not a Dataset")
    return ds


def _surface(ds: xr.Dataset, variable: str, dataset_id: str) -> xr.DataArray:
    if variable not in ds.data_vars:
        raise CopernicusError(
            f"dataset {dataset_id!r} returned no variable {variable!r} (has {sorted(ds.data_vars)})"
        )
    da = ds[variable]
    for dim in ("depth", "elevation"):
        if dim in da.dims:
            if da.sizes[dim] == 0:
                raise CopernicusError(f"dataset {dataset_id!r} returned no surface level")
            da = da.isel({dim: 0})
    for dim in ("latitude", "longitude", "time"):
        if dim not in da.dims:
            raise CopernicusError(
                f"{variable!r} of {dataset_id!r} has dims {da.dims}; expected time, "
                "latitude, longitude"
            )
    if da.sizes["latitude"] == 0 or da.sizes["longitude"] == 0:
        raise RegionError(f"the region is outside the grid of {dataset_id!r} (no grid point)")
    return da.transpose("time", "latitude", "longitude")


# ----------------------------------------------------------------------- store


@dataclass
class _Request:
    dataset_id: str
    variable: str
    region: tuple[float, float, float, float]
    dataset_version: str | None

    def matches(self, info: dict[str, Any]) -> bool:
        return (
            info.get("dataset_id") == self.dataset_id
            and info.get("variable") == self.variable
            and np.allclose(info.get("region", [np.nan] * 4), self.region)
        )


def _read_info(store: Path) -> tuple[dict[str, Any], np.ndarray]:
    try:
        ds = xr.open_zarr(store, consolidated=True)
    except Exception as err:
        raise CopernicusError(
            f"{store} exists but is not a readable Zarr store ({err}); use overwrite=True "
            "(--overwrite) or another path"
        ) from None
    info = json.loads(ds.attrs.get(FETCH_ATTR, "{}"))
    times = ds["time"].values if "time" in ds.coords else np.array([], "datetime64[ns]")
    ds.close()
    return info, times


def _write_info(store: Path, info: dict[str, Any]) -> None:
    import warnings

    import zarr

    group = zarr.open_group(store, mode="r+")
    group.attrs[FETCH_ATTR] = json.dumps(info)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Cc]onsolidated metadata.*")
        zarr.consolidate_metadata(store)


def _as_dataset(da: xr.DataArray, info: dict[str, Any], source_attrs: dict[str, Any]) -> xr.Dataset:
    ds = da.to_dataset(name=da.name)
    ds.attrs = {k: v for k, v in source_attrs.items() if isinstance(v, (str, int, float))}
    ds.attrs.setdefault("Conventions", "CF-1.8")
    ds.attrs[FETCH_ATTR] = json.dumps(info)
    ds.attrs["history"] = (
        f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} seainpaint.fetch_sst: {info['dataset_id']} "
        f"{info['variable']} surface, region {info['region']}"
    )
    for name in list(ds.variables):
        ds[name].encoding = {}
    return ds


def _append(ds: xr.Dataset, store: Path, first: bool) -> None:
    if first:
        encoding = {
            "time": TIME_ENCODING,
            next(iter(ds.data_vars)): {"chunks": (24, ds.sizes["latitude"], ds.sizes["longitude"])},
        }
        to_zarr(ds, store, mode="w", encoding=encoding)
    else:
        to_zarr(ds, store, mode="a", append_dim="time")


def fetch_sst(
    region: str | Sequence[float],
    start: str | datetime,
    end: str | datetime,
    store: str | os.PathLike[str],
    dataset_id: str = DEFAULT_DATASET_ID,
    variable: str = DEFAULT_VARIABLE,
    chunk: str = "month",
    overwrite: bool = False,
    *,
    dataset_version: str | None = None,
    username: str | None = None,
    password: str | None = None,
    credentials_file: str | os.PathLike[str] | None = None,
    check_network: bool = True,
    progress: bool = True,
) -> Path:
    """Fetch hourly surface temperature from Copernicus Marine into a Zarr store.

    Parameters
    ----------
    region : str or (float, float, float, float)
        ``(south, north, west, east)`` in degrees, or ``"S,N,W,E"``.
    start, end : str or datetime
        First and last time (UTC). An end given as a date alone includes that whole day.
    store : str or Path
        Zarr store to create, or to complete when it exists (resume).
    dataset_id : str
        Copernicus Marine dataset (default: GLOBAL_ANALYSISFORECAST_PHY_001_024 hourly,
        ``cmems_mod_glo_phy_anfc_0.083deg_PT1H-m``).
    variable : str
        Variable to fetch (default ``thetao``; its top level, 0.494 m, is kept).
    chunk : {"month", "week", "day", "year"}
        Amount of time fetched and appended at once (bounds memory).
    overwrite : bool
        Rebuild the store from scratch instead of resuming.
    dataset_version, username, password, credentials_file :
        Passed to the toolbox; credentials default to the toolbox's own lookup.
    check_network : bool
        Check quickly that Copernicus Marine is reachable before calling the toolbox.
    progress : bool
        Show a progress bar over the chunks.

    Returns
    -------
    Path
        The store, holding ``variable`` with dims ``(time, latitude, longitude)``.

    Raises
    ------
    CopernicusError
        Bad region or dates, empty time range, missing credentials, offline, unknown
        dataset or variable, region outside the grid, or a store holding another request.
    """
    south, north, west, east = parse_region(region)
    t0 = _parse_date(start, end=False)
    t1 = _parse_date(end, end=True)
    if t1 < t0:
        raise TimeRangeError(f"empty time range: end {t1} is before start {t0}")
    pieces = _month_pieces(t0, t1, chunk)
    store = Path(store).expanduser()
    request = _Request(dataset_id, variable, (south, north, west, east), dataset_version)

    resume = store.exists() and not overwrite
    existing_times = np.array([], dtype="datetime64[ns]")
    info: dict[str, Any] = {
        "dataset_id": dataset_id,
        "variable": variable,
        "region": [south, north, west, east],
        "dataset_version": dataset_version,
        "done": [],
    }
    if resume:
        old_info, existing_times = _read_info(store)
        if not request.matches(old_info):
            raise OutputExistsError(
                f"{store} holds another request ({old_info.get('dataset_id')}, "
                f"{old_info.get('variable')}, region {old_info.get('region')}); use "
                "overwrite=True (--overwrite) to replace it, or another path"
            )
        info["done"] = old_info.get("done", [])
    done = [(pd.Timestamp(a), pd.Timestamp(b)) for a, b in info["done"]]
    todo = _subtract(pieces, done)
    if not todo:
        return store

    credentials = find_credentials(username, password, credentials_file)
    if check_network:
        check_online()
    open_dataset = _toolbox_open()

    target = store if resume else temp_sibling(store)
    first = not resume
    have = set(_ns(existing_times).tolist())
    last_time = max(have) if have else None
    try:
        from tqdm.auto import tqdm

        for lo, hi in tqdm(todo, desc=f"fetch {variable}", unit="chunk", disable=not progress):
            kwargs: dict[str, Any] = {
                "dataset_id": dataset_id,
                "variables": [variable],
                "minimum_longitude": west,
                "maximum_longitude": east,
                "minimum_latitude": south,
                "maximum_latitude": north,
                "minimum_depth": 0.0,
                "maximum_depth": SURFACE_MAX_DEPTH,
                "start_datetime": lo.to_pydatetime(),
                "end_datetime": hi.to_pydatetime(),
                **credentials,
            }
            if dataset_version is not None:
                kwargs["dataset_version"] = dataset_version
            ds = _call(open_dataset, kwargs, dataset_id, variable)
            da = _surface(ds, variable, dataset_id)
            times = _ns(da["time"].values)
            served = (times >= lo.value) & (times <= hi.value)
            covered = _covered(lo, hi, times[served])
            keep = served & np.array([t not in have for t in times.tolist()], dtype=bool)
            da = da.isel(time=np.flatnonzero(keep))
            if covered is not None:
                info["done"] = [[str(a), str(b)] for a, b in _merge([*done, covered])]
            if da.sizes["time"]:
                try:
                    da = da.load()  # download the whole chunk before touching the store
                except Exception as err:
                    raise CopernicusError(_explain(err, dataset_id, variable)) from err
                out = _as_dataset(da, info, ds.attrs)
                new_times = _ns(out["time"].values)
                if last_time is not None and new_times.min() <= last_time:
                    _insert(out, target)
                else:
                    _append(out, target, first)
                first = False
                have.update(new_times.tolist())
                last_time = max(have)
            done = [(pd.Timestamp(a), pd.Timestamp(b)) for a, b in info["done"]]
            if not first:
                _write_info(target, info)
        if first:  # nothing at all was written
            raise TimeRangeError(
                f"empty time range: {dataset_id!r} has no {variable!r} data between {t0} and {t1}"
            )
        if not resume:
            replace_into(target, store, overwrite=True)
    finally:
        if not resume and target.exists():
            remove(target)
    return store


def _covered(
    lo: pd.Timestamp, hi: pd.Timestamp, times: np.ndarray
) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The part of ``[lo, hi]`` the dataset has answered for, given the times it served.

    Up to ``hi`` when the last served time is within one time step of it, else up to the
    last served time (a product still being extended, e.g. a forecast, is asked again for
    the rest next time); None when nothing was served.
    """
    if times.size == 0:
        return None
    t = np.sort(times)
    step = int(np.median(np.diff(t))) if t.size > 1 else 3600 * 10**9
    last = pd.Timestamp(int(t[-1]))
    return (lo, hi) if hi.value - t[-1] < step else (lo, last)


def _ns(times: np.ndarray) -> np.ndarray:
    """Times as int64 nanoseconds since 1970 (exact set membership and comparisons)."""
    return np.asarray(times).astype("datetime64[ns]").view("int64")


def _insert(new: xr.Dataset, store: Path) -> None:
    """Merge times earlier than the store's last one: rewrite sorted, atomically."""
    old = xr.open_zarr(store, consolidated=True)
    merged = xr.concat(
        [old, new], dim="time", data_vars="all", join="override", combine_attrs="override"
    ).sortby("time")
    merged.attrs = dict(new.attrs)
    var = next(iter(new.data_vars))
    merged = merged.chunk({"time": 24})
    for name in merged.variables:
        merged[name].encoding = {}
    tmp = temp_sibling(store)
    try:
        to_zarr(
            merged,
            tmp,
            mode="w",
            encoding={
                "time": TIME_ENCODING,
                var: {"chunks": (24, merged.sizes["latitude"], merged.sizes["longitude"])},
            },
        )
        old.close()
        replace_into(tmp, store, overwrite=True)
    finally:
        if tmp.exists():
            remove(tmp)
