"""Integrity of what seainpaint writes and reads: atomic writes that follow the umask, stale
temporaries cleaned (never a live one), clear errors for corrupt chunks and wrong output
paths. Everything on real files made on disk, corrupted with plain Python."""

from __future__ import annotations

import hashlib
import os
import pickle
import socket
import stat
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

import seainpaint as si
from seainpaint import synthetic
from seainpaint.cli import app
from seainpaint.errors import DataSourceError, OutputExistsError
from seainpaint.io.atomic import atomic_dir, atomic_file, atomic_write, clean_stale, temp_path
from seainpaint.io.stores import open_field

HOST = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:6]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o027])
def umask(request):
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


@pytest.fixture(scope="module")
def filled() -> xr.DataArray:
    land = np.zeros((8, 8), dtype=bool)
    land[:2, :2] = True
    truth = synthetic.sst(6, 8, seed=0, land=land)
    return truth.inpaint.occlude(si.RemovePixel(0.3), seed=0).inpaint.fill("linear")


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# --------------------------------------------------------------------------- umask


def test_products_and_stores_follow_the_umask(umask, filled, tmp_path):
    file_mode, dir_mode = 0o666 & ~umask, 0o777 & ~umask
    product = si.to_netcdf(filled, tmp_path / "sst.nc")
    assert mode(product) == file_mode
    si.to_netcdf(filled, product, overwrite=True)
    assert mode(product) == file_mode

    text = atomic_write(tmp_path / "table.md", lambda p: p.write_text("| a |"))
    assert mode(text) == file_mode

    store = tmp_path / "lwp.zarr"
    from seainpaint.io.pycles import write_lwp_zarr

    lwp = synthetic.sst(3, 8, seed=0).rename("lwp")
    write_lwp_zarr(lwp, store)
    assert mode(store) == dir_mode
    inside = [p for p in store.rglob("*")]
    assert inside and all(mode(p) == (dir_mode if p.is_dir() else file_mode) for p in inside)

    with atomic_dir(tmp_path / "model") as tmp:
        (tmp / "config.json").write_text("{}")
    assert mode(tmp_path / "model") == dir_mode
    assert mode(tmp_path / "model" / "config.json") == file_mode

    from seainpaint.demo import PRETRAINED_DIR

    model = si.InpaintModel.load(PRETRAINED_DIR / "ostia")
    saved = model.save(tmp_path / "saved_model")
    assert mode(saved) == dir_mode
    assert [mode(p) for p in sorted(saved.iterdir())] == [file_mode, file_mode]


# --------------------------------------------------------------------------- temporaries


def test_stale_temporaries_of_dead_writers_are_cleaned_live_ones_kept(filled, tmp_path):
    target = tmp_path / "sst.nc"
    gone = dead_pid()
    stale_file = tmp_path / f".sst.nc.tmp-{gone}-{HOST}-0badc0de.nc"
    stale_file.write_bytes(b"half a product")
    stale_dir = tmp_path / f".sst.nc.tmp-{gone}-{HOST}-0badc0df"
    (stale_dir / "sub").mkdir(parents=True)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live_file = tmp_path / f".sst.nc.tmp-{live.pid}-{HOST}-0badc0e0.nc"
        live_file.write_bytes(b"being written")
        own = tmp_path / f".sst.nc.tmp-{os.getpid()}-{HOST}-0badc0e1.nc"
        own.write_bytes(b"mine, being written")
        elsewhere = "0" * 6 if HOST != "0" * 6 else "1" * 6
        other_host = tmp_path / f".sst.nc.tmp-{gone}-{elsewhere}-0badc0e2"
        other_host.write_bytes(b"another machine's")
        other_target = tmp_path / f".other.nc.tmp-{gone}-{HOST}-0badc0e3.nc"
        other_target.write_bytes(b"another target's")
        foreign = tmp_path / ".sst.nc.x1y2z3.tmp"  # not a name seainpaint makes
        foreign.write_bytes(b"unknown")

        si.to_netcdf(filled, target)

        assert not stale_file.exists() and not stale_dir.exists()
        for kept in (live_file, own, other_host, other_target, foreign):
            assert kept.exists(), kept.name
    finally:
        live.kill()
        live.wait()
    assert clean_stale(target) == [live_file]  # dead now: the next write cleans it
    assert target.exists()


