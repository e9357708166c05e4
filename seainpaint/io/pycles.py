"""Liquid water path (LWP) from PyCLES large-eddy simulation output.

PyCLES (github.com/pressel/pycles) writes, in its run folder ``Output.<simname>.<uuid5>/``:

- ``<case>.in``: the JSON namelist (grid spacing ``grid.dx/dy/dz``, ``meta.casename``, ...);
- ``Visualization/<10000000 + t>.pkl``: pickled dicts holding a 2-D ``lwp`` in kg m-2,
  indexed ``[x, y]``;
- ``fields/<t>/<rank>.nc``: per-MPI-rank 3-D blocks (groups ``dims`` and ``fields``), the
  block flattened in C order of ``(x, y, z)``;
- ``stats/Stats.<simname>.nc``: statistics; its ``reference`` group holds ``rho0_full``, the
  reference density PyCLES uses to integrate LWP = sum_k rho0_full[k] ql[i, j, k] dz.

:func:`open_lwp` turns either source into a ``(time, y, x)`` DataArray in g m-2 with metre
coordinates and the simulation time (float seconds since the start of the run, ``units="s"``:
a plain float coordinate round-trips through Zarr and NetCDF without any calendar decoding).
"""

from __future__ import annotations

import json
import os
import pickle
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import FieldError, OutputExistsError, PyclesError, SeainpaintError
from ._zarr import atomic_zarr

__all__ = ["PyclesError", "PyclesRun", "as_lwp", "find_run", "open_lwp", "write_lwp_zarr"]

PICKLE_OFFSET = 10_000_000
STANDARD_NAME = "atmosphere_mass_content_of_cloud_liquid_water"


@dataclass(frozen=True)
class PyclesRun:
    """Locations and namelist of one PyCLES run folder.

    Attributes
    ----------
    root : Path
        The run folder (``Output.<simname>.<uuid5>``).
    namelist : dict
        The parsed JSON namelist ``<case>.in``.
    namelist_path : Path
        Where the namelist was read from.
    """

    root: Path
    namelist: dict[str, Any]
    namelist_path: Path

    @property
    def grid(self) -> dict[str, Any]:
        """The namelist's ``grid`` section."""
        return self.namelist.get("grid", {})

    @property
    def casename(self) -> str:
        meta = self.namelist.get("meta", {})
        return str(meta.get("casename", self.namelist_path.stem))

    @property
    def simname(self) -> str:
        meta = self.namelist.get("meta", {})
        return str(meta.get("simname", self.casename))

    @property
    def uuid(self) -> str:
        return str(self.namelist.get("meta", {}).get("uuid", ""))

    def spacing(self, axis: str) -> float:
        """Grid spacing ``dx``, ``dy`` or ``dz`` in metres from the namelist."""
        try:
            return float(self.grid[axis])
        except (KeyError, TypeError, ValueError):
            raise PyclesError(f"namelist {self.namelist_path} has no numeric grid.{axis}") from None

    @property
    def visualization_dir(self) -> Path:
        return self.root / "Visualization"

    @property
    def fields_dir(self) -> Path:
        name = self.namelist.get("fields_io", {}).get("fields_dir", "fields")
        return self.root / str(name).strip("/")

    @property
    def stats_path(self) -> Path:
        stats_dir = self.namelist.get("stats_io", {}).get("stats_dir", "stats")
        path = self.root / str(stats_dir).strip("/") / f"Stats.{self.simname}.nc"
        if path.exists():
            return path
        found = sorted((self.root / str(stats_dir).strip("/")).glob("Stats.*.nc"))
        if len(found) == 1:
            return found[0]
        raise PyclesError(
            f"no Stats file found in {path.parent} (expected {path.name}); it holds the "
            "reference density rho0_full needed to integrate the 3-D fields"
        )


def _is_run_dir(path: Path) -> bool:
    return (
        path.is_dir()
        and any(path.glob("*.in"))
        and (
            (path / "Visualization").is_dir()
            or (path / "fields").is_dir()
            or (path / "stats").is_dir()
        )
    )


