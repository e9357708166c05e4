"""Scale-out benchmark: fill a large Zarr field into a Zarr store with dask.

A cloudy field of ``--frames`` x ``--size`` x ``--size`` (default 240 x 1024 x 1024,
float32, 1 GB; synthetic hourly SST under synthetic clouds, tiled) is written to Zarr in
chunks of ``--chunks``, then filled with the default model (``seainpaint.train`` with its
defaults, a few steps: speed does not depend on the weights) and written to another Zarr
store, twice:

1. on a ``dask.distributed.LocalCluster`` of ``--workers`` process workers (one thread
   each), the way a cluster runs it (the model travels to the workers as plain weights);
2. in one process (dask's threaded scheduler, same number of threads).

Each run happens in a fresh process. It prints wall time, throughput (Mpx/s) and the peak
resident memory per worker (or of the process), and what a global hourly year at 1/12°
(8760 x 2160 x 4320) would cost at that throughput. The two results are checked equal.

Run ``python benchmarks/bench_scale.py`` (about 20-40 minutes on 2 cores);
``--size 512`` for a quicker look. Not a test: it prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

GLOBAL_YEAR = 8760 * 2160 * 4320  # hourly, 1/12 degree, one year


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def make_input(path: Path, frames: int, size: int, chunks: tuple[int, int, int]) -> None:
    """A cloudy synthetic field, tiled to ``size``, written to Zarr in ``chunks``."""
    import xarray as xr

    from seainpaint import synthetic

    base = 64
    sst = synthetic.sst(n_time=frames, size=base, seed=1)
    lwp = synthetic.lwp(n_time=frames, size=base, seed=11)
    reps = (1, -(-size // base), -(-size // base))
    values = np.tile(sst.values, reps)[:, :size, :size]
    clouds = np.tile(lwp.values > 70, reps)[:, :size, :size]
    values[clouds] = np.nan
    lat = np.linspace(20.0, 30.0, size)
    lon = np.linspace(-40.0, -30.0, size)
    da = xr.DataArray(values.astype(np.float32), dims=("time", "latitude", "longitude"),
                      coords={"time": sst.time.values, "latitude": lat, "longitude": lon},
                      name=sst.name, attrs=dict(sst.attrs))
    da.chunk(dict(zip(da.dims, chunks, strict=True))).to_dataset().to_zarr(path, mode="w")


def make_model(path: Path) -> None:
    """The default model architecture (a few training steps) saved to ``path``."""
    import seainpaint
    from seainpaint import synthetic

    sst = synthetic.sst(n_time=120, size=64, seed=1)
    lwp = synthetic.lwp(n_time=120, size=64, seed=11)
    obs = sst.where(lwp.values <= 70)
    obs.name, obs.attrs = sst.name, dict(sst.attrs)
    seainpaint.train(obs, steps=2, progress=False).save(path, overwrite=True)


def run_fill(src: Path, model_dir: Path, out: Path, mode: str, workers: int) -> dict:
    """Fill ``src`` into ``out`` (in this process) and report time and memory."""
    import dask
    import xarray as xr

    import seainpaint
    from seainpaint.io.stores import open_field

    model = seainpaint.InpaintModel.load(model_dir)
    obs = open_field(src)
    start = time.monotonic()
    if mode == "distributed":
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            filled = seainpaint.fill(obs, model)
            filled.drop_vars("inpaint_flag").to_dataset().to_zarr(out, mode="w")
            peaks = client.run(_peak_mib)
        peak = max(peaks.values())
    else:
        with dask.config.set(scheduler="threads", num_workers=workers):
            filled = seainpaint.fill(obs, model)
            filled.drop_vars("inpaint_flag").to_dataset().to_zarr(out, mode="w")
        peak = _peak_mib()
    seconds = time.monotonic() - start
    with xr.open_zarr(out) as ds:
        finite = bool(np.isfinite(ds[obs.name].isel(time=slice(0, 2)).values).all())
    return {"mode": mode, "seconds": seconds, "pixels": int(np.prod(obs.shape)),
            "peak_mib": peak, "chunks": [list(c) for c in obs.chunks], "finite": finite}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=240)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--chunks", default="24,512,512", help="input chunks t,y,x")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--run", nargs=4, metavar=("SRC", "MODEL", "OUT", "MODE"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:  # child process: one fill
        src, model, out, mode = args.run
        print(json.dumps(run_fill(Path(src), Path(model), Path(out), mode, args.workers)))
        return

    chunks = tuple(int(c) for c in args.chunks.split(","))
    with tempfile.TemporaryDirectory(prefix="bench_scale_") as tmp:
        tmp = Path(tmp)
        start = time.monotonic()
        make_input(tmp / "in.zarr", args.frames, args.size, chunks)
        make_model(tmp / "model")
        print(f"input: {args.frames}x{args.size}x{args.size} float32 in chunks {chunks}, "
              f"written in {time.monotonic() - start:.0f} s; cores: "
              f"{len(os.sched_getaffinity(0))}")
        results = []
        for mode in ("distributed", "one-process"):
            out = tmp / f"out-{mode}.zarr"
            cmd = [sys.executable, __file__, "--workers", str(args.workers), "--run",
                   str(tmp / "in.zarr"), str(tmp / "model"), str(out), mode]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode:
                print(proc.stderr[-3000:])
                raise SystemExit(f"{mode} fill failed")
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        import xarray as xr

        with xr.open_zarr(tmp / "out-distributed.zarr") as a, \
                xr.open_zarr(tmp / "out-one-process.zarr") as b:
            name = next(iter(a.data_vars))
            diff = float(abs(a[name] - b[name]).max().compute())
    print(f"\n{'run':<34}{'wall s':>8}{'Mpx/s':>8}{'peak MiB':>10}")
    for r in results:
        label = (f"LocalCluster, {args.workers} process workers" if r["mode"] == "distributed"
                 else f"one process, {args.workers} threads")
        rate = r["pixels"] / r["seconds"] / 1e6
        per = " per worker" if r["mode"] == "distributed" else ""
        print(f"{label:<34}{r['seconds']:>8.0f}{rate:>8.2f}{r['peak_mib']:>10.0f}{per}")
    print(f"max |difference| between the two fills: {diff:.2e} (chunks seen by the fill: "
          f"{[len(c) for c in results[0]['chunks']]} per axis)")
    rate = results[0]["pixels"] / results[0]["seconds"]
    core_hours = GLOBAL_YEAR / rate * args.workers / 3600
    print(f"a global hourly year at 1/12 degree (8760x2160x4320 = {GLOBAL_YEAR / 1e9:.0f} G "
          f"pixels) at this rate: {core_hours:,.0f} core-hours "
          f"({GLOBAL_YEAR / rate / 3600:,.0f} h on these {args.workers} cores)")


if __name__ == "__main__":
    main()
