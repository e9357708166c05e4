"""Train the models shipped in ``seainpaint/data/pretrained/`` from their recipe.

``python scripts/train_pretrained.py [--only synthetic|ostia] [--minutes M]`` reads
``scripts/pretrained.toml`` and writes ``seainpaint/data/pretrained/<name>/`` (model
weights, ``config.json`` with the full training record). The demo loads them, so it shows a
model trained for half an hour instead of the few seconds its 2-minute budget allows.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

import xarray as xr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import seainpaint  # noqa: E402
from seainpaint import synthetic  # noqa: E402
from seainpaint.demo import PRETRAINED_DIR, ostia_case  # noqa: E402


def synthetic_obs(recipe: dict) -> xr.DataArray:
    sst = synthetic.sst(n_time=recipe["n_time"], size=recipe["size"], seed=recipe["sst_seed"])
    lwp = synthetic.lwp(n_time=recipe["n_time"], size=recipe["size"], seed=recipe["lwp_seed"])
    obs = sst.where(xr.DataArray(lwp.values <= recipe["threshold"], dims=sst.dims))
    obs.attrs, obs.name = dict(sst.attrs), sst.name
    return obs.isel(time=slice(0, recipe["train_frames"]))


def ostia_obs(recipe: dict) -> xr.DataArray:
    case = ostia_case(recipe["cloud_seed"])
    obs = case.obs.copy()
    obs.attrs.pop("seainpaint_occlusion", None)  # learn from its own clouds, like real data
    return obs.assign_coords(land=case.land)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("synthetic", "ostia"))
    parser.add_argument("--minutes", type=float, help="override the recipe's budget")
    parser.add_argument("--threads", type=int, help="CPU threads for training")
    args = parser.parse_args()
    recipes = tomllib.loads((ROOT / "scripts" / "pretrained.toml").read_text())
    for name, recipe in recipes.items():
        if args.only and name != args.only:
            continue
        obs = synthetic_obs(recipe) if name == "synthetic" else ostia_obs(recipe)
        minutes = args.minutes or recipe["max_minutes"]
        print(f"{name}: {recipe['description']}; {dict(obs.sizes)}, {minutes} min")
        model = seainpaint.train(obs, max_minutes=minutes, threads=args.threads, progress=False)
        model.config["recipe"] = {"file": "scripts/pretrained.toml", "name": name,
                                  **recipe}
        model.save(PRETRAINED_DIR / name, overwrite=True)
        info = model.config["training"]
        print(f"  {info['steps']} steps, best validation MAE {info['best_val_mae']:.4f} at "
              f"step {info['best_step']} -> {PRETRAINED_DIR / name}")


if __name__ == "__main__":
    main()
