"""Does the paper's adversarial game learn? ``train(obs, loss="paper")`` on hourly SST.

Synthetic hourly SST (:func:`seainpaint.synthetic.sst`, 480 frames of 64x64) under
synthetic clouds at an LWP threshold of 70 g m-2 (about 37 % cloud, the paper's training
setting). For each generator, ``seainpaint.train(obs[:420], loss="paper", arch=...)``
runs for ``--minutes``: the paper's loss alone (hinge, Df and Ds, Adam 1e-4, betas
(0, 0.999), spectral normalisation), no reconstruction term. The training validates on
held-out windows of the last tenth of the training frames (observed pixels hidden again;
no truth) every ``--eval-every`` steps; this prints that curve with the evidence of the
game at each point: Df and Ds accuracy (0.5 = chance), the norm of the gradient reaching
G and the adversarial loss, and what the game's own weights (the EMA, not the selected
best) do to the last 60 frames (never trained on): their MAE against the truth, the std
of the fill's frame-to-frame changes at hidden pixels over the truth's (``dT std ratio``:
below 1 too smooth in time, what an adversarial term should correct) and the effective
resolution (px; the spatial power ratio per band is not shown: this synthetic SST has
almost no power in the upper two thirds of wavenumbers, so its ratios there measure
only the fills' cloud-edge artefacts). Then the kept model
(best validation, as :func:`seainpaint.train` returns it) is scored on those frames,
beside linear interpolation in time. The loop is :func:`seainpaint.train`'s own
(``prepare_run``, ``Trainer.train_step``), run by hand to look inside.

- ``arch="fast"`` starts as the interpolation in time (its correction head starts at zero)
  — the question is whether the game moves it *below* its step 0;
- ``arch="paper"`` is the paper's generator (appendix B) from scratch, ``--paper-base``
  channels (the paper's 32 is several seconds a step on 2 CPU cores; 8 by default here).

What a realistic draw costs: an adversarial game is won by fills that *look* like the
field, i.e. by draws from the field's distribution given the observations, not by their
mean. With ``--draw-minutes M`` (10 by default; 0 skips it) the self-supervised network
is trained for ``M`` minutes on the same frames and scored on the test frames beside one
calibrated draw around its fill (``fill(..., members=8)``, the mean MAE of the members):
a bound, measured, on what a generator that draws realistic fields can reach in MAE.

Run ``python benchmarks/bench_paper_gan.py`` (``--minutes 10`` per generator by default,
about 35 minutes on 2 cores). Not a test: it prints tables.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np
import torch
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


def realism(target: xr.DataArray, obs: xr.DataArray, filled: xr.DataArray) -> dict:
    """MAE, the std of frame-to-frame changes of the fill over the truth's at hidden pixels
    (below 1: too smooth in time) and the effective resolution (px) of one fill."""
    row = seainpaint.evaluate(target, obs, {"fill": filled}, features=False).iloc[0]
    return {"test_mae": float(row["MAE"]), "dt_ratio": float(row["dT std ratio"]),
            "res_px": float(row["Effective resolution (px)"])}


def draw_cost(train_obs: xr.DataArray, test: xr.DataArray, target: xr.DataArray,
              land: xr.DataArray, minutes: float, members: int = 8) -> dict[str, float]:
    """The self-supervised fill of the test frames and one calibrated draw around it:
    MAE and dT std ratio of each (the draw's: the mean over ``members`` members)."""
    model = seainpaint.train(train_obs, max_minutes=minutes, progress=False)
    filled = seainpaint.fill(test, model, land=land, progress=False)
    drawn = seainpaint.fill(test, model, land=land, members=members, progress=False)
    scores = [realism(target, test, drawn.isel(member=k).drop_vars("member"))
              for k in range(members)]
    own = realism(target, test, filled)
    return {"fill": own["test_mae"], "fill_dt": own["dt_ratio"], "members": members,
            "draw": float(np.mean([s["test_mae"] for s in scores])),
            "draw_dt": float(np.mean([s["dt_ratio"] for s in scores])),
            "steps": float(model.config["training"]["steps"])}


def trace(obs: xr.DataArray, test: xr.DataArray, target: xr.DataArray, land: xr.DataArray,
          arch: str, minutes: float, every: int, options: dict) -> Any:
    """Run the paper's game for ``minutes``; every ``every`` steps, what the game's own
    weights (the EMA, not the selected best) do to held-out frames: MAE and high-k power."""
    from seainpaint.training.api import prepare_run, train_config

    cfg = train_config("paper", **{"arch": arch, "eval_every": every, **options})
    run = prepare_run(obs, cfg, None, torch.device("cpu"))
    trainer = run.trainer
    rows = []

    def probe() -> None:
        model = run.model(trainer.ema.module, obs)
        filled = seainpaint.fill(test, model, land=land, progress=False)
        rows.append({**trainer.history[-1], **realism(target, test, filled)})

    trainer.evaluate_and_keep()
    probe()
    deadline = time.monotonic() + 60 * minutes
    while time.monotonic() < deadline:
        trainer.record(trainer.train_step())
        if trainer.step % every == 0:
            trainer.evaluate_and_keep()
            probe()
    return run, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="training per generator")
    parser.add_argument("--threshold", type=float, default=70.0)
    parser.add_argument("--archs", default="fast,paper",
                        help="generators, comma-separated ('' for none)")
    parser.add_argument("--paper-base", type=int, default=8)
    parser.add_argument("--eval-every", type=int, default=25)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--draw-minutes", type=float, default=10.0,
                        help="self-supervised training for the draw-cost line (0: skip it)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="another seainpaint.train option, e.g. --set d_lr=4e-4")
    args = parser.parse_args()
    extra = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.set)}

    truth, obs = data(args.threshold, args.seed)
    train_obs = obs.isel(time=slice(0, N_TRAIN))
    test, target = obs.isel(time=slice(N_TRAIN, None)), truth.isel(time=slice(N_TRAIN, None))
    hidden = ~np.isfinite(test.values)
    land = xr.DataArray(np.zeros((SIZE, SIZE), bool), dims=test.dims[1:])
    linear_fill = seainpaint.fill(test, "linear", land=land)
    linear = mae(linear_fill, target, hidden)
    scores = realism(target, test, linear_fill)
    print(f"{hidden.mean():.0%} of the test pixels hidden (LWP {args.threshold:g} g m-2); "
          f"linear in time on the test frames: MAE {linear:.4f} °C, dT std ratio "
          f"{scores['dt_ratio']:.3f}, effective resolution {scores['res_px']:.2f} px")
    for arch in filter(None, args.archs.split(",")):
        options = {**({"base": args.paper_base} if arch == "paper" else {}), **extra}
        start = time.monotonic()
        run, rows = trace(train_obs, test, target, land, arch, args.minutes, args.eval_every,
                          options)
        seconds = time.monotonic() - start
        trainer = run.trainer
        kept = run.model(run.kept_generator(), train_obs)
        print(f"\n{kept.method}, {arch} generator {options or ''}: {trainer.step} steps in "
              f"{seconds:.0f} s; "
              f"validation MAE (°C, held-out windows, no truth) at step 0 "
              f"{rows[0]['val_mae']:.4f}, best {trainer.best_mae:.4f} at step "
              f"{trainer.best_step}")
        print(f"{'step':>6}{'val MAE':>9}{'test MAE':>10}{'dT ratio':>9}{'res px':>8}"
              f"{'Df acc':>8}{'Ds acc':>8}{'|grad G|':>10}{'adv':>8}")
        for h in rows:
            cells = [f"{h.get(k, float('nan')):>{w}.{p}f}" for k, w, p in
                     (("df_acc", 8, 3), ("ds_acc", 8, 3), ("g_grad", 10, 3), ("adv", 8, 3))]
            print(f"{h['step']:>6}{h['val_mae']:>9.4f}{h['test_mae']:>10.4f}"
                  f"{h['dt_ratio']:>9.3f}{h['res_px']:>8.2f}" + "".join(cells))
        filled = seainpaint.fill(test, kept, land=land, progress=False)
        print(f"kept (best validation) model on the test frames: MAE "
              f"{mae(filled, target, hidden):.4f} °C; linear in time {linear:.4f} °C")
    if args.draw_minutes > 0:
        cost = draw_cost(train_obs, test, target, land, args.draw_minutes)
        print(f"\nwhat a realistic draw costs (learned (self-supervised), "
              f"{cost['steps']:.0f} steps in {args.draw_minutes:g} min), test frames: its fill "
              f"MAE {cost['fill']:.4f} °C (dT std ratio {cost['fill_dt']:.3f}); one calibrated "
              f"draw around it (mean of {cost['members']} members) MAE {cost['draw']:.4f} °C "
              f"(dT std ratio {cost['draw_dt']:.3f}); linear in time {linear:.4f} °C")


if __name__ == "__main__":
    main()
