"""Quality benchmark of the inpainting GAN against the baselines (paper §3.4, Table 2b).

Synthetic hourly SST (:func:`seainpaint.synthetic.sst`) is occluded by clouds drawn from a
synthetic liquid water path (:func:`seainpaint.synthetic.lwp`) at the paper's LWP
threshold of 70 g m-2 (mean cover printed). The models train on ``--n-train``
sequences of ``--window`` frames (one continuous series, every sequence with its own cloud
draw) and are tested on ``--n-test`` sequences from another seed (another "region"). Each
test sequence is filled on its own by every method; MAE and RMSE are computed on the
occluded pixels that every method can fill (pixels cloudy during the whole sequence are
left NaN by seainpaint.fill, as land, and are excluded: their share is printed).

Methods: the GAN (adversarial only, as the paper), the GAN with the self-supervised
reconstruction term, the static (frame by frame, no Ds) variant, DINEOF, the
climatological (per-pixel temporal mean) fill and linear interpolation in time.

Run ``python benchmarks/bench_gan.py --minutes 8`` (minutes of training per model). This
is not a test: it prints a table.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import xarray as xr

import seainpaint
from seainpaint import synthetic


def occlude_sequences(
    sst: xr.DataArray, process: seainpaint.OcclusionProcess, window: int, seed: int
) -> xr.DataArray:
    """Occlude ``sst`` with an independent mask draw per sequence of ``window`` frames."""
    n_time, ny, nx = sst.shape
    masks = np.concatenate(
        [
            process.masks((window, ny, nx), seed=seed * 100_000 + i)
            for i in range(n_time // window)
        ]
    )
    obs = sst.where(xr.DataArray(masks, dims=sst.dims))
    obs.attrs = dict(sst.attrs)
    obs.name = sst.name
    return obs


def errors(filled: np.ndarray, truth: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    return (filled - truth)[hidden]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="training budget per model")
    parser.add_argument("--n-train", type=int, default=300)
    parser.add_argument("--n-test", type=int, default=60)
    parser.add_argument("--window", type=int, default=24, help="frames per sequence")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--threshold", type=float, default=70.0, help="LWP threshold, g m-2")
    parser.add_argument("--train-window", type=int, default=8, help="T of training windows")
    parser.add_argument("--patch", type=int, default=32, help="training patch size")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--base", type=int, default=8, help="generator C_base")
    parser.add_argument("--d-base", type=int, default=8, help="discriminator C_base")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--beta1", type=float, default=0.0)
    parser.add_argument("--recon-weight", type=float, default=10.0)
    parser.add_argument("--models", default="gan,gan+recon,static",
                        help="comma-separated subset of gan, gan+recon, static")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    print(f"cores: {len(os.sched_getaffinity(0))}, training budget {args.minutes} min/model")
    w, size = args.window, args.size
    t0 = time.monotonic()
    lwp = synthetic.lwp(n_time=8 * w, size=size, seed=args.seed + 11)
    cloud = seainpaint.Cloud(lwp, threshold=args.threshold)
    train_sst = synthetic.sst(n_time=args.n_train * w, size=size, seed=args.seed + 1)
    test_sst = synthetic.sst(n_time=args.n_test * w, size=size, seed=args.seed + 2)
    train_obs = occlude_sequences(train_sst, cloud, w, seed=1)
    test_obs = occlude_sequences(test_sst, cloud, w, seed=2)
    print(
        f"data: train {dict(train_obs.sizes)}, test {dict(test_obs.sizes)}, synthetic LWP "
        f"cover at {args.threshold:g} g m-2: {cloud.mean_cover:.1%}, occluded in the test "
        f"set: {float(np.isnan(test_obs.values).mean()):.1%} ({time.monotonic() - t0:.0f} s)"
    )

    configs = {
        "gan": dict(recon_weight=0.0),
        "gan+recon": dict(recon_weight=args.recon_weight),
        "static": dict(variant="static", recon_weight=args.recon_weight),
    }
    models: dict[str, tuple[seainpaint.InpaintModel, float]] = {}
    for name in args.models.split(","):
        start = time.monotonic()
        model = seainpaint.train(
            train_obs, process=cloud, max_minutes=args.minutes, window=args.train_window,
            patch=args.patch, batch_size=args.batch_size, base=args.base,
            discriminator_options={"base": args.d_base}, lr=args.lr,
            betas=(args.beta1, 0.999), seed=args.seed, eval_every=25, progress=False,
            **configs[name],
        )
        seconds = time.monotonic() - start
        info = model.config["training"]
        print(
            f"trained {name}: {info['steps']} steps in {seconds:.0f} s, best validation MAE "
            f"{info['best_val_mae']} at step {info['best_step']}"
        )
        models[name] = (model, seconds)

    methods: list[tuple[str, object]] = [(n, m) for n, (m, _) in models.items()]
    methods += [("dineof", "dineof"), ("climatology", "climatology"), ("linear", "linear")]
    errs: dict[str, list[np.ndarray]] = {name: [] for name, _ in methods}
    fill_time = dict.fromkeys(errs, 0.0)
    excluded = total_hidden = 0
    for i in range(args.n_test):
        obs = test_obs.isel(time=slice(i * w, (i + 1) * w))
        truth = test_sst.values[i * w : (i + 1) * w]
        filled = {}
        for name, method in methods:
            start = time.monotonic()
            filled[name] = seainpaint.fill(obs, method).values
            fill_time[name] += time.monotonic() - start
        hidden = np.isnan(obs.values)
        fillable = hidden & np.all([np.isfinite(v) for v in filled.values()], axis=0)
        total_hidden += int(hidden.sum())
        excluded += int((hidden & ~fillable).sum())
        for name in errs:
            errs[name].append(errors(filled[name], truth, fillable))

    print(
        f"\noccluded pixels scored: {total_hidden - excluded} "
        f"({excluded / max(total_hidden, 1):.1%} excluded: cloudy in all {w} frames)"
    )
    dineof_mae = float(np.abs(np.concatenate(errs["dineof"])).mean())
    header = f"{'method':<14}{'MAE (°C)':>10}{'RMSE (°C)':>11}{'MAE/DINEOF':>12}"
    header += f"{'train (s)':>11}{'fill (s)':>10}"
    print(header)
    print("-" * len(header))
    for name, _ in methods:
        e = np.concatenate(errs[name])
        mae, rmse = float(np.abs(e).mean()), float(np.sqrt((e**2).mean()))
        train_s = f"{models[name][1]:.0f}" if name in models else "-"
        print(
            f"{name:<14}{mae:>10.4f}{rmse:>11.4f}{mae / dineof_mae:>12.2f}{train_s:>11}"
            f"{fill_time[name]:>10.1f}"
        )


if __name__ == "__main__":
    main()
