"""fetch_sst: the copernicusmarine toolbox replaced at its network boundary only.

``copernicusmarine.open_dataset`` is swapped for a stand-in that serves a realistic lazy
Dataset on the product's 1/12 degree grid (thetao (time, depth, latitude, longitude)
float32, degrees_C, NaN land) and raises the toolbox's own exceptions; everything else
(argument building, surface selection, Zarr appends, resume, errors) is the real code.
"""

from __future__ import annotations

import inspect
import os
import socket
import time
from pathlib import Path
from typing import Any

import copernicusmarine
import dask.array as dsa
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from typer.testing import CliRunner

from seainpaint.cli import app
from seainpaint.errors import CopernicusError, DataSourceError, OutputExistsError
from seainpaint.io import copernicus as cm
from seainpaint.io.copernicus import fetch_sst, find_credentials, parse_region

DATASET = "cmems_mod_glo_phy_anfc_0.083deg_PT1H-m"
REAL_OPEN_DATASET = copernicusmarine.open_dataset  # its signature checks our arguments
REGION = (20.0, 20.5, -40.0, -39.5)  # 6 x 6 points of the 1/12 degree grid
DEPTHS = np.array([0.494025, 1.541375, 2.645669], dtype=np.float32)


class FakeToolbox:
    """Stand-in for copernicusmarine.open_dataset serving a GLO12-like hourly dataset."""

    def __init__(
        self,
        first: str = "2018-01-01",
        last: str = "2018-12-31T23:00",
        fail_load_after: str | None = None,
    ) -> None:
        self.times = pd.date_range(first, last, freq="h")
        self.calls: list[dict[str, Any]] = []
        self.fail_load_after = pd.Timestamp(fail_load_after) if fail_load_after else None

    def __call__(self, dataset_id: str, **kw: Any) -> xr.Dataset:
        self.calls.append({"dataset_id": dataset_id, **kw})
        if dataset_id != DATASET:
            raise copernicusmarine.DatasetNotFound(dataset_id)
        if kw["variables"] != ["thetao"]:
            raise copernicusmarine.VariableDoesNotExistInTheDataset(kw["variables"][0])
        lat = (np.arange(-80 * 12, 90 * 12 + 1) / 12.0).astype(np.float32)
        lon = (np.arange(-180 * 12, 180 * 12) / 12.0).astype(np.float32)
        la = lat[(lat >= kw["minimum_latitude"]) & (lat <= kw["maximum_latitude"])]
        lo = lon[(lon >= kw["minimum_longitude"]) & (lon <= kw["maximum_longitude"])]
        if la.size == 0 or lo.size == 0:
            raise copernicusmarine.CoordinatesOutOfDatasetBounds(
                "Some of your subset selection are outside the dataset bounds"
            )
        t = self.times[
            (self.times >= pd.Timestamp(kw["start_datetime"]))
            & (self.times <= pd.Timestamp(kw["end_datetime"]))
        ]
        d = DEPTHS[(DEPTHS >= kw["minimum_depth"]) & (DEPTHS <= kw["maximum_depth"])]
        hours = ((t - pd.Timestamp("2018-01-01")) / pd.Timedelta(hours=1)).to_numpy()
        base = (
            24.0
            + 0.1 * np.sin(hours / 24.0 * 2 * np.pi)[:, None, None, None]
            + 0.01 * d[None, :, None, None]
            + 0.3 * np.cos(la)[None, None, :, None]
            + 0.2 * np.sin(lo)[None, None, None, :]
        ).astype(np.float32)
        base[:, :, -2:, -2:] = np.nan  # land in the north-east corner
        data = dsa.from_array(base, chunks=(max(len(t), 1), 1, len(la), len(lo)))
        if self.fail_load_after is not None and len(t) and t[-1] > self.fail_load_after:

            def boom(block: np.ndarray) -> np.ndarray:
                raise ConnectionError("Connection reset by peer")

            data = data.map_blocks(boom, dtype=np.float32)
        thetao = xr.DataArray(
            data,
            dims=("time", "depth", "latitude", "longitude"),
            attrs={
                "units": "degrees_C",
                "standard_name": "sea_water_potential_temperature",
                "long_name": "Temperature",
                "valid_min": -10.0,
                "valid_max": 40.0,
            },
        )
        return xr.Dataset(
            {"thetao": thetao},
            coords={
                "time": ("time", t.values, {"standard_name": "time", "axis": "T"}),
                "depth": (
                    "depth",
                    d,
                    {"units": "m", "positive": "down", "standard_name": "depth", "axis": "Z"},
                ),
                "latitude": (
                    "latitude",
                    la,
                    {"units": "degrees_north", "standard_name": "latitude", "axis": "Y"},
                ),
                "longitude": (
                    "longitude",
                    lo,
                    {"units": "degrees_east", "standard_name": "longitude", "axis": "X"},
                ),
            },
            attrs={
                "Conventions": "CF-1.8",
                "source": "MOI GLO12",
                "institution": "Mercator Ocean International",
                "title": "hourly mean fields for product GLOBAL_ANALYSIS_FORECAST_PHY_001_024",
            },
        )


