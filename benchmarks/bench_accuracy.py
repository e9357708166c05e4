"""The learned fill against every baseline, the way a user with real data runs it.

Synthetic hourly SST (:func:`seainpaint.synthetic.sst`, 1440 frames of 64x64) under clouds
from the project's synthetic liquid water path (:func:`seainpaint.synthetic.lwp`, one
continuous series) at LWP thresholds 55 / 70 / 80 g m-2 (about 80 / 35 / 15 % cover).
For each cover, ``seainpaint.train(obs[:1200], max_minutes=M)`` with **no other argument**
(the model learns from the field's own clouds; no truth, no cloud model), then the last
240 frames are filled as one field by the model and, in the same run, by DINEOF (the 240
frames at once, and per 24-frame window), linear interpolation in time (the 240 frames)
and biharmonic inpainting (frame by frame). Scores: MAE and RMSE (°C) over every hidden
pixel (the field has no land: an all-sea mask is passed, so pixels cloudy during a whole
window are filled and scored too), the ratio to the best baseline, and for the model the
share of filled pixels whose error is within one predicted standard error (calibrated when
it lies in 60-75 %).

A second table: the real OSTIA monthly SST shipped with seainpaint (real land), 40 % of
its sea hidden by synthetic clouds; the model trains on the cloudy field itself.

Run ``python benchmarks/bench_accuracy.py`` (30 minutes of training per cover: about 100
minutes in all on 2 cores); ``--minutes 5`` for a quicker look. Not a test: it prints
tables.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import xarray as xr

import seainpaint
from seainpaint import synthetic
from seainpaint.io.samples import ostia_monthly

THRESHOLDS = (55.0, 70.0, 80.0)
N_TRAIN, N_TEST, SIZE = 1200, 240, 64


def cloudy_series(threshold: float, seed: int) -> tuple[xr.DataArray, xr.DataArray]:
    """Truth and observations: one SST series under one continuous synthetic cloud field."""
    n = N_TRAIN + N_TEST
    sst = synthetic.sst(n_time=n, size=SIZE, seed=seed)
    lwp = synthetic.lwp(n_time=n, size=SIZE, seed=seed + 10)
    obs = sst.where(xr.DataArray(lwp.values <= threshold, dims=sst.dims))
    obs.attrs = dict(sst.attrs)
    obs.name = sst.name
    return sst, obs


def scores(filled: np.ndarray, truth: np.ndarray, hidden: np.ndarray) -> dict[str, float]:
    err = (filled - truth)[hidden]
    unfilled = int((~np.isfinite(err)).sum())
    err = err[np.isfinite(err)]
    return {"mae": float(np.abs(err).mean()), "rmse": float(np.sqrt((err**2).mean())),
            "unfilled": unfilled}


def baselines(test: xr.DataArray, land: xr.DataArray) -> dict[str, tuple[np.ndarray, float]]:
    """Every baseline's fill of ``test`` and its wall time."""
    out = {}
    for name, method, per_window in [("DINEOF (whole)", "dineof", False),
                                     ("DINEOF (24-frame windows)", "dineof", True),
                                     ("linear in time", "linear", False),
                                     ("biharmonic", "biharmonic", False)]:
        start = time.monotonic()
        if per_window:
            parts = [seainpaint.fill(test.isel(time=slice(i, i + 24)), method, land=land).values
                     for i in range(0, test.sizes["time"], 24)]
            values = np.concatenate(parts)
        else:
            values = seainpaint.fill(test, method, land=land).values
        out[name] = (values, time.monotonic() - start)
    return out


def model_fill(model: seainpaint.InpaintModel, test: xr.DataArray,
               land: xr.DataArray) -> tuple[np.ndarray, np.ndarray, float]:
    start = time.monotonic()
    filled = seainpaint.fill(test, model, land=land, uncertainty=True)
    seconds = time.monotonic() - start
    se = filled.coords[f"{test.name}_standard_error"].values
    return filled.values, se, seconds


