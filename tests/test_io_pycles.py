"""PyCLES LWP reader, Zarr writer and the fetch-lwp command, on real PyCLES output."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from seainpaint.cli import app
from seainpaint.errors import DataSourceError, OutputExistsError, SeainpaintError
from seainpaint.io.pycles import PyclesError, find_run, open_lwp, write_lwp_zarr
from seainpaint.metrics import occlusion_rate
from seainpaint.occlusion import Cloud


def _shared_data() -> Path:
    env = os.environ.get("SEAINPAINT_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "data"


PYCLES = _shared_data() / "pycles"
RUN = PYCLES / "dycoms_rf01" / "Output.DYCOMS_RF01.a1eb4"
NO_RUN = f"real PyCLES output not found at {RUN} (set SEAINPAINT_SHARED_DATA, see docs/data.md)"
needs_pycles = pytest.mark.skipif(not RUN.is_dir(), reason=NO_RUN)


@pytest.fixture(scope="module")
def lwp_all() -> xr.DataArray:
    if not RUN.is_dir():
        pytest.skip(NO_RUN)
    return open_lwp(RUN)


def _fake_run(tmp_path: Path, with_stats: bool = False) -> Path:
    """A run folder with the real namelist (and optionally the real Stats file)."""
    run = tmp_path / "Output.DYCOMS_RF01.fake0"
    (run / "Visualization").mkdir(parents=True)
    shutil.copy(RUN / "DYCOMS_RF01.in", run / "DYCOMS_RF01.in")
    if with_stats:
        (run / "stats").mkdir()
        shutil.copy(RUN / "stats" / "Stats.DYCOMS_RF01.nc", run / "stats")
    return run


# --------------------------------------------------------------------------- reading


@needs_pycles
def test_fields_integration_reproduces_pickled_lwp(lwp_all: xr.DataArray) -> None:
    fields = open_lwp(RUN, source="fields")
    assert fields["time"].values.tolist() == [3600.0, 5400.0]
    pickled = lwp_all.sel(time=fields["time"])
    rel = float(np.abs(fields - pickled).max() / np.abs(pickled).max())
    assert rel < 1e-12
    # independent check on the raw pickle: [x, y] kg m-2 -> [y, x] g m-2
    with open(RUN / "Visualization" / "10003600.pkl", "rb") as fh:
        raw = pickle.load(fh, encoding="latin1")["lwp"]
    np.testing.assert_allclose(fields.sel(time=3600.0).values, raw.T * 1000.0, rtol=1e-12)
    assert not np.allclose(raw, raw.T)  # the transpose matters


@needs_pycles
def test_pickles_layout_units_and_coords(lwp_all: xr.DataArray) -> None:
    da = lwp_all
    assert da.dims == ("time", "y", "x")
    assert da.shape == (95, 64, 64)
    assert da.attrs["units"] == "g m-2"
    assert da.attrs["standard_name"] == "atmosphere_mass_content_of_cloud_liquid_water"
    t = da["time"].values
    assert t[0] == 60.0 and t[-1] == 5700.0 and np.all(np.diff(t) == 60.0)
    assert da["time"].attrs["units"] == "s"
    # cell centres of a 50 m grid (namelist dx = dy = 50 m)
    np.testing.assert_allclose(da["x"].values, 25.0 + 50.0 * np.arange(64))
    np.testing.assert_allclose(da["y"].values, 25.0 + 50.0 * np.arange(64))
    # README: uniform 65 g m-2 at t = 60 s; range 0..133 g m-2 over all frames
    assert abs(float(da.isel(time=0).mean()) - 65.0) < 0.1
    assert 0.0 <= float(da.min()) and 120.0 < float(da.max()) < 140.0


@needs_pycles
def test_domain_mean_matches_stats_timeseries(lwp_all: xr.DataArray) -> None:
    import netCDF4

    with netCDF4.Dataset(RUN / "stats" / "Stats.DYCOMS_RF01.nc") as ds:
        ts = ds.groups["timeseries"]
        t = np.asarray(ts.variables["t"][:])
        stats_lwp = np.asarray(ts.variables["lwp"][:]) * 1000.0
    stats = xr.DataArray(stats_lwp, dims="time", coords={"time": t}).sel(time=lwp_all["time"])
    # Stats uses rho0 (cell centres) instead of rho0_full: max |diff| 0.34 g m-2 (README)
    diff = stats.values - lwp_all.mean(("y", "x")).values
    assert np.abs(diff).max() < 0.4
    assert np.median(diff) > 0  # rho0 at cell centres > rho0_full at the faces above


@needs_pycles
@pytest.mark.parametrize(
    "where", [PYCLES, PYCLES / "dycoms_rf01", RUN, RUN / "Visualization"], ids=str
)
def test_path_forms_and_t_min(where: Path) -> None:
    da = open_lwp(where, t_min=1800)
    assert da.sizes["time"] == 66  # README: 66 frames with t >= 1800 s
    assert float(da["time"][0]) == 1800.0
    assert 34.0 < float(da.mean()) < 45.0


@needs_pycles
def test_t_range_selects_and_empty_range_errors() -> None:
    da = open_lwp(RUN, t_min=600, t_max=900)
    assert da["time"].values.tolist() == [600.0, 660.0, 720.0, 780.0, 840.0, 900.0]
    with pytest.raises(PyclesError, match="no pickles time in"):
        open_lwp(RUN, t_min=9000)
    with pytest.raises(PyclesError, match="no fields time"):
        open_lwp(RUN, source="fields", t_max=1000)


# --------------------------------------------------------------------------- bad input


def test_not_pycles_output(tmp_path: Path) -> None:
    (tmp_path / "something.txt").write_text("hello")
    with pytest.raises(DataSourceError, match="is not PyCLES output"):
        open_lwp(tmp_path)
    with pytest.raises(SeainpaintError, match="does not exist"):
        open_lwp(tmp_path / "missing")
    with pytest.raises(PyclesError, match="is a file"):
        open_lwp(tmp_path / "something.txt")


def test_bad_source_name(tmp_path: Path) -> None:
    with pytest.raises(PyclesError, match="choose 'pickles' or 'fields'"):
        open_lwp(tmp_path, source="stats")


@needs_pycles
def test_pickle_without_lwp(tmp_path: Path) -> None:
    run = _fake_run(tmp_path)
    with open(run / "Visualization" / "10000060.pkl", "wb") as fh:
        pickle.dump({"ql": np.zeros((64, 80))}, fh, protocol=2)
    with pytest.raises(PyclesError, match=r"holds no 'lwp'.*\['ql'\]"):
        open_lwp(run)


@needs_pycles
def test_no_pickles_and_corrupt_pickle(tmp_path: Path) -> None:
    run = _fake_run(tmp_path)
    with pytest.raises(PyclesError, match="no PyCLES pickles found"):
        open_lwp(run)
    (run / "Visualization" / "10000060.pkl").write_bytes(b"not a pickle at all")
    with pytest.raises(PyclesError, match="cannot read PyCLES pickle"):
        open_lwp(run)


@needs_pycles
def test_pickle_with_code_is_refused(tmp_path: Path) -> None:
    run = _fake_run(tmp_path)
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):  # noqa: D105
            return (os.mkdir, (str(marker),))

    with open(run / "Visualization" / "10000060.pkl", "wb") as fh:
        pickle.dump({"lwp": Evil()}, fh, protocol=2)
    with pytest.raises(PyclesError, match="refusing to load"):
        open_lwp(run)
    assert not marker.exists()


@needs_pycles
def test_pickle_running_a_shell_command_is_refused(tmp_path: Path) -> None:
    run = _fake_run(tmp_path)
    marker = tmp_path / "shell-ran"

    class Shell:
        def __reduce__(self):  # noqa: D105
            return (os.system, (f"touch {marker}",))

    with open(run / "Visualization" / "10000060.pkl", "wb") as fh:
        pickle.dump({"lwp": Shell()}, fh, protocol=2)
    with pytest.raises(PyclesError, match=r"refusing to load (posix|os|nt)\.system"):
        open_lwp(run)
    assert not marker.exists()


def _real_pickle_with(run: Path, change) -> Path:
    """Copy a real PyCLES pickle into ``run`` after ``change(lwp)`` edits its LWP."""
    src = RUN / "Visualization" / "10003600.pkl"
    with open(src, "rb") as fh:
        data = pickle.load(fh, encoding="latin1")  # the real file, from the shared data
    lwp = np.array(data["lwp"], dtype=np.float64)
    change(lwp)
    data["lwp"] = lwp
    dest = run / "Visualization" / src.name
    with open(dest, "wb") as fh:
        pickle.dump(data, fh, protocol=2)
    return dest


@needs_pycles
@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (np.inf, r"3 non-finite \(0 NaN, 3 ±inf\)"),
        (np.nan, r"3 non-finite \(3 NaN, 0 ±inf\)"),
        (-1e-3, r"3 negative \(min -0.001 kg m-2\)"),
    ],
)
def test_non_finite_or_negative_lwp_in_a_pickle_is_refused(
    tmp_path: Path, bad: float, expected: str
) -> None:
    run = _fake_run(tmp_path)

    def spoil(lwp: np.ndarray) -> None:
        lwp[5, 7:10] = bad

    path = _real_pickle_with(run, spoil)
    with pytest.raises(PyclesError, match=expected) as info:
        open_lwp(run)
    assert str(path) in str(info.value) and "t = 3600 s" in str(info.value)
    assert "4096 values" in str(info.value)
    ok = _real_pickle_with(run, lambda lwp: None)  # the untouched real file reads fine
    assert float(open_lwp(run).min()) >= 0.0 and ok == path


@needs_pycles
def test_fetch_lwp_of_a_pickle_with_inf_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    run = _fake_run(tmp_path)
    _real_pickle_with(run, lambda lwp: lwp.__setitem__((0, 0), np.inf))
    out = tmp_path / "lwp.zarr"
    res = CliRunner().invoke(app, ["fetch-lwp", str(run), "-o", str(out)])
    assert res.exit_code == 2
    assert "1 non-finite" in res.output and "Traceback" not in res.output
    assert not out.exists() and not any(p.name.startswith(".lwp.zarr") for p in tmp_path.iterdir())


@needs_pycles
def test_nan_in_a_rank_file_is_named_not_taken_for_a_missing_rank(tmp_path: Path) -> None:
    import netCDF4

    run = _fake_run(tmp_path, with_stats=True)
    folder = run / "fields" / "3600"
    folder.mkdir(parents=True)
    for rank in ("0.nc", "1.nc"):
        shutil.copy(RUN / "fields" / "3600" / rank, folder / rank)
    with netCDF4.Dataset(folder / "1.nc", "a") as nc:
        ql = nc.groups["fields"].variables["ql"]
        values = np.asarray(ql[:], dtype=np.float64)
        values[[10, 20]] = np.nan
        ql[:] = values
    with pytest.raises(PyclesError, match=r"1\.nc: ql holds 2 non-finite") as info:
        open_lwp(run, source="fields")
    assert "missing" not in str(info.value)


@needs_pycles
def test_missing_rank_file_is_detected(tmp_path: Path) -> None:
    run = _fake_run(tmp_path, with_stats=True)
    (run / "fields" / "3600").mkdir(parents=True)
    shutil.copy(RUN / "fields" / "3600" / "0.nc", run / "fields" / "3600" / "0.nc")
    with pytest.raises(PyclesError, match="do not cover the global grid"):
        open_lwp(run, source="fields")


@needs_pycles
def test_fields_without_stats_file(tmp_path: Path) -> None:
    run = _fake_run(tmp_path)
    (run / "fields" / "3600").mkdir(parents=True)
    for rank in ("0.nc", "1.nc"):
        shutil.copy(RUN / "fields" / "3600" / rank, run / "fields" / "3600" / rank)
    with pytest.raises(PyclesError, match="no Stats file"):
        open_lwp(run, source="fields")


@needs_pycles
def test_bad_namelist(tmp_path: Path) -> None:
    run = _fake_run(tmp_path)
    (run / "DYCOMS_RF01.in").write_text("{not json")
    with pytest.raises(PyclesError, match="cannot read the PyCLES namelist"):
        find_run(run)
    (run / "DYCOMS_RF01.in").write_text(json.dumps({"meta": {}}))
    with pytest.raises(PyclesError, match="no 'grid' section"):
        find_run(run)


@needs_pycles
def test_several_runs_must_be_chosen(tmp_path: Path) -> None:
    _fake_run(tmp_path)
    other = tmp_path / "Output.DYCOMS_RF01.other"
    (other / "stats").mkdir(parents=True)
    shutil.copy(RUN / "DYCOMS_RF01.in", other)
    with pytest.raises(PyclesError, match="several PyCLES runs"):
        find_run(tmp_path)


# --------------------------------------------------------------------------- writing


@needs_pycles
def test_write_lwp_zarr_roundtrip_atomic(tmp_path: Path, lwp_all: xr.DataArray) -> None:
    da = lwp_all.isel(time=slice(-5, None))
    store = tmp_path / "lwp.zarr"
    write_lwp_zarr(da, store)
    back = xr.open_zarr(store)["lwp"].load()
    xr.testing.assert_identical(back.drop_attrs(deep=False), da.drop_attrs(deep=False))
    assert back.attrs["units"] == "g m-2" and back["time"].attrs["units"] == "s"
    with pytest.raises(OutputExistsError):
        write_lwp_zarr(da.isel(time=[0]), store)
    assert xr.open_zarr(store).sizes["time"] == 5  # untouched
    write_lwp_zarr(da.isel(time=[0]), store, overwrite=True)
    assert xr.open_zarr(store).sizes["time"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lwp.zarr"]  # no temp left


# --------------------------------------------------------------------------- CLI + Cloud


@needs_pycles
def test_fetch_lwp_cli_then_cloud_occludes_sst(tmp_path: Path) -> None:
    from seainpaint import synthetic

    store = tmp_path / "lwp.zarr"
    runner = CliRunner()
    res = runner.invoke(app, ["fetch-lwp", str(PYCLES), "-o", str(store), "--t-min", "1800"])
    assert res.exit_code == 0, res.output
    assert xr.open_zarr(store).sizes["time"] == 66
    again = runner.invoke(app, ["fetch-lwp", str(PYCLES), "-o", str(store)])
    assert again.exit_code == 2 and "exists" in again.output
    bad = runner.invoke(app, ["fetch-lwp", str(tmp_path / "nope"), "-o", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "does not exist" in bad.output

    cloud = Cloud(store, threshold=70)
    # README: mean cover at 70 g m-2 over frames t >= 1800 s is 0.059
    assert abs(cloud.mean_cover - 0.059) < 0.003
    sst = synthetic.sst(n_time=8, size=32, seed=0)
    fractions = [occlusion_rate(sst.inpaint.occlude(cloud, seed=s)) for s in range(3)]
    assert all(0.0 < f < 0.2 for f in fractions)
    thin = Cloud(store, threshold=55)
    assert thin.mean_cover > cloud.mean_cover