@pytest.fixture
def toolbox(monkeypatch: pytest.MonkeyPatch) -> FakeToolbox:
    fake = FakeToolbox()
    monkeypatch.setattr(copernicusmarine, "open_dataset", fake)
    monkeypatch.setenv("COPERNICUSMARINE_SERVICE_USERNAME", "alice")
    monkeypatch.setenv("COPERNICUSMARINE_SERVICE_PASSWORD", "secret")
    return fake


def fetch(
    store: Path, start: str = "2018-01-30", end: str = "2018-02-02", region: Any = REGION, **kw: Any
) -> Path:
    kw.setdefault("check_network", False)
    kw.setdefault("progress", False)
    return fetch_sst(region, start, end, store, **kw)


# ------------------------------------------------------------------------- happy path


def test_exact_toolbox_arguments_and_store(tmp_path: Path, toolbox: FakeToolbox) -> None:
    store = fetch(tmp_path / "sst.zarr")
    assert [c["start_datetime"] for c in toolbox.calls] == [
        pd.Timestamp("2018-01-30").to_pydatetime(),
        pd.Timestamp("2018-02-01").to_pydatetime(),
    ]
    first = toolbox.calls[0]
    assert first == {
        "dataset_id": DATASET,
        "variables": ["thetao"],
        "minimum_longitude": -40.0,
        "maximum_longitude": -39.5,
        "minimum_latitude": 20.0,
        "maximum_latitude": 20.5,
        "minimum_depth": 0.0,
        "maximum_depth": 1.0,
        "start_datetime": pd.Timestamp("2018-01-30").to_pydatetime(),
        "end_datetime": pd.Timestamp("2018-01-31T23:59:59").to_pydatetime(),
        "username": "alice",
        "password": "secret",
    }
    assert toolbox.calls[1]["end_datetime"] == pd.Timestamp("2018-02-02T23:59:59")
    for call in toolbox.calls:  # every argument is one the real toolbox function takes
        inspect.signature(REAL_OPEN_DATASET).bind(**call)

    ds = xr.open_zarr(store)
    sst = ds["thetao"]
    assert sst.dims == ("time", "latitude", "longitude")
    assert sst.dtype == np.float32
    assert sst.shape == (4 * 24, 7, 7)
    t = pd.DatetimeIndex(sst["time"].values)
    assert t[0] == pd.Timestamp("2018-01-30") and t[-1] == pd.Timestamp("2018-02-02T23:00")
    assert t.is_monotonic_increasing and t.is_unique
    assert sst.attrs["units"] == "degrees_C"
    assert sst.attrs["standard_name"] == "sea_water_potential_temperature"
    assert ds["latitude"].attrs["units"] == "degrees_north"
    assert float(ds["depth"]) == pytest.approx(0.494025)  # surface level only, scalar
    # values equal the surface level of what the toolbox served
    ref = toolbox(**toolbox.calls[0])["thetao"].isel(depth=0).load()
    np.testing.assert_array_equal(sst.isel(time=slice(0, 48)).values, ref.values)
    assert np.isnan(sst.values[:, -2:, -2:]).all() and np.isfinite(sst.values[:, :5, :5]).all()
    assert ds.attrs["institution"] == "Mercator Ocean International"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sst.zarr"]