def synthetic_table(minutes: float, seed: int, thresholds: tuple[float, ...],
                    save: str | None = None) -> None:
    rows = []
    for threshold in thresholds:
        truth, obs = cloudy_series(threshold, seed)
        train_obs = obs.isel(time=slice(0, N_TRAIN))
        test = obs.isel(time=slice(N_TRAIN, None))
        target = truth.values[N_TRAIN:]
        hidden = ~np.isfinite(test.values)
        land = xr.DataArray(np.zeros((SIZE, SIZE), bool), dims=test.dims[1:])
        start = time.monotonic()
        model = seainpaint.train(train_obs, max_minutes=minutes)
        train_s = time.monotonic() - start
        info = model.config["training"]
        if save:
            model.save(os.path.join(save, f"synthetic_{threshold:g}"), overwrite=True)
        learned, se, model_s = model_fill(model, test, land)
        ours = f"{model.method}, train(obs)"  # the label comes from the model's config
        result = {ours: (scores(learned, target, hidden), model_s)}
        for name, (values, seconds) in baselines(test, land).items():
            result[name] = (scores(values, target, hidden), seconds)
        best = min(v[0]["mae"] for k, v in result.items() if k != ours)
        within = float((np.abs(learned - target)[hidden] < se[hidden]).mean())
        never = int((~np.isfinite(test.values).any(axis=0)).sum())
        print(f"\nLWP threshold {threshold:g} g m-2: {hidden.mean():.1%} of the test pixels "
              f"hidden, {never} pixels never observed in the 240 test frames; the model "
              f"trained {info['steps']} steps in {train_s:.0f} s (best validation MAE "
              f"{info['best_val_mae']:.4f} at step {info['best_step']}, {info['device']}, "
              f"{info['threads']} threads)")
        print(f"{'method':<40}{'MAE °C':>9}{'RMSE °C':>9}{'/best':>7}{'fill s':>8}")
        for name, (s, seconds) in result.items():
            print(f"{name:<40}{s['mae']:>9.4f}{s['rmse']:>9.4f}{s['mae'] / best:>7.2f}"
                  f"{seconds:>8.1f}" + (f"  ({s['unfilled']} unfilled)" if s["unfilled"] else ""))
        print(f"{model.method} standard error: {within:.1%} of the filled pixels within "
              "one sigma")
        rows.append((threshold, hidden.mean(), result[ours][0]["mae"],
                     best, within))
    print("\nsummary: threshold, hidden, learned MAE, best baseline MAE, learned/best, "
          "within 1 sigma")
    for threshold, frac, learned_mae, best, within in rows:
        ratio = learned_mae / best
        print(f"  {threshold:g}  {frac:.1%}  {learned_mae:.4f}  {best:.4f}  {ratio:.2f}"
              f"  {within:.1%}")


def ostia_table(minutes: float, seed: int) -> None:
    truth = ostia_monthly()
    land = ~np.isfinite(truth.values).any(axis=0)
    n_t, ny, nx = truth.shape
    lwp = synthetic.lwp(n_time=n_t, size=max(ny, nx), seed=seed + 20)
    clouds = seainpaint.Cloud(lwp, cover=0.4)
    obs = seainpaint.occlude(truth, clouds, seed=seed)
    obs.attrs.pop("seainpaint_occlusion")  # real data record no cloud process
    land_da = xr.DataArray(land, dims=truth.dims[1:])
    obs = obs.assign_coords(land=land_da)
    hidden = ~np.isfinite(obs.values) & ~land
    start = time.monotonic()
    model = seainpaint.train(obs, max_minutes=minutes)
    train_s = time.monotonic() - start
    learned, se, model_s = model_fill(model, obs, land_da)
    ours = f"{model.method}, train(obs)"
    result = {ours: (scores(learned, truth.values, hidden), model_s)}
    for name, method in [("DINEOF", "dineof"), ("biharmonic", "biharmonic"),
                         ("linear in time", "linear")]:
        s0 = time.monotonic()
        values = seainpaint.fill(obs, method, land=land_da).values
        result[name] = (scores(values, truth.values, hidden), time.monotonic() - s0)
    best = min(v[0]["mae"] for k, v in result.items() if k != ours)
    never = int((~np.isfinite(obs.values).any(axis=0) & ~land).sum())
    print(f"\nOSTIA monthly SST {n_t}x{ny}x{nx} (K), real land ({land.sum()} pixels), "
          f"{hidden.sum() / ((~land).sum() * n_t):.1%} of the sea hidden, {never} sea pixels "
          f"never observed; the model trained {model.config['training']['steps']} steps in "
          f"{train_s:.0f} s")
    print(f"{'method':<40}{'MAE K':>9}{'RMSE K':>9}{'/best':>7}{'fill s':>8}")
    for name, (s, seconds) in result.items():
        print(f"{name:<40}{s['mae']:>9.4f}{s['rmse']:>9.4f}{s['mae'] / best:>7.2f}"
              f"{seconds:>8.1f}")
    within = float((np.abs(learned - truth.values)[hidden] < se[hidden]).mean())
    print(f"{model.method} standard error: {within:.1%} of the filled pixels within one sigma")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="training budget per model")
    parser.add_argument("--ostia-minutes", type=float, default=5.0)
    parser.add_argument("--thresholds", default=",".join(f"{t:g}" for t in THRESHOLDS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-ostia", action="store_true")
    parser.add_argument("--save-models", metavar="DIR", help="keep the trained models here")
    args = parser.parse_args()
    print(f"cores: {len(os.sched_getaffinity(0))}, seainpaint {seainpaint.__version__}, "
          f"training budget {args.minutes} min per cover")
    thresholds = tuple(float(t) for t in args.thresholds.split(","))
    synthetic_table(args.minutes, args.seed, thresholds, args.save_models)
    if not args.skip_ostia:
        ostia_table(args.ostia_minutes, args.seed)


if __name__ == "__main__":
    main()