def test_temporary_of_a_killed_writer_is_removed_by_the_next_write(filled, tmp_path):
    target = tmp_path / "sst.nc"
    script = textwrap.dedent(
        f"""
        import os, signal
        from seainpaint.io.atomic import atomic_file
        with atomic_file({str(target)!r}) as tmp:
            tmp.write_bytes(b"half a product")
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(Path(si.__file__).parents[1])}
    proc = subprocess.run([sys.executable, "-c", script], env=env, check=False)
    assert proc.returncode == -9
    left = [p for p in tmp_path.iterdir() if p.name.startswith(".sst.nc.tmp-")]
    assert len(left) == 1 and not target.exists()
    si.to_netcdf(filled, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sst.nc"]


def test_temp_names_carry_target_pid_host_and_suffix(tmp_path):
    name = temp_path(tmp_path / "clip.mp4").name
    assert name.startswith(f".clip.mp4.tmp-{os.getpid()}-{HOST}-") and name.endswith(".mp4")
    assert temp_path(tmp_path / "a.nc") != temp_path(tmp_path / "a.nc")


# --------------------------------------------------------------------------- atomicity


def test_failed_write_leaves_target_and_folder_unchanged(tmp_path):
    target = tmp_path / "out.nc"
    target.write_bytes(b"old product")

    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_file(target, overwrite=True) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("disk full")
    assert target.read_bytes() == b"old product"
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_dir(tmp_path / "store.zarr") as tmp:
            (tmp / "chunk").write_bytes(b"x")
            raise RuntimeError("disk full")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.nc"]


def test_target_created_meanwhile_is_not_clobbered(tmp_path):
    target = tmp_path / "out.nc"
    with pytest.raises(OutputExistsError, match="exists"):
        with atomic_file(target) as tmp:
            tmp.write_bytes(b"ours")
            target.write_bytes(b"someone else's")  # appears while we write
    assert target.read_bytes() == b"someone else's"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.nc"]


def test_folder_replaces_folder_atomically(tmp_path):
    target = tmp_path / "model"
    with atomic_dir(target) as tmp:
        (tmp / "v1").write_text("1")
    with pytest.raises(OutputExistsError, match="overwrite"):
        with atomic_dir(target) as tmp:
            pass
    with atomic_dir(target, overwrite=True) as tmp:
        (tmp / "v2").write_text("2")
    assert [p.name for p in target.iterdir()] == ["v2"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_output_path_of_the_wrong_kind_is_a_clear_error(tmp_path):
    folder = tmp_path / "out.nc"
    folder.mkdir()
    with pytest.raises(OutputExistsError, match=r"out\.nc is an existing folder"):
        atomic_write(folder, lambda p: p.write_text("x"), overwrite=True)
    a_file = tmp_path / "lwp.zarr"
    a_file.write_text("not a store")
    from seainpaint.io._zarr import atomic_zarr

    with pytest.raises(OutputExistsError, match=r"lwp\.zarr is an existing file"):
        atomic_zarr(xr.Dataset({"a": ("x", [1.0])}), a_file, overwrite=True)
    assert a_file.read_text() == "not a store"


def test_cli_fill_into_a_folder_exits_2_with_one_line(filled, tmp_path):
    src = tmp_path / "in.nc"
    filled.drop_vars("inpaint_flag").to_dataset().to_netcdf(src)
    out = tmp_path / "out.nc"
    out.mkdir()
    res = CliRunner().invoke(
        app, ["fill", str(src), "-o", str(out), "--method", "linear", "--overwrite"]
    )
    assert res.exit_code == 2
    assert "out.nc is an existing folder" in res.output
    assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1


# --------------------------------------------------------------------------- corrupt data


def _store(tmp_path: Path) -> tuple[Path, xr.DataArray]:
    truth = synthetic.sst(8, 8, seed=4)
    store = tmp_path / "sst.zarr"
    truth.to_dataset().chunk({"time": 2}).to_zarr(store, consolidated=True)
    return store, truth


def _chunk_files(store: Path, var: str) -> list[Path]:
    return sorted(
        p
        for p in (store / var).rglob("*")
        if p.is_file() and p.name not in ("zarr.json", ".zarray", ".zattrs")
    )


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_zarr_chunk_raises_a_clear_error(tmp_path, damage):
    store, truth = _store(tmp_path)
    chunks = _chunk_files(store, "thetao")
    assert len(chunks) == 4
    bad = chunks[1]
    raw = bad.read_bytes()
    bad.write_bytes(b"\x00garbage!" * 8 if damage == "garbage" else raw[: len(raw) // 2])

    lazy = open_field(store)
    np.testing.assert_array_equal(lazy.isel(time=slice(0, 2)).values, truth.values[:2])
    with pytest.raises(DataSourceError, match=r"sst\.zarr.*corrupt or truncated"):
        lazy.load()
    with pytest.raises(DataSourceError, match=r"sst\.zarr"):
        si.fill(lazy, "linear").compute()
    with pytest.raises(DataSourceError, match=r"sst\.zarr"):
        open_field(store, lazy=False)

    # the graph travels to other processes (dask.distributed) and keeps the translation
    graph = pickle.loads(pickle.dumps(lazy.isel(time=slice(2, 4))))
    with pytest.raises(DataSourceError, match=r"sst\.zarr"):
        graph.compute(scheduler="synchronous")


def test_cli_fill_of_a_corrupt_store_exits_2_with_one_line(tmp_path):
    store, _ = _store(tmp_path)
    _chunk_files(store, "thetao")[2].write_bytes(b"not zstd at all")
    out = tmp_path / "out.nc"
    res = CliRunner().invoke(app, ["fill", str(store), "-o", str(out), "--method", "linear"])
    assert res.exit_code == 2, res.output
    assert "sst.zarr" in res.output and "corrupt or truncated" in res.output
    assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sst.zarr"]  # nothing written


def test_corrupt_netcdf_chunk_raises_a_clear_error(tmp_path):
    truth = synthetic.sst(8, 16, seed=5)
    src = tmp_path / "sst.nc"
    encoding = {"zlib": True, "complevel": 4, "shuffle": False, "chunksizes": (1, 16, 16)}
    truth.to_dataset().to_netcdf(src, encoding={"thetao": encoding})
    raw = bytearray(src.read_bytes())
    at = raw.find(zlib.compress(truth.values[3].astype("<f4").tobytes(), 4))
    assert at > 0  # the deflated chunk of time step 3, as HDF5 stored it
    raw[at + 10 : at + 40] = b"\xff" * 30
    src.write_bytes(bytes(raw))

    lazy = open_field(src)
    np.testing.assert_array_equal(lazy.isel(time=0).values, truth.values[0])
    with pytest.raises(DataSourceError, match=r"sst\.nc.*corrupt or truncated"):
        lazy.load()
    with pytest.raises(DataSourceError, match=r"sst\.nc"):
        open_field(src, lazy=False)