def test_resume_fetches_only_missing_times(tmp_path: Path, toolbox: FakeToolbox) -> None:
    store = tmp_path / "sst.zarr"
    fetch(store, "2018-01-30", "2018-01-31")
    assert len(toolbox.calls) == 1
    toolbox.calls.clear()
    fetch(store, "2018-01-30", "2018-02-02")  # extend: only February is new
    assert [(c["start_datetime"], c["end_datetime"]) for c in toolbox.calls] == [
        (pd.Timestamp("2018-02-01"), pd.Timestamp("2018-02-02T23:59:59"))
    ]
    toolbox.calls.clear()
    fetch(store, "2018-01-30", "2018-02-02")  # nothing missing: no call at all
    assert toolbox.calls == []
    fetch(store, "2018-01-29T12:00", "2018-01-30T05:00")  # earlier times: inserted in order
    t = pd.DatetimeIndex(xr.open_zarr(store)["time"].values)
    assert t.is_unique and t.is_monotonic_increasing
    assert t[0] == pd.Timestamp("2018-01-29T12:00") and len(t) == 12 + 4 * 24
    assert np.all(np.diff(t.values) == np.timedelta64(1, "h"))


def test_resume_asks_again_where_the_product_ended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COPERNICUSMARINE_SERVICE_USERNAME", "alice")
    monkeypatch.setenv("COPERNICUSMARINE_SERVICE_PASSWORD", "secret")
    early = FakeToolbox(last="2018-02-10T23:00")  # e.g. a forecast product on Feb 10
    monkeypatch.setattr(copernicusmarine, "open_dataset", early)
    store = tmp_path / "sst.zarr"
    fetch(store, "2018-02-01", "2018-02-28")
    assert pd.Timestamp(xr.open_zarr(store)["time"].values[-1]) == pd.Timestamp("2018-02-10T23:00")
    later = FakeToolbox()
    monkeypatch.setattr(copernicusmarine, "open_dataset", later)
    fetch(store, "2018-02-01", "2018-02-28")
    assert [(c["start_datetime"], c["end_datetime"]) for c in later.calls] == [
        (pd.Timestamp("2018-02-10T23:00:01"), pd.Timestamp("2018-02-28T23:59:59"))
    ]
    t = pd.DatetimeIndex(xr.open_zarr(store)["time"].values)
    assert len(t) == 28 * 24 and t.is_unique and t[-1] == pd.Timestamp("2018-02-28T23:00")


def test_failed_month_on_resume_leaves_store_valid(
    tmp_path: Path, toolbox: FakeToolbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "sst.zarr"
    fetch(store, "2018-01-30", "2018-01-31")
    failing = FakeToolbox(fail_load_after="2018-02-28T23:00")
    monkeypatch.setattr(copernicusmarine, "open_dataset", failing)
    with pytest.raises(DataSourceError, match="network error.*Connection reset"):
        fetch(store, "2018-01-30", "2018-03-02")
    # February went in, March failed while downloading and left the store as it was
    t = pd.DatetimeIndex(xr.open_zarr(store)["time"].values)
    assert t[-1] == pd.Timestamp("2018-02-28T23:00") and t.is_unique
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sst.zarr"]
    monkeypatch.setattr(copernicusmarine, "open_dataset", toolbox)
    toolbox.calls.clear()
    fetch(store, "2018-01-30", "2018-03-02")
    assert [c["start_datetime"] for c in toolbox.calls] == [pd.Timestamp("2018-03-01")]
    t = pd.DatetimeIndex(xr.open_zarr(store)["time"].values)
    assert t[-1] == pd.Timestamp("2018-03-02T23:00") and t.is_unique


def test_failed_first_fetch_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toolbox: FakeToolbox
) -> None:
    monkeypatch.setattr(
        copernicusmarine, "open_dataset", FakeToolbox(fail_load_after="2018-01-31T23:00")
    )
    with pytest.raises(DataSourceError):
        fetch(tmp_path / "sst.zarr", "2018-01-30", "2018-02-02")
    assert list(tmp_path.iterdir()) == []


def test_overwrite_and_other_request(tmp_path: Path, toolbox: FakeToolbox) -> None:
    store = tmp_path / "sst.zarr"
    fetch(store, "2018-01-30", "2018-01-30")
    wider = (20.0, 21.0, -40.0, -39.5)
    with pytest.raises(OutputExistsError, match="another request"):
        fetch(store, "2018-01-30", "2018-01-30", region=wider)
    fetch(store, "2018-01-31", "2018-01-31", region=wider, overwrite=True)
    sst = xr.open_zarr(store)["thetao"]
    assert sst.sizes["latitude"] == 13
    assert pd.Timestamp(sst["time"].values[0]) == pd.Timestamp("2018-01-31")


# ------------------------------------------------------------------------- error paths


