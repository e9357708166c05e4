"""Speed benchmark of filling with the GAN generator (not a test; prints tables).

1. Wall time to fill one 30x64x64 sequence (synthetic hourly SST under ``Cloud``) on the
   CPU through :func:`seainpaint.fill`, for the "fast" generator (default base 16) and the
   paper's architecture (Table 5a, base 32), against DINEOF and linear interpolation in
   time on the same data, and against the paper's 0.5 s on a GPU. The paper's network is
   timed on 3 frames and scaled to 30 (its cost is linear in the number of frames).
2. Throughput (pixels per second) and peak memory filling a dask-chunked 24x512x512
   field read lazily from Zarr, in a fresh process so its peak resident memory is its own.

Networks are untrained: timing does not depend on the weights.

Run: ``python benchmarks/bench_fill.py`` (``--quick`` skips the paper network and uses a
256x256 field for part 2; ``--threads N`` sets torch threads, default all cores).
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

# run from a checkout without installing: make the package importable
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PAPER_GPU_SECONDS = 0.5  # the paper: a 30x64x64 sequence on one GPU


def _rss_mib() -> float:
    """Peak resident memory of this process so far (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _current_rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class NetFiller:
    """A minimal trained-model stand-in: normalise, run the generator, denormalise."""

    def __init__(self, arch: str, *, threads: int | None, window: int = 30, **opts) -> None:
        from seainpaint.inference import GeneratorPredictor
        from seainpaint.nn import build_generator

        self.label = f"gan-{arch}"
        self.predictor = GeneratorPredictor(build_generator({"arch": arch}))
        self.mean, self.scale = 24.0, 2.0
        self.opts = dict(window=window, overlap=8, threads=threads, device="cpu", **opts)

    def normalize(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.scale

    def denormalize(self, x: np.ndarray) -> np.ndarray:
        return x * self.scale + self.mean

    def fill_field(self, da, **options):
        from seainpaint.inference import predict_dataarray

        return predict_dataarray(self.predictor, da, normalize=self.normalize,
                                 denormalize=self.denormalize, fill_value=0.0,
                                 **{**self.opts, **options})


def _cloudy(n_time: int, size: int, seed: int = 0):
    import seainpaint
    from seainpaint import synthetic

    sst = synthetic.sst(n_time=n_time, size=size, seed=seed)
    lwp = synthetic.lwp(n_time=max(n_time, 24), size=min(size, 128), seed=seed + 1)
    return seainpaint.occlude(sst, seainpaint.Cloud(lwp, threshold=70), seed=seed)


def _time(fn, repeat: int) -> float:
    fn()  # warm-up (allocations, oneDNN kernels)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def part_sequence(threads: int | None, quick: bool) -> list[tuple[str, float, str]]:
    """Seconds to fill one 30x64x64 sequence with each method."""
    import seainpaint

    obs = _cloudy(30, 64)
    rows = []
    for n in sorted({1, threads or os.cpu_count() or 1}):
        filler = NetFiller("fast", threads=n)
        sec = _time(lambda f=filler: seainpaint.fill(obs, f).values, 5)
        rows.append((f"GAN fast (base 16), {n} torch thread(s)", sec, "measured"))
    if not quick:
        filler = NetFiller("paper", threads=threads)
        sec3 = _time(lambda: seainpaint.fill(obs.isel(time=slice(0, 3)), filler).values, 1)
        rows.append(("GAN paper (base 32)", sec3 * 10, "3 frames x 10"))
    for name in ("dineof", "linear"):
        try:
            sec = _time(lambda m=name: seainpaint.fill(obs, m).values, 2)
            rows.append((name, sec, "measured"))
        except Exception as err:  # a baseline missing must not hide the others
            rows.append((f"{name} ({type(err).__name__})", float("nan"), "failed"))
    return rows


def part_prepare(path: str, size: int) -> None:
    """Write the cloudy 24 x size x size field to a Zarr store (not timed)."""
    obs = _cloudy(24, size)
    obs.chunk({"time": 24, "latitude": 256, "longitude": 256}).to_dataset(
        name="thetao").to_zarr(path, mode="w")


def part_dask(path: str, threads: int | None, dask_threads: int, tile: int) -> dict:
    """Fill the Zarr field lazily, chunk by chunk; report time, throughput, memory."""
    import dask
    import xarray as xr

    import seainpaint

    obs = xr.open_zarr(path)["thetao"]
    filler = NetFiller("fast", threads=threads, window=24, tile=tile or None, halo=16)
    filled = seainpaint.fill(obs, filler)
    before = _current_rss_mib()
    out = Path(path).with_name(Path(path).stem + "-filled.zarr")
    t0 = time.perf_counter()
    with dask.config.set(scheduler="threads", num_workers=dask_threads):
        filled.drop_vars("inpaint_flag").to_dataset(name="thetao").to_zarr(out, mode="w")
    sec = time.perf_counter() - t0
    check = xr.open_zarr(out)["thetao"]
    n_missing_left = int((check.isnull() & ~seainpaint.land_mask(obs)).sum())
    return {
        "shape": list(obs.shape),
        "chunks": [c[0] for c in obs.chunks],
        "seconds": sec,
        "pixels_per_s": obs.size / sec,
        "rss_before_mib": before,
        "peak_rss_mib": _rss_mib(),
        "field_mib": obs.size * 4 / 2**20,
        "missing_left": n_missing_left,
        "dask_threads": dask_threads,
        "torch_threads": threads,
        "tile": tile or "auto",
    }


def _child(*args: str) -> str:
    cmd = [sys.executable, __file__, *args]
    res = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return res.stdout.strip().splitlines()[-1] if res.stdout.strip() else ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--part", choices=["prepare", "dask"], help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    ap.add_argument("--size", type=int, default=512, help=argparse.SUPPRESS)
    ap.add_argument("--dask-threads", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--tile", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.part == "prepare":
        part_prepare(args.path, args.size)
        return
    if args.part == "dask":
        print(json.dumps(part_dask(args.path, args.threads, args.dask_threads, args.tile)))
        return

    import torch

    cores = os.cpu_count()
    load = os.getloadavg()[0]
    print(f"# bench_fill: {cores} CPU cores, torch {torch.__version__}, "
          f"CUDA {'yes' if torch.cuda.is_available() else 'no'}, load average {load:.1f}")
    print("\n## 1. Fill one 30x64x64 sequence (seainpaint.fill, CPU)\n")
    print(f"| method | seconds | vs paper GPU {PAPER_GPU_SECONDS} s | how |")
    print("|---|---:|---:|---|")
    for name, sec, how in part_sequence(args.threads, args.quick):
        print(f"| {name} | {sec:.3f} | {sec / PAPER_GPU_SECONDS:.2f}x | {how} |")

    size = 256 if args.quick else args.size
    print("\n## 2. Dask-chunked 24xNxN fields from Zarr, chunks 24x256x256 (fast generator)\n")
    print("| field | dask threads | torch threads | tile | seconds | Mpixel/s | peak RSS MiB "
          "| RSS before MiB | field MiB | gaps left |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    n = cores or 1
    runs = [(size, 1, 1), (size, 1, n), (size, n, 1)]
    if not args.quick:  # peak memory should not grow with the field: a smaller one too
        runs.insert(0, (256, 1, 1))
    with tempfile.TemporaryDirectory() as tmp:
        for field, dask_threads, torch_threads in dict.fromkeys(runs):
            store = str(Path(tmp) / f"obs{field}.zarr")
            if not Path(store).exists():
                _child("--part", "prepare", "--path", store, "--size", str(field))
            r = json.loads(_child("--part", "dask", "--path", store, "--threads",
                                  str(torch_threads), "--dask-threads", str(dask_threads)))
            print(f"| 24x{field}x{field} | {dask_threads} | {torch_threads} | {r['tile']} "
                  f"| {r['seconds']:.2f} | {r['pixels_per_s'] / 1e6:.3f} "
                  f"| {r['peak_rss_mib']:.0f} | {r['rss_before_mib']:.0f} "
                  f"| {r['field_mib']:.0f} | {r['missing_left']} |")
    print(f"\nload average after: {os.getloadavg()[0]:.1f} (other processes share the cores)")


if __name__ == "__main__":
    main()
