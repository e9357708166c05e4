"""Quality and speed of the baselines on synthetic SST under LWP clouds (not a test).

Synthetic hourly SST (SQG turbulence, with a land corner) is occluded by synthetic LWP
clouds at several thresholds (55, 70 and 80 g m-2 by default; 70 is the paper's
Table 2b), filled by every baseline through :func:`seainpaint.fill`, and scored with
:func:`seainpaint.evaluate`
(MAE / RMSE / bias over the occluded sea as mean ± std over sequences, FID / FVD with
the small random feature networks, spectral and temporal ratios). Fill times are
printed relative to linear interpolation in time, as well as in seconds.

Run: ``python benchmarks/bench_baselines.py`` (``--quick``: 24 frames of 32 x 32 and a
shorter Deep Image Prior; ``--methods a,b`` to choose; ``-o table.md`` to keep the table).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ALL_METHODS = "climatology,linear,dineof,telea,navier_stokes,biharmonic,dip"
METHODS = "climatology,linear,dineof"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--frames", type=int, default=240)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--thresholds", default="55,70,80", help="LWP thresholds, g m-2")
    parser.add_argument("--sequence-length", type=int, default=24)
    parser.add_argument("--methods", default=METHODS, help=f"or 'all' ({ALL_METHODS})")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for dip")
    parser.add_argument("-o", "--output", type=Path)
    args = parser.parse_args()

    import pandas as pd

    import seainpaint
    from seainpaint import synthetic
    from seainpaint.evaluation import print_table, write_table

    frames, size = (24, 32) if args.quick else (args.frames, args.size)
    methods = (ALL_METHODS if args.methods == "all" else args.methods).split(",")
    land = np.zeros((size, size), dtype=bool)
    land[: size // 6, : size // 4] = True
    truth = synthetic.sst(n_time=frames, size=size, seed=0, land=land)
    lwp = synthetic.lwp(n_time=frames, size=size, seed=1)
    options = {"dip": {"num_threads": args.threads, **({"iterations": 150} if args.quick else {})}}
    tables = []
    for threshold in [float(t) for t in args.thresholds.split(",")]:
        obs = seainpaint.occlude(truth, seainpaint.Cloud(lwp, threshold=threshold), seed=0)
        fills, seconds = {}, {}
        for name in methods:
            start = time.perf_counter()
            fills[name] = seainpaint.fill(obs, name, **options.get(name, {}))
            seconds[name] = time.perf_counter() - start
            print(f"threshold {threshold:g}: {name:>14} {seconds[name]:8.2f} s", flush=True)
        table = seainpaint.evaluate(truth, obs, fills, sequence_length=args.sequence_length)
        table["fill time (s)"] = [seconds[m] for m in table.index]
        if "linear" in seconds:
            table["time / linear"] = [seconds[m] / seconds["linear"] for m in table.index]
        table.index = [f"{threshold:g}: {m}" for m in table.index]
        table.index.name = "LWP threshold (g m-2): method"
        tables.append(table)
    table = pd.concat(tables)
    title = (
        f"baselines on synthetic SST {frames}x{size}x{size} under synthetic LWP clouds "
        f"(thresholds {args.thresholds} g m-2)"
    )
    print_table(table, title=title)
    if args.output:
        write_table(table, args.output, overwrite=True)


if __name__ == "__main__":
    main()
