#!/usr/bin/env bash
# GPU check (at most ~8 minutes on any machine with a CUDA GPU): trains the default model
# and the paper's architecture for a few minutes with AMP, fills 30x64x64 sequences and a
# 240x1024x1024 field, and prints steps/s, fill times and peak GPU memory.
#
#   bash benchmarks/gpu_check.sh            # from the repository root, torch with CUDA
#   MINUTES=1 bash benchmarks/gpu_check.sh  # shorter training
#
# Without CUDA it says so and exits 0 (nothing to measure).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="${PWD}${PYTHONPATH:+:$PYTHONPATH}"
python - <<'EOF'
import os
import time

import numpy as np
import torch
import xarray as xr

if not torch.cuda.is_available():
    print("gpu_check: no CUDA device here; nothing to measure")
    raise SystemExit(0)

import seainpaint
from seainpaint import synthetic
from seainpaint.inference import GeneratorPredictor, predict_array

minutes = float(os.environ.get("MINUTES", "2"))
dev = torch.device("cuda")
print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, "
      f"seainpaint {seainpaint.__version__}, {minutes} min of training per model")

sst = synthetic.sst(n_time=720, size=64, seed=1)
lwp = synthetic.lwp(n_time=720, size=64, seed=11)
obs = sst.where(xr.DataArray(lwp.values <= 70, dims=sst.dims))
obs.name, obs.attrs = sst.name, dict(sst.attrs)
train_obs, test = obs.isel(time=slice(0, 600)), obs.isel(time=slice(600, None))
hidden = ~np.isfinite(test.values)

rows = []
for label, options in [("default (fast, self-supervised)", {}),
                       ("paper arch + paper loss", {"arch": "paper", "loss": "paper",
                                                    "batch_size": 2})]:
    torch.cuda.reset_peak_memory_stats()
    start = time.monotonic()
    model = seainpaint.train(train_obs, max_minutes=minutes, device="cuda",
                             progress=False, **options)  # bf16 autocast on CUDA by default
    seconds = time.monotonic() - start
    info = model.config["training"]
    peak = torch.cuda.max_memory_allocated() / 2**30
    filled = seainpaint.fill(test, model, device="cuda")
    mae = float(np.abs(filled.values - sst.values[600:])[hidden].mean())
    rows.append((label, info["steps"] / seconds, peak, mae, model))
    print(f"{label}: {info['steps']} steps in {seconds:.0f} s = {info['steps'] / seconds:.2f} "
          f"steps/s, peak {peak:.2f} GiB, held-out MAE {mae:.4f} °C")
lin = seainpaint.fill(test, "linear").values
print(f"linear in time, same frames: MAE {np.abs(lin - sst.values[600:])[hidden].mean():.4f} °C")

# fill speed: 30x64x64 sequences and a 240x1024x1024 field
for label, _, _, _, model in rows:
    predictor = GeneratorPredictor(model.generator.to(dev),
                                   step=model.config.get("time_step", 1.0))
    seq = model.normalize(test.values[:30, :, :, None])
    for _ in range(2):  # warm-up
        predict_array(predictor, seq, fill_value=model.fill_value, window=30, device="cuda")
    torch.cuda.synchronize()
    start = time.monotonic()
    for _ in range(10):
        predict_array(predictor, seq, fill_value=model.fill_value, window=30, device="cuda")
    torch.cuda.synchronize()
    per_seq = (time.monotonic() - start) / 10
    print(f"{label}: 30x64x64 fill {per_seq * 1000:.1f} ms (target <= 50 ms)")

model = rows[0][4]
big = np.tile(obs.values[:240], (1, 16, 16)).astype(np.float32)
field = xr.DataArray(big, dims=("time", "latitude", "longitude"), name=obs.name,
                     attrs=dict(obs.attrs),
                     coords={"time": obs.time.values[:240]})
torch.cuda.reset_peak_memory_stats()
torch.cuda.synchronize()
start = time.monotonic()
out = model.fill_field(field, device="cuda", max_voxels=2**24, batch_size=16)
torch.cuda.synchronize()
seconds = time.monotonic() - start
print(f"default: 240x1024x1024 fill {seconds:.1f} s = {big.size / seconds / 1e6:.1f} Mpx/s, "
      f"peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB, "
      f"finite: {bool(np.isfinite(out.values).all())}")
EOF