@pytest.mark.parametrize(
    ("region", "match"),
    [
        ("20,25,-40", "four numbers"),
        ("25,20,-40,-35", "S < N"),
        ("a,b,c,d", "four numbers"),
        ((20, 95, -40, -35), "S < N"),
        ((20, 25, -30, -40), "W < E"),
    ],
)
def test_bad_region(region: Any, match: str) -> None:
    with pytest.raises(DataSourceError, match=match):
        parse_region(region)


def test_region_outside_grid(tmp_path: Path, toolbox: FakeToolbox) -> None:
    with pytest.raises(DataSourceError, match="outside the dataset"):
        fetch_sst(
            (-89.5, -89.0, 10, 11),
            "2018-01-01",
            "2018-01-01",
            tmp_path / "s.zarr",
            check_network=False,
            progress=False,
        )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("start", "end", "match"),
    [
        ("2018-02-01", "2018-01-01", "empty time range"),
        ("2018-13-01", "2018-12-01", "bad date"),
        ("yesterday-ish", "2018-12-01", "bad date"),
    ],
)
def test_bad_dates(tmp_path: Path, toolbox: FakeToolbox, start: str, end: str, match: str) -> None:
    with pytest.raises(DataSourceError, match=match):
        fetch(tmp_path / "s.zarr", start, end)
    assert toolbox.calls == [] and list(tmp_path.iterdir()) == []


def test_time_range_without_data(tmp_path: Path, toolbox: FakeToolbox) -> None:
    with pytest.raises(DataSourceError, match="empty time range.*no 'thetao' data"):
        fetch(tmp_path / "s.zarr", "2017-03-01", "2017-03-02")
    assert list(tmp_path.iterdir()) == []


def test_unknown_dataset_and_variable(tmp_path: Path, toolbox: FakeToolbox) -> None:
    with pytest.raises(DataSourceError, match="unknown dataset id 'cmems_nope'"):
        fetch(tmp_path / "s.zarr", dataset_id="cmems_nope")
    with pytest.raises(DataSourceError, match="has no variable 'sst'"):
        fetch(tmp_path / "s.zarr", variable="sst")
    assert list(tmp_path.iterdir()) == []


class RenamedDatasetNotFound(copernicusmarine.DatasetNotFound):
    """A toolbox exception under another name: recognised by its class."""


class DatasetNotFound(Exception):
    """Not the toolbox's class, only its name: not recognised."""


@pytest.mark.parametrize(
    ("exc", "match"),
    [
        (copernicusmarine.InvalidUsernameOrPassword("bad"), "rejected the credentials"),
        (copernicusmarine.DatasetUpdating("x"), "being updated"),
        (RenamedDatasetNotFound("x"), "unknown dataset id"),
        (DatasetNotFound("x"), "toolbox failed"),
        (ConnectionResetError("peer"), "network error"),
        (KeyError("weird"), "toolbox failed"),
        (None, "returned nothing"),
    ],
    ids=["credentials", "updating", "subclass", "same-name", "network", "other", "aborted-none"],
)
def test_every_toolbox_failure_is_a_data_source_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toolbox: FakeToolbox, exc: Any, match: str
) -> None:
    def broken(**kw: Any) -> None:
        if exc is not None:
            raise exc
        return None  # what the toolbox's wrapper returns after click.Abort

    monkeypatch.setattr(copernicusmarine, "open_dataset", broken)
    with pytest.raises(CopernicusError, match=match) as info:
        fetch(tmp_path / "s.zarr")
    assert info.value.__class__.__module__.startswith("seainpaint")
    assert list(tmp_path.iterdir()) == []


def _no_credentials(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    for name in (
        "COPERNICUSMARINE_SERVICE_USERNAME",
        "COPERNICUSMARINE_SERVICE_PASSWORD",
        "COPERNICUS_MARINE_SERVICE_USERNAME",
        "COPERNICUS_MARINE_SERVICE_PASSWORD",
        "COPERNICUSMARINE_CREDENTIALS_DIRECTORY",
        "COPERNICUSMARINE_MYOCEAN_AUTH",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))


def test_missing_credentials_before_any_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toolbox: FakeToolbox
) -> None:
    _no_credentials(monkeypatch, tmp_path / "home")

    def no_network(*a: Any, **k: Any) -> None:
        raise AssertionError("network touched before the credentials check")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    with pytest.raises(DataSourceError, match="copernicusmarine login"):
        fetch_sst(REGION, "2018-01-01", "2018-01-02", tmp_path / "s.zarr", progress=False)
    assert toolbox.calls == [] and not (tmp_path / "s.zarr").exists()


