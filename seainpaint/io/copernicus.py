"""Hourly sea surface temperature from Copernicus Marine into a Zarr store.

Data come through the official ``copernicusmarine`` toolbox (its Python API,
:func:`copernicusmarine.open_dataset`, which opens the product's ARCO Zarr lazily). The
surface level only, the asked region and time range are fetched one chunk of time (a month
by default) at a time and appended to the store along ``time``, so a year of hourly data
streams with bounded memory:

- a first fetch builds the store under a temporary name and renames it at the end, so a
  failure leaves no partial store;
- re-running on an existing store resumes: the intervals already fetched are skipped,
  only missing times are requested, and a time already in the store is never written
  twice. Each chunk is fully downloaded before anything is written, so a failed chunk
  leaves the existing store valid (:mod:`seainpaint.io.fetch_store`).

Arguments are checked before any network call (:mod:`seainpaint.io.fetch_args`). The
toolbox's own exception classes are turned into a :class:`~seainpaint.errors.CopernicusError`
saying what to do.

Credentials are the toolbox's own: the environment variables
``COPERNICUSMARINE_SERVICE_USERNAME``/``COPERNICUSMARINE_SERVICE_PASSWORD`` or the file that
``copernicusmarine login`` writes. Missing credentials and an offline machine are detected
before the toolbox is called, so both fail within seconds with a message saying what to do.
"""

from __future__ import annotations

import concurrent.futures
import os
import socket
import time as _time
from collections.abc import Callable, Sequence
from datetime import datetime
from netrc import NetrcParseError, netrc
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import xarray as xr
from tqdm.auto import tqdm

from ..errors import CopernicusError, RegionError, TimeRangeError
from .fetch_args import parse_date, parse_region, time_pieces
from .fetch_store import ResumableStore

__all__ = [
    "DEFAULT_DATASET_ID",
    "DEFAULT_VARIABLE",
    "CopernicusError",
    "check_online",
    "fetch_sst",
    "find_credentials",
    "parse_region",
]

DEFAULT_DATASET_ID = "cmems_mod_glo_phy_anfc_0.083deg_PT1H-m"
DEFAULT_VARIABLE = "thetao"
#: the product's top level is at 0.494 m; the next one at 1.54 m
SURFACE_MAX_DEPTH = 1.0
AUTH_HOST = "auth.marine.copernicus.eu"


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


def _toolbox() -> Any:
    try:
        import copernicusmarine
    except ImportError as err:  # pragma: no cover - a declared dependency
        raise CopernicusError(
            f"the copernicusmarine toolbox is not installed ({err}); pip install copernicusmarine"
        ) from None
    return copernicusmarine


def _hints(cm: Any, dataset_id: str, variable: str) -> dict[type[BaseException], str]:
    """What to tell the user for each of the toolbox's own exception classes."""
    return {
        cm.DatasetNotFound: f"unknown dataset id {dataset_id!r}; check it with "
        "`copernicusmarine describe --dataset-id ...`",
        cm.DatasetVersionNotFound: f"unknown version of dataset {dataset_id!r}",
        cm.DatasetVersionPartNotFound: f"unknown part of dataset {dataset_id!r}",
        cm.ProductNotFound: f"unknown product for dataset {dataset_id!r}",
        cm.VariableDoesNotExistInTheDataset: f"dataset {dataset_id!r} has no variable "
        f"{variable!r}",
        cm.CoordinatesOutOfDatasetBounds: "the region or time range is outside the dataset",
        cm.InvalidUsernameOrPassword: "Copernicus Marine rejected the credentials; run "
        "`copernicusmarine login` again",
        cm.CredentialsCannotBeNone: "no Copernicus Marine credentials; run "
        "`copernicusmarine login`",
        cm.CouldNotConnectToAuthenticationSystem: "cannot reach the Copernicus Marine "
        "authentication system (offline?); check the connection and run again",
        cm.WrongDatetimeFormat: "a date was not understood by the toolbox",
        cm.DatasetUpdating: f"dataset {dataset_id!r} is being updated; try again later",
        cm.ServiceNotAvailable: "the Copernicus Marine service is not available; try later",
        cm.NoServiceAvailable: "no Copernicus Marine service can serve this request",
        # requests' errors are OSErrors too
        OSError: "network error while talking to Copernicus Marine; check the connection",
    }


