"""Does the paper's adversarial game learn? ``train(obs, loss="paper")`` on hourly SST.

Synthetic hourly SST (:func:`seainpaint.synthetic.sst`, 480 frames of 64x64) under
synthetic clouds at an LWP threshold of 70 g m-2 (about 37 % cloud, the paper's training
setting). For each generator, ``seainpaint.train(obs[:420], loss="paper", arch=...)``
runs for ``--minutes``: the paper's loss alone (hinge, Df and Ds, Adam 1e-4, betas
(0, 0.999), spectral normalisation), no reconstruction term. The training validates on
held-out windows of the last tenth of the training frames (observed pixels hidden again;
no truth) every ``--eval-every`` steps; this prints that curve with the evidence of the
game at each point: Df and Ds accuracy (0.5 = chance), the norm of the gradient reaching
G and the adversarial loss. Then the last 60 frames (never trained on) are filled by the
kept model and scored against the truth, beside linear interpolation in time.

- ``arch="fast"`` starts as the interpolation in time (its correction head starts at zero)
  — the question is whether the game moves it *below* its step 0;
- ``arch="paper"`` is the paper's generator (appendix B) from scratch, ``--paper-base``
  channels (the paper's 32 is several seconds a step on 2 CPU cores; 8 by default here).

Run ``python benchmarks/bench_paper_gan.py`` (``--minutes 10`` per generator by default,
about 25 minutes on 2 cores). Not a test: it prints tables.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import xarray as xr

import seainpaint
from seainpaint import synthetic

N_TIME, N_TRAIN, SIZE = 480, 420, 64


def data(threshold: float, seed: int) -> tuple[xr.DataArray, xr.DataArray]:
    sst = synthetic.sst(n_time=N_TIME, size=SIZE, seed=seed)
    lwp = synthetic.lwp(n_time=N_TIME, size=SIZE, seed=seed + 10)
    obs = sst.where(xr.DataArray(lwp.values <= threshold, dims=sst.dims))
    obs.attrs = dict(sst.attrs)
    obs.name = sst.name
    return sst, obs


def mae(filled: xr.DataArray, truth: xr.DataArray, hidden: np.ndarray) -> float:
    return float(np.nanmean(np.abs(filled.values - truth.values)[hidden]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="training per generator")
    parser.add_argument("--threshold", type=float, default=70.0)
    parser.add_argument("--archs", default="fast,paper")
    parser.add_argument("--paper-base", type=int, default=8)
    parser.add_argument("--eval-every", type=int, default=25)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    truth, obs = data(args.threshold, args.seed)
    train_obs = obs.isel(time=slice(0, N_TRAIN))
    test, target = obs.isel(time=slice(N_TRAIN, None)), truth.isel(time=slice(N_TRAIN, None))
    hidden = ~np.isfinite(test.values)
    land = xr.DataArray(np.zeros((SIZE, SIZE), bool), dims=test.dims[1:])
    linear = mae(seainpaint.fill(test, "linear", land=land), target, hidden)
    print(f"{hidden.mean():.0%} of the test pixels hidden (LWP {args.threshold:g} g m-2); "
          f"linear in time on the test frames: MAE {linear:.4f} °C")
    for arch in args.archs.split(","):
        options = {"base": args.paper_base} if arch == "paper" else {}
        start = time.monotonic()
        model = seainpaint.train(train_obs, loss="paper", arch=arch, max_minutes=args.minutes,
                                 eval_every=args.eval_every, progress=False, **options)
        seconds = time.monotonic() - start
        info = model.config["training"]
        history = info["history"]
        print(f"\n{model.label}: {info['steps']} steps in {seconds:.0f} s; validation MAE "
              f"(°C) at step 0 {history[0]['val_mae']:.4f}, best "
              f"{info['best_val_mae']:.4f} at step {info['best_step']}")
        print(f"{'step':>6}{'val MAE':>9}{'Df acc':>8}{'Ds acc':>8}{'|grad G|':>10}{'adv':>8}")
        for h in history:
            cells = [f"{h.get(k, float('nan')):>{w}.{p}f}" for k, w, p in
                     (("df_acc", 8, 3), ("ds_acc", 8, 3), ("g_grad", 10, 4), ("adv", 8, 3))]
            print(f"{h['step']:>6}{h['val_mae'] or float('nan'):>9.4f}" + "".join(cells))
        filled = seainpaint.fill(test, model, land=land)
        print(f"test frames: {model.method} MAE {mae(filled, target, hidden):.4f} °C, "
              f"linear in time {linear:.4f} °C")


if __name__ == "__main__":
    main()