def test_credentials_file_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_credentials(monkeypatch, tmp_path)
    cred = tmp_path / ".copernicusmarine" / ".copernicusmarine-credentials"
    cred.parent.mkdir()
    cred.write_text("W2NyZWRlbnRpYWxzXQ==")
    assert find_credentials() == {"credentials_file": cred}
    monkeypatch.setenv("COPERNICUSMARINE_CREDENTIALS_DIRECTORY", str(tmp_path / "elsewhere"))
    with pytest.raises(DataSourceError, match="copernicusmarine login"):
        find_credentials()
    (tmp_path / ".netrc").write_text("machine auth.marine.copernicus.eu login a password b\n")
    os.chmod(tmp_path / ".netrc", 0o600)
    assert find_credentials() == {"credentials_file": tmp_path / ".netrc"}
    assert find_credentials("u", "p") == {"username": "u", "password": "p"}


def test_offline_fails_fast_with_advice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toolbox: FakeToolbox
) -> None:
    def unreachable(*a: Any, **k: Any) -> Any:
        raise socket.gaierror(-3, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", unreachable)
    t0 = time.monotonic()
    with pytest.raises(DataSourceError, match="offline.*run the same command again"):
        fetch_sst(REGION, "2018-01-01", "2018-01-02", tmp_path / "s.zarr", progress=False)
    assert time.monotonic() - t0 < 30
    assert toolbox.calls == [] and list(tmp_path.iterdir()) == []


def test_hanging_network_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    def hang(*a: Any, **k: Any) -> Any:
        time.sleep(5)
        raise socket.gaierror(-3, "late")

    monkeypatch.setattr(socket, "getaddrinfo", hang)
    t0 = time.monotonic()
    with pytest.raises(DataSourceError, match="cannot reach Copernicus Marine"):
        cm.check_online(timeout=0.5)
    assert time.monotonic() - t0 < 2


# ------------------------------------------------------------------------- CLI


def test_cli_fetch_sst(tmp_path: Path, toolbox: FakeToolbox) -> None:
    runner = CliRunner()
    store = tmp_path / "sst.zarr"
    res = runner.invoke(
        app,
        [
            "fetch-sst",
            "--region",
            "20,20.5,-40,-39.5",
            "--start",
            "2018-01-30",
            "--end",
            "2018-01-30",
            "-o",
            str(store),
            "--no-check-network",
        ],
    )
    assert res.exit_code == 0, res.output
    assert xr.open_zarr(store).sizes["time"] == 24
    bad = runner.invoke(
        app,
        [
            "fetch-sst",
            "--region",
            "20,20.5,-40",
            "--start",
            "2018-01-30",
            "--end",
            "2018-01-30",
            "-o",
            str(tmp_path / "x.zarr"),
        ],
    )
    assert bad.exit_code == 2 and "four numbers" in bad.output


def test_cli_offline_real_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real socket check, on this machine: offline it must fail fast and say why."""
    try:
        cm.check_online(timeout=3)
    except DataSourceError:
        pass
    else:
        pytest.skip("Copernicus Marine is reachable from here")
    monkeypatch.setenv("COPERNICUSMARINE_SERVICE_USERNAME", "alice")
    monkeypatch.setenv("COPERNICUSMARINE_SERVICE_PASSWORD", "secret")
    t0 = time.monotonic()
    res = CliRunner().invoke(
        app,
        [
            "fetch-sst",
            "--region",
            "20,25.25,-40,-34.75",
            "--start",
            "2018-01-01",
            "--end",
            "2018-01-31",
            "-o",
            str(tmp_path / "sst.zarr"),
        ],
    )
    assert time.monotonic() - t0 < 30
    assert res.exit_code == 2 and "offline" in res.output
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------- real fetch


@pytest.mark.network
def test_real_fetch_one_day(tmp_path: Path) -> None:
    try:
        find_credentials()
        cm.check_online(timeout=5)
    except DataSourceError as err:
        pytest.skip(f"no real Copernicus Marine access: {err}")
    day = (pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=10)).strftime("%Y-%m-%d")
    store = fetch_sst((20.0, 20.3, -40.0, -39.7), day, day, tmp_path / "sst.zarr", progress=False)
    sst = xr.open_zarr(store)["thetao"]
    assert sst.sizes["time"] == 24 and sst.dims == ("time", "latitude", "longitude")
    assert 10 < float(sst.mean()) < 35 and sst.attrs["units"] == "degrees_C"
