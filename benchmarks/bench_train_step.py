"""Training speed: optimiser steps per second of ``seainpaint.train`` configurations.

On synthetic hourly SST (64x64, 35 % cloud), each configuration trains for ``--steps``
steps after ``--warmup`` steps; the table gives steps/s and pixels/s (window x patch x
batch pixels per step) on the CPU (or ``--device cuda``):

- ``default``: what ``train(obs)`` does (self-supervised, fast generator base 8, 24-frame
  windows of 32x32 patches in batches of 8, no discriminators);
- ``default + bf16``: the same under bf16 autocast;
- ``default + compile``: the generator through ``torch.compile`` (compile time excluded);
- ``hybrid``: plus the paper's adversarial game (Df, Ds);
- ``first landing``: the defaults of the first landing (adversarial loss, generator base
  16, 24 x 64 x 64 windows in batches of 4, Df and Ds), for the before/after ratio.

Run ``python benchmarks/bench_train_step.py`` (a few minutes). Not a test: it prints a
table.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
import xarray as xr

import seainpaint
from seainpaint import synthetic
from seainpaint.training import loop

CONFIGS = {
    "default": {},
    "default + bf16": {"amp": True},
    "default + compile": {"compile": True},
    "hybrid": {"loss": "hybrid"},
    "first landing": {"loss": "paper", "base": 16, "patch": 64, "batch_size": 4,
                      "generator_options": {"input_norm": False, "residual": False}},
}


def field() -> xr.DataArray:
    sst = synthetic.sst(n_time=480, size=64, seed=1)
    lwp = synthetic.lwp(n_time=480, size=64, seed=11)
    obs = sst.where(xr.DataArray(lwp.values <= 70, dims=sst.dims))
    obs.name, obs.attrs = sst.name, dict(sst.attrs)
    return obs


def time_config(obs: xr.DataArray, options: dict, steps: int, warmup: int,
                device: str) -> tuple[float, int]:
    """Seconds per step (after the warm-up steps) and pixels per step."""
    options = dict(options)
    compile_g = options.pop("compile", False)
    times: list[float] = []
    original = loop.Trainer.train_step
    original_init = loop.Trainer.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        if compile_g:
            self.G = torch.compile(self.G)

    def step(self):
        start = time.perf_counter()
        out = original(self)
        times.append(time.perf_counter() - start)
        return out

    loop.Trainer.train_step, loop.Trainer.__init__ = step, init
    try:
        model = seainpaint.train(obs, steps=warmup + steps, eval_every=10**6, progress=False,
                                 device=device, **options)
    finally:
        loop.Trainer.train_step, loop.Trainer.__init__ = original, original_init
    cfg = model.config["training"]
    pixels = cfg["window"] * cfg["patch"][0] * cfg["patch"][1] * cfg["batch_size"]
    return float(np.median(times[warmup:])), pixels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--only", help="comma-separated configuration names")
    args = parser.parse_args()
    obs = field()
    print(f"cores: {len(os.sched_getaffinity(0))}, torch threads {torch.get_num_threads()}, "
          f"device {args.device}, median of {args.steps} steps after {args.warmup}")
    print(f"{'configuration':<20}{'s/step':>8}{'steps/s':>9}{'Mpx/s':>8}")
    only = set(args.only.split(",")) if args.only else None
    for name, options in CONFIGS.items():
        if only and name not in only:
            continue
        try:
            seconds, pixels = time_config(obs, options, args.steps, args.warmup, args.device)
        except Exception as err:  # noqa: BLE001 - report and go on (e.g. no compiler)
            print(f"{name:<20}  failed: {type(err).__name__}: {str(err)[:80]}")
            continue
        print(f"{name:<20}{seconds:>8.3f}{1 / seconds:>9.2f}{pixels / seconds / 1e6:>8.2f}")


if __name__ == "__main__":
    main()
