"""A Zarr store filled one piece of time at a time, that a later run resumes.

The store records, in its ``seainpaint_fetch`` attribute (JSON), what was asked (dataset,
variable, region) and the time intervals already fetched. A new store is built under a
temporary name and renamed when complete, so a failure leaves nothing; an existing store
is completed in place, one fully downloaded piece at a time, so a failure leaves it valid.
A time already in the store is never written twice, and times earlier than its last one
are merged in order.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..conventions import append_history
from ..errors import CopernicusError, OutputExistsError
from ._zarr import remove, replace_into, temp_sibling, to_zarr
from .fetch_args import Interval, merge, subtract

FETCH_ATTR = "seainpaint_fetch"
TIME_ENCODING = {
    "units": "minutes since 1950-01-01 00:00:00",
    "calendar": "proleptic_gregorian",
    "dtype": "int64",
}
#: time steps per Zarr chunk (a day of hourly data)
TIME_CHUNK = 24

__all__ = ["FETCH_ATTR", "ResumableStore"]


def _ns(times: np.ndarray) -> np.ndarray:
    """Times as int64 nanoseconds since 1970 (exact set membership and comparisons)."""
    return np.asarray(times).astype("datetime64[ns]").view("int64")


def _covered(lo: pd.Timestamp, hi: pd.Timestamp, times: np.ndarray) -> Interval | None:
    """The part of ``[lo, hi]`` the source has answered for, given the times it served.

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


def _encoding(ds: xr.Dataset) -> dict[str, Any]:
    var = next(iter(ds.data_vars))
    chunks = (TIME_CHUNK, ds.sizes["latitude"], ds.sizes["longitude"])
    return {"time": TIME_ENCODING, var: {"chunks": chunks}}


class ResumableStore:
    """The Zarr store of one fetch request, new or resumed.

    Parameters
    ----------
    path : Path
        The store.
    request : dict
        What is fetched (``dataset_id``, ``variable``, ``region``, ``dataset_version``); a
        store made for another request is refused.
    overwrite : bool
        Rebuild the store instead of resuming it.

    Raises
    ------
    OutputExistsError
        The store holds another request and ``overwrite`` is false.
    CopernicusError
        The path exists but is not a readable Zarr store.

    Use it as a context manager: on leaving, a new store that was not :meth:`commit`-ted is
    removed.
    """

    def __init__(self, path: Path, request: dict[str, Any], overwrite: bool = False):
        self.path = path
        self.resume = path.exists() and not overwrite
        self.info: dict[str, Any] = {**request, "done": []}
        times = np.array([], dtype="datetime64[ns]")
        if self.resume:
            old, times = self._read(path)
            if not self._same_request(old):
                raise OutputExistsError(
                    f"{path} holds another request ({old.get('dataset_id')}, "
                    f"{old.get('variable')}, region {old.get('region')}); use "
                    "overwrite=True (--overwrite) to replace it, or another path"
                )
            self.info["done"] = old.get("done", [])
        self.target = path if self.resume else temp_sibling(path)
        self.written = self.resume  # whether self.target holds a store
        self.have = set(_ns(times).tolist())

    # ---------------------------------------------------------------- what is left to do

    @property
    def done(self) -> list[Interval]:
        """The time intervals already fetched."""
        return [(pd.Timestamp(a), pd.Timestamp(b)) for a, b in self.info["done"]]

    def missing(self, pieces: list[Interval]) -> list[Interval]:
        """The parts of ``pieces`` not fetched yet."""
        return subtract(pieces, self.done)

    def select(self, da: xr.DataArray, lo: pd.Timestamp, hi: pd.Timestamp):
        """The times of ``da`` in ``[lo, hi]`` that the store lacks, and what they cover.

        Returns
        -------
        (xarray.DataArray, interval or None)
            ``da`` at the new times (still lazy), and the part of ``[lo, hi]`` the source
            answered for (to record with :meth:`write`).
        """
        times = _ns(da["time"].values)
        served = (times >= lo.value) & (times <= hi.value)
        keep = served & np.array([t not in self.have for t in times.tolist()], dtype=bool)
        return da.isel(time=np.flatnonzero(keep)), _covered(lo, hi, times[served])

    # ---------------------------------------------------------------- writing

    def write(
        self, da: xr.DataArray, covered: Interval | None, source_attrs: dict[str, Any]
    ) -> None:
        """Add the loaded data ``da`` and record ``covered`` as fetched."""
        if covered is not None:
            self.info["done"] = [[str(a), str(b)] for a, b in merge([*self.done, covered])]
        if da.sizes["time"]:
            ds = self._as_dataset(da, source_attrs)
            new_times = _ns(ds["time"].values)
            if self.have and new_times.min() <= max(self.have):
                self._insert(ds)
            elif self.written:
                to_zarr(ds, self.target, mode="a", append_dim="time")
            else:
                to_zarr(ds, self.target, mode="w", encoding=_encoding(ds))
            self.written = True
            self.have.update(new_times.tolist())
        if self.written:
            self._write_info()

    def commit(self) -> Path:
        """Move a new store to its place (a resumed one is already there)."""
        if not self.resume:
            replace_into(self.target, self.path, overwrite=True)
        return self.path

    def __enter__(self) -> ResumableStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        if not self.resume and self.target.exists():
            remove(self.target)

    # ---------------------------------------------------------------- helpers

    def _same_request(self, old: dict[str, Any]) -> bool:
        return (
            old.get("dataset_id") == self.info["dataset_id"]
            and old.get("variable") == self.info["variable"]
            and np.allclose(old.get("region", [np.nan] * 4), self.info["region"])
        )

    @staticmethod
    def _read(store: Path) -> tuple[dict[str, Any], np.ndarray]:
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

    def _write_info(self) -> None:
        import zarr

        group = zarr.open_group(self.target, mode="r+")
        group.attrs[FETCH_ATTR] = json.dumps(self.info)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*[Cc]onsolidated metadata.*")
            zarr.consolidate_metadata(self.target)

    def _as_dataset(self, da: xr.DataArray, source_attrs: dict[str, Any]) -> xr.Dataset:
        info = self.info
        ds = da.to_dataset(name=da.name)
        ds.attrs = {k: v for k, v in source_attrs.items() if isinstance(v, (str, int, float))}
        ds.attrs.setdefault("Conventions", "CF-1.8")
        ds.attrs[FETCH_ATTR] = json.dumps(info)
        ds.attrs["history"] = append_history(
            None, f"{info['dataset_id']} {info['variable']} surface, region {info['region']}",
            program="seainpaint.fetch_sst",
        )
        for name in list(ds.variables):
            ds[name].encoding = {}
        return ds

    def _insert(self, new: xr.Dataset) -> None:
        """Merge times earlier than the store's last one: rewrite sorted, atomically."""
        old = xr.open_zarr(self.target, consolidated=True)
        merged = xr.concat(
            [old, new], dim="time", data_vars="all", join="override", combine_attrs="override"
        ).sortby("time")
        merged.attrs = dict(new.attrs)
        merged = merged.chunk({"time": TIME_CHUNK})
        for name in merged.variables:
            merged[name].encoding = {}
        tmp = temp_sibling(self.target)
        try:
            to_zarr(merged, tmp, mode="w", encoding=_encoding(merged))
            old.close()
            replace_into(tmp, self.target, overwrite=True)
        finally:
            if tmp.exists():
                remove(tmp)