def find_run(path: str | os.PathLike[str]) -> PyclesRun:
    """Locate a PyCLES run folder from ``path`` and read its namelist.

    Parameters
    ----------
    path : str or Path
        The run folder ``Output.*``, a folder holding exactly one run (searched two levels
        deep), or the run's ``Visualization`` / ``fields`` / ``stats`` folder.

    Returns
    -------
    PyclesRun

    Raises
    ------
    PyclesError
        The path does not exist, holds no PyCLES run, or holds several (name one of them).
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise PyclesError(f"PyCLES output path {str(path)!r} does not exist")
    if not path.is_dir():
        raise PyclesError(
            f"{str(path)!r} is a file; give the PyCLES run folder (Output.<simname>.<id>)"
        )
    candidates: list[Path]
    if _is_run_dir(path):
        candidates = [path]
    elif path.name in ("Visualization", "fields", "stats") and _is_run_dir(path.parent):
        candidates = [path.parent]
    else:
        candidates = sorted(
            {p for p in list(path.glob("*")) + list(path.glob("*/*")) if _is_run_dir(p)}
        )
    if not candidates:
        raise PyclesError(
            f"{str(path)!r} is not PyCLES output: no run folder with a namelist (<case>.in) "
            "and Visualization/, fields/ or stats/ found in it or two levels below"
        )
    if len(candidates) > 1:
        listing = ", ".join(str(c) for c in candidates)
        raise PyclesError(f"{str(path)!r} holds several PyCLES runs; choose one of: {listing}")
    root = candidates[0]
    namelists = sorted(root.glob("*.in"))
    if len(namelists) > 1:
        # prefer the one named after the run (Output.<simname>.<id>)
        parts = root.name.split(".")
        named = [n for n in namelists if len(parts) >= 2 and n.stem == parts[1]]
        namelists = named or namelists
    namelist_path = namelists[0]
    try:
        namelist = json.loads(namelist_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise PyclesError(f"cannot read the PyCLES namelist {namelist_path}: {err}") from None
    if not isinstance(namelist, dict) or "grid" not in namelist:
        raise PyclesError(f"{namelist_path} is not a PyCLES namelist (no 'grid' section)")
    return PyclesRun(root=root, namelist=namelist, namelist_path=namelist_path)


# ------------------------------------------------------------------------ checks


def _check_values(values: np.ndarray, what: str, units: str, where: Path) -> None:
    """Refuse NaN, ±inf and negative liquid water (``what`` of the file ``where``).

    PyCLES's saturation adjustment gives ql >= 0 and its LWP is a sum of non-negative
    terms, so rounding cannot make either negative: any such value is a broken run or a
    damaged file, and it would silently poison thresholds and means downstream.
    """
    nonfinite = int(np.count_nonzero(~np.isfinite(values)))
    negative = int(np.count_nonzero(values < 0))
    if nonfinite or negative:
        problems = []
        if nonfinite:
            n_nan = int(np.count_nonzero(np.isnan(values)))
            problems.append(f"{nonfinite} non-finite ({n_nan} NaN, {nonfinite - n_nan} ±inf)")
        if negative:
            problems.append(f"{negative} negative (min {float(np.nanmin(values)):.3g} {units})")
        raise PyclesError(
            f"{where}: {what} holds {' and '.join(problems)} of {values.size} values; "
            "liquid water is finite and non-negative, so the run or the file is broken"
        )


# ------------------------------------------------------------------------ pickles


class _NumpyUnpickler(pickle.Unpickler):
    """Unpickler that only rebuilds numpy arrays and plain containers (no code runs)."""

    _allowed = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
        ("copy_reg", "_reconstructor"),
        ("copyreg", "_reconstructor"),
        ("__builtin__", "object"),
        ("builtins", "object"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._allowed:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a pickle")
        if module.startswith("numpy.core"):
            module = "numpy._core" + module[len("numpy.core") :]
        elif module == "copy_reg":
            module = "copyreg"
        elif module == "__builtin__":
            module = "builtins"
        return super().find_class(module, name)


def _load_pickle(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            data = _NumpyUnpickler(fh, encoding="latin1").load()
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError) as err:
        raise PyclesError(f"cannot read PyCLES pickle {path}: {err}") from None
    if not isinstance(data, dict):
        raise PyclesError(f"{path} is not a PyCLES Visualization pickle (not a dict)")
    return data


def _pickle_times(vis_dir: Path) -> list[tuple[float, Path]]:
    out = []
    for p in vis_dir.glob("*.pkl"):
        if re.fullmatch(r"\d+", p.stem):
            out.append((float(int(p.stem) - PICKLE_OFFSET), p))
    return sorted(out)


def _lwp_from_pickles(
    run: PyclesRun, times: list[tuple[float, Path]], nx: int | None, ny: int | None
) -> np.ndarray:
    frames = []
    for t, p in times:
        data = _load_pickle(p)
        if "lwp" not in data:
            raise PyclesError(
                f"PyCLES pickle {p} (t = {t:g} s) holds no 'lwp' (keys: {sorted(data)})"
            )
        try:
            lwp = np.asarray(data["lwp"], dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise PyclesError(f"'lwp' in {p} is not a numeric array: {err}") from None
        if lwp.ndim != 2 or (nx is not None and ny is not None and lwp.shape != (nx, ny)):
            raise PyclesError(
                f"'lwp' in {p} has shape {lwp.shape}; expected (nx, ny) = ({nx}, {ny})"
            )
        _check_values(lwp, f"'lwp' (t = {t:g} s)", "kg m-2", p)
        frames.append(lwp.T * 1000.0)  # [x, y] kg m-2 -> [y, x] g m-2
    return np.stack(frames)


# ------------------------------------------------------------------------ 3-D fields


def _rho0_full(run: PyclesRun) -> np.ndarray:
    import netCDF4

    path = run.stats_path
    try:
        with netCDF4.Dataset(path) as ds:
            ref = ds.groups["reference"]
            rho = np.ma.filled(np.ma.asarray(ref.variables["rho0_full"][:], np.float64), np.nan)
    except (OSError, KeyError) as err:
        raise PyclesError(
            f"cannot read reference/rho0_full from the Stats file {path}: {err!r}"
        ) from None
    bad = int(np.count_nonzero(~(np.isfinite(rho) & (rho > 0))))
    if bad:
        raise PyclesError(
            f"{path}: reference/rho0_full holds {bad} missing, non-finite or non-positive "
            f"densities of {rho.size}; the Stats file is broken"
        )
    return rho


def _field_times(fields_dir: Path) -> list[tuple[float, Path]]:
    out = []
    if fields_dir.is_dir():
        for p in fields_dir.iterdir():
            if p.is_dir() and re.fullmatch(r"\d+(\.\d+)?", p.name) and any(p.glob("*.nc")):
                out.append((float(p.name), p))
    return sorted(out)


def read_field(run_or_dir: Path, name: str = "ql") -> np.ndarray:
    """Reassemble one 3-D field ``(x, y, z)`` from PyCLES's per-rank files in a folder.

    Parameters
    ----------
    run_or_dir : Path
        A ``fields/<t>`` folder holding ``<rank>.nc`` files.
    name : str
        Variable of the ``fields`` group (``ql``, ``qt``, ``s``, ``u``, ``v``, ``w``).

    Returns
    -------
    numpy.ndarray
        Float64 array of the global shape ``(n_0, n_1, n_2)``.
    """
    import netCDF4

    files = sorted(Path(run_or_dir).glob("*.nc"), key=lambda p: p.stem)
    if not files:
        raise PyclesError(f"no per-rank field files (<rank>.nc) in {run_or_dir}")
    full: np.ndarray | None = None
    seen: np.ndarray | None = None
    for f in files:
        try:
            with netCDF4.Dataset(f) as ds:
                dims = ds.groups["dims"]
                n = [int(dims.variables[f"n_{i}"][0]) for i in range(3)]
                nl = [int(dims.variables[f"nl_{i}"][0]) for i in range(3)]
                lo = [int(dims.variables[f"indx_lo_{i}"][0]) for i in range(3)]
                flat = np.asarray(ds.groups["fields"].variables[name][:], dtype=np.float64)
        except (OSError, KeyError, IndexError) as err:
            raise PyclesError(
                f"{f} is not a PyCLES per-rank field file with {name!r}: {err!r}"
            ) from None
        if flat.size != nl[0] * nl[1] * nl[2]:
            raise PyclesError(f"{f}: {name} has {flat.size} values, expected {nl}")
        if name == "ql":
            _check_values(flat, "ql", "kg kg-1", f)
        if full is None or seen is None:
            full = np.full(n, np.nan)
            seen = np.zeros(n, dtype=bool)
        block = tuple(slice(lo[i], lo[i] + nl[i]) for i in range(3))
        full[block] = flat.reshape(nl)
        seen[block] = True
    assert full is not None and seen is not None
    if not seen.all():
        raise PyclesError(
            f"the rank files in {run_or_dir} do not cover the global grid {full.shape} "
            f"(found {[p.name for p in files]}); is a rank file missing?"
        )
    return full


def _lwp_from_fields(run: PyclesRun, times: list[tuple[float, Path]]) -> np.ndarray:
    rho0_full = _rho0_full(run)
    dz = run.spacing("dz")
    frames = []
    for _, folder in times:
        ql = read_field(folder, "ql")
        if ql.shape[2] != rho0_full.size:
            raise PyclesError(
                f"{folder}: ql has {ql.shape[2]} levels but rho0_full has {rho0_full.size}"
            )
        lwp = np.sum(ql * rho0_full[None, None, :], axis=2) * dz  # (x, y) kg m-2
        frames.append(lwp.T * 1000.0)
    return np.stack(frames)


# ------------------------------------------------------------------------ public API


def _is_lwp_store(path: Path) -> bool:
    """A Zarr store or NetCDF file (not a PyCLES run folder)."""
    zarr_meta = (".zgroup", "zarr.json", ".zmetadata")
    return path.suffix in (".nc", ".zarr") or any((path / m).is_file() for m in zarr_meta)


def as_lwp(lwp: xr.DataArray | str | Path) -> tuple[xr.DataArray, str | None]:
    """An LWP DataArray ``(time, y, x)`` in g m-2 from a DataArray or a Zarr/NetCDF store.

    Stores are those :func:`write_lwp_zarr` (``seainpaint fetch-lwp``)
    writes, or any Zarr store / NetCDF file holding one ``lwp`` variable (or a single
    variable). LWP in ``kg m-2`` is converted to g m-2. The returned source is the store's
    absolute path (``None`` for an in-memory array), so a recorded process can be rebuilt
    from another working directory. :class:`seainpaint.Cloud` reads its LWP through this.
    """
    source = None
    if isinstance(lwp, (str, Path)):
        path = Path(lwp).expanduser()
        source = str(path.resolve())
        if not path.exists():
            raise SeainpaintError(f"LWP store {str(lwp)!r} does not exist")
        try:
            if path.is_dir():
                ds = xr.open_zarr(path)
            else:
                ds = xr.open_dataset(path)
        except Exception as err:  # any reader failure is the user's file: say which
            raise SeainpaintError(
                f"cannot read LWP store {str(lwp)!r} as Zarr or NetCDF ({err}); a PyCLES run "
                "folder is read with seainpaint.open_lwp / seainpaint fetch-lwp"
            ) from None
        if "lwp" in ds.data_vars:
            lwp = ds["lwp"]
        elif len(ds.data_vars) == 1:
            lwp = next(iter(ds.data_vars.values()))
        else:
            raise SeainpaintError(
                f"LWP store {str(lwp)!r} has variables {list(ds.data_vars)}; expected 'lwp'"
            )
    if not isinstance(lwp, xr.DataArray):
        raise SeainpaintError(f"Cloud needs an LWP DataArray or store path, got {type(lwp)}")
    if lwp.ndim != 3 or "time" not in lwp.dims:
        raise FieldError(f"LWP must have dims (time, y, x); got {lwp.dims}")
    if lwp.sizes["time"] < 1:
        raise FieldError("LWP has no time steps")
    units = str(lwp.attrs.get("units", "g m-2")).replace("**", "").replace("^", "").strip()
    if units in ("kg m-2", "kg/m2"):
        lwp = (lwp * 1000.0).assign_attrs({**lwp.attrs, "units": "g m-2"})
    elif units not in ("g m-2", "g/m2", "g.m-2", ""):
        raise FieldError(f"LWP units {lwp.attrs.get('units')!r}: expected 'g m-2' or 'kg m-2'")
    return lwp, source


def open_lwp(
    path: str | os.PathLike[str],
    source: str = "pickles",
    t_min: float | None = None,
    t_max: float | None = None,
) -> xr.DataArray:
    """Read the liquid water path of a PyCLES run.

    Parameters
    ----------
    path : str or Path
        The run folder ``Output.<simname>.<id>``, a folder holding one run, the run's
        ``Visualization`` folder, or an LWP store written by :func:`write_lwp_zarr`
        (``seainpaint fetch-lwp``), read back as written.
    source : {"pickles", "fields"}
        ``"pickles"`` reads the ``lwp`` of the Visualization pickles (every output step);
        ``"fields"`` integrates the 3-D ``ql`` of ``fields/<t>/<rank>.nc`` as
        sum_k ql * rho0_full * dz, rho0_full from the Stats file's ``reference`` group
        (PyCLES's own formula; only the steps with 3-D output).
    t_min, t_max : float, optional
        Keep simulation times (seconds) in ``[t_min, t_max]``; e.g. ``t_min=1800`` keeps
        the developed cloud field of a DYCOMS run after spin-up.

    Returns
    -------
    xarray.DataArray
        ``lwp`` with dims ``(time, y, x)`` in g m-2; ``time`` in seconds since the start of
        the simulation (float, ``units="s"``), ``y`` and ``x`` cell-centre positions in
        metres. Pickles and fields are indexed ``[x, y]`` by PyCLES and transposed here.

    Raises
    ------
    PyclesError
        Not PyCLES output, no data of the chosen source, a pickle without ``lwp``, no time
        in the asked range, NaN/inf/negative liquid water.

    Notes
    -----
    Pickles are read with a restricted unpickler that rebuilds numpy arrays and plain
    containers only: a pickle that would run code (``os.system`` ...) is refused.
    NaN, ±inf or negative LWP (or ``ql``) raise :class:`PyclesError` naming the file and
    the count: liquid water is finite and non-negative, and PyCLES's own formula (a sum of
    non-negative terms) cannot round below zero, so such values mean a broken run or file.
    """
    if source not in ("pickles", "fields"):
        raise PyclesError(f"source={source!r}: choose 'pickles' or 'fields'")
    if _is_lwp_store(Path(path)):  # what `seainpaint fetch-lwp` / write_lwp_zarr wrote
        return as_lwp(path)[0].load().sel(time=slice(t_min, t_max))
    run = find_run(path)
    nx = int(run.grid.get("nx", 0)) or None
    ny = int(run.grid.get("ny", 0)) or None
    dx, dy = run.spacing("dx"), run.spacing("dy")
    times = _select_times(run, source, t_min, t_max)
    if source == "pickles":
        values = _lwp_from_pickles(run, times, nx, ny)
    else:
        values = _lwp_from_fields(run, times)
    return _lwp_dataarray(values, [t for t, _ in times], (dy, dx), run, source)


def _select_times(run: PyclesRun, source: str, t_min: float | None,
                  t_max: float | None) -> list[tuple[float, Path]]:
    """The (time, file) pairs of ``source`` with a time in ``[t_min, t_max]``."""
    if source == "pickles":
        times = _pickle_times(run.visualization_dir)
        where = run.visualization_dir
    else:
        times = _field_times(run.fields_dir)
        where = run.fields_dir
    if not times:
        raise PyclesError(
            f"no PyCLES {source} found in {where}"
            + (
                " (expected <10000000+t>.pkl files)"
                if source == "pickles"
                else " (expected <t>/<rank>.nc folders)"
            )
        )
    available = [t for t, _ in times]
    times = [
        (t, p) for t, p in times if (t_min is None or t >= t_min) and (t_max is None or t <= t_max)
    ]
    if not times:
        raise PyclesError(
            f"no {source} time in [{t_min}, {t_max}] s; available: "
            f"{available[0]:g} to {available[-1]:g} s"
        )
    return times


def _lwp_dataarray(values: np.ndarray, times: list[float], spacing: tuple[float, float],
                   run: PyclesRun, source: str) -> xr.DataArray:
    """LWP ``(time, y, x)`` in g m-2 with metre coordinates (``spacing`` = dy, dx) and
    the run's description."""
    dy, dx = spacing
    n_y, n_x = values.shape[1:]
    y = (np.arange(n_y) + 0.5) * dy
    x = (np.arange(n_x) + 0.5) * dx
    return xr.DataArray(
        values,
        dims=("time", "y", "x"),
        coords={
            "time": (
                "time",
                np.array(times, dtype=np.float64),
                {
                    "units": "s",
                    "long_name": "simulation time since the start of the run",
                    "axis": "T",
                },
            ),
            "y": (
                "y",
                y,
                {
                    "units": "m",
                    "long_name": "y distance (cell centre)",
                    "axis": "Y",
                    "standard_name": "projection_y_coordinate",
                },
            ),
            "x": (
                "x",
                x,
                {
                    "units": "m",
                    "long_name": "x distance (cell centre)",
                    "axis": "X",
                    "standard_name": "projection_x_coordinate",
                },
            ),
        },
        name="lwp",
        attrs={
            "standard_name": STANDARD_NAME,
            "long_name": "liquid water path",
            "units": "g m-2",
            "source": f"PyCLES large-eddy simulation, case {run.casename}",
            "pycles_casename": run.casename,
            "pycles_simname": run.simname,
            "pycles_uuid": run.uuid,
            "pycles_lwp_source": source,
            "grid_dx_m": dx,
            "grid_dy_m": dy,
            "grid_dz_m": run.spacing("dz"),
            "comment": (
                "LWP = sum_k rho0_full[k] * ql[k] * dz, as computed by PyCLES; "
                "converted from kg m-2 and transposed from PyCLES's [x, y] indexing"
            ),
        },
    )


def write_lwp_zarr(da: xr.DataArray, path: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """Write an LWP DataArray to a Zarr store atomically.

    The store is built under a temporary name in the same folder and renamed into place,
    so ``path`` is either absent, the old store, or the complete new store.

    Parameters
    ----------
    da : xarray.DataArray
        LWP ``(time, y, x)``, e.g. from :func:`open_lwp`.
    path : str or Path
        Zarr store to write.
    overwrite : bool
        Replace an existing store.

    Returns
    -------
    Path
        The written store.
    """
    path = Path(path).expanduser()
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} exists; pass overwrite=True (--overwrite) to replace it")
    ds = da.rename("lwp").to_dataset()
    ds.attrs = {
        "Conventions": "CF-1.10",
        "title": f"Liquid water path from PyCLES ({da.attrs.get('pycles_casename', 'LES')})",
        "source": da.attrs.get("source", "PyCLES"),
    }
    atomic_zarr(ds, path, overwrite)
    return path