def _explain(err: Exception, dataset_id: str, variable: str) -> CopernicusError:
    """The toolbox's (or the network's) exception as a CopernicusError saying what to do."""
    name = type(err).__name__
    text = str(err).strip().splitlines()[0] if str(err).strip() else name
    hints = _hints(_toolbox(), dataset_id, variable)
    hint = next((h for cls, h in hints.items() if isinstance(err, cls)), None)
    return CopernicusError(f"{hint or 'the copernicusmarine toolbox failed'} ({name}: {text})")


def _call(open_dataset: Callable[..., Any], kwargs: dict[str, Any]) -> xr.Dataset:
    dataset_id, variable = kwargs["dataset_id"], kwargs["variables"][0]
    try:
        ds = open_dataset(**kwargs)
    except (KeyboardInterrupt, SystemExit) as err:
        if isinstance(err, SystemExit) and err.code not in (0, None):
            raise CopernicusError(f"the copernicusmarine toolbox exited ({err.code})") from None
        raise
    except Exception as err:  # the toolbox's classes (see _hints), the network's, or a bug
        raise _explain(err, dataset_id, variable) from err
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


# ----------------------------------------------------------------------- fetch


def _open_dataset_args(request: dict[str, Any], lo: Any, hi: Any,
                       credentials: dict[str, Any]) -> dict[str, Any]:
    """The toolbox's ``open_dataset`` arguments for the surface of ``request`` from ``lo``
    to ``hi`` (pandas timestamps)."""
    south, north, west, east = request["region"]
    kwargs: dict[str, Any] = {
        "dataset_id": request["dataset_id"],
        "variables": [request["variable"]],
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
    if request["dataset_version"] is not None:
        kwargs["dataset_version"] = request["dataset_version"]
    return kwargs


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
        Bad region (:class:`~seainpaint.errors.RegionError`) or dates
        (:class:`~seainpaint.errors.TimeRangeError`), empty time range, missing
        credentials, offline, unknown dataset or variable, region outside the grid.
    OutputExistsError
        The store holds another request (and ``overwrite`` is false).
    """
    south, north, west, east = parse_region(region)
    t0 = parse_date(start, end=False)
    t1 = parse_date(end, end=True)
    if t1 < t0:
        raise TimeRangeError(f"empty time range: end {t1} is before start {t0}")
    pieces = time_pieces(t0, t1, chunk)
    store = Path(store).expanduser()
    request = {
        "dataset_id": dataset_id,
        "variable": variable,
        "region": [south, north, west, east],
        "dataset_version": dataset_version,
    }
    with ResumableStore(store, request, overwrite) as out:
        todo = out.missing(pieces)
        if not todo:
            return store
        credentials = find_credentials(username, password, credentials_file)
        if check_network:
            check_online()
        open_dataset = _toolbox().open_dataset
        for lo, hi in tqdm(todo, desc=f"fetch {variable}", unit="chunk", disable=not progress):
            kwargs = _open_dataset_args(request, lo, hi, credentials)
            ds = _call(open_dataset, kwargs)
            da, covered = out.select(_surface(ds, variable, dataset_id), lo, hi)
            if da.sizes["time"]:
                try:
                    da = da.load()  # download the whole chunk before touching the store
                except Exception as err:
                    raise _explain(err, dataset_id, variable) from err
            out.write(da, covered, ds.attrs)
        if not out.written:
            raise TimeRangeError(
                f"empty time range: {dataset_id!r} has no {variable!r} data between {t0} and {t1}"
            )
        return out.commit()
