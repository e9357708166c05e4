"""The ``seainpaint`` command line.

Each command is a thin wrapper around the Python API; errors from seainpaint are printed
as one clear line and exit with status 2. Everything heavy (xarray, dask, torch, cartopy)
is imported inside the commands, so ``seainpaint --help`` answers at once.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from .errors import ModelMismatchError, ProcessNeededError, SeainpaintError

app = typer.Typer(
    name="seainpaint",
    help="Unsupervised spatiotemporal inpainting of cloud-occluded satellite fields.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # plain help: no Rich import, no <bool> next to flags
)

VARIABLE_HELP = (
    "Variable to read (default: the only variable with a time dimension and 2 spatial ones)."
)
PROCESS_ADVICE = (
    "pass the cloud process: --lwp LWP_STORE --threshold G_M2 (an LWP store from "
    "`seainpaint fetch-lwp`), or --process JSON"
)


def friendly_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn seainpaint errors into a one-line message and exit status 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (SeainpaintError, FileNotFoundError) as err:
            typer.secho(f"error: {cli_wording(err)}", err=True, fg=typer.colors.RED)
            raise typer.Exit(code=2) from None

    return wrapper


def _command(
    name: str | None = None, *, short_help: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: register the function as a command of :data:`app`, with
    :func:`friendly_errors`."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        return app.command(name, short_help=short_help)(friendly_errors(func))

    return register


def cli_wording(err: BaseException) -> str:
    """The error's message, with its Python advice in the command line's options.

    Read from the error's type and attributes, never from its text: a model that refuses
    a field (:class:`~seainpaint.errors.ModelMismatchError`) is overridden with
    ``--no-check``; a missing measurement process
    (:class:`~seainpaint.errors.ProcessNeededError`) is given with ``--lwp/--threshold``.
    """
    if isinstance(err, ModelMismatchError):
        return err.advice("pass --no-check")
    if isinstance(err, ProcessNeededError):
        return f"{err.problem}; {PROCESS_ADVICE}"
    return str(err)


# ---------------------------------------------------------------- foundation commands


@_command(short_help="Offline demo: learned fill, DINEOF, linear, climatology.")
def demo(
    output_dir: Path = typer.Option(
        Path("seainpaint_demo"), "--output-dir", "-o", help="Folder for the products."
    ),
    quick: bool = typer.Option(False, "--quick", help="Smaller sizes, for a smoke test."),
    seed: int = typer.Option(0, help="Seed of the data, the clouds and the training."),
    train: bool = typer.Option(
        False,
        "--train",
        help="Train the models here (30 s each) instead of loading the "
        "shipped ones (trained ahead of time for 8-20 minutes).",
    ),
) -> None:
    """Run the whole chain offline: clouds, the learned fill (self-supervised, the default
    model) vs DINEOF vs linear vs climatology, figure."""
    from .demo import run_demo

    run_demo(output_dir, quick=quick, seed=seed, train=train)


@_command(short_help="Hide a field under clouds (a cloudy Zarr store).")
def occlude(
    input: Path = typer.Argument(
        ...,
        metavar="INPUT",
        help="Complete field: NetCDF file or Zarr store (e.g. from fetch-sst).",
    ),
    output: Path = typer.Option(..., "--output", "-o", help="Zarr store of the cloudy field."),
    variable: str | None = typer.Option(None, "--variable", "-v", help=VARIABLE_HELP),
    lwp: Path | None = typer.Option(
        None,
        help="LWP store from fetch-lwp (default: synthetic LWP, written to "
        "OUTPUT_STEM_lwp.zarr next to OUTPUT).",
    ),
    threshold: float | None = typer.Option(
        None, help="Cloudy where LWP > THRESHOLD g m-2 (default 70, the paper's)."
    ),
    cover: float | None = typer.Option(
        None, help="Mean cloud cover in ]0, 1[ instead of a threshold."
    ),
    seed: int = typer.Option(0, help="Seed of the cloud draw."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUTPUT if it exists."),
) -> None:
    """Hide INPUT under clouds (NaN) and write the cloudy store that train and fill read."""
    from .io.cloudy import occlude_store

    res = occlude_store(
        input,
        output,
        variable=variable,
        lwp=lwp,
        threshold=threshold,
        cover=cover,
        seed=seed,
        overwrite=overwrite,
    )
    typer.echo(
        f"wrote {res.store}: {res.variable} {res.sizes}, {res.hidden:.0%} of the sea hidden "
        f"under clouds (LWP > {res.threshold:.4g} g m-2 from {res.lwp_store})"
    )


@_command(short_help="Fill the gaps of a field (CF NetCDF product).")
def fill(
    input: Path = typer.Argument(
        ..., metavar="INPUT", help="NetCDF file or Zarr store with NaN gaps."
    ),
    output: Path = typer.Option(..., "--output", "-o", help="NetCDF file to write."),
    method: str = typer.Option(
        "dineof", help="Baseline: dineof, linear, climatology, biharmonic, ... (or --model)."
    ),
    model: Path | None = typer.Option(None, help="Directory of a trained model."),
    variable: str | None = typer.Option(None, "--variable", "-v", help=VARIABLE_HELP),
    no_check: bool = typer.Option(
        False,
        "--no-check",
        help="With --model: fill even if the variable name, units or standard name differ "
        "from the training data.",
    ),
    no_uncertainty: bool = typer.Option(
        False,
        "--no-uncertainty",
        help="With --model: do not write the standard error of the filled pixels (written by "
        "default when the model predicts one).",
    ),
    members: int | None = typer.Option(
        None,
        "--members",
        min=1,
        help="With --model: write an ensemble of this many fills (dimension 'member'): the "
        "fill plus noise as large as the standard error and correlated in space and time "
        "like the model's errors; observed values are the same in every member.",
    ),
    member_seed: int = typer.Option(0, "--member-seed", min=0, help="Seed of --members."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUTPUT if it exists."),
) -> None:
    """Fill the gaps of INPUT and write a CF-compliant NetCDF product."""
    from .errors import MethodError, OutputExistsError
    from .filling import fill as fill_field
    from .io.netcdf import to_netcdf
    from .io.stores import open_field

    if output.exists() and not overwrite:
        raise OutputExistsError(f"{output} exists; pass --overwrite to replace it")
    obs = open_field(input, variable)
    options: dict[str, Any] = {}
    if model is not None:
        from .model import InpaintModel

        filler: Any = InpaintModel.load(model)
        if no_check:
            options["check"] = False
        if filler.has_uncertainty and not no_uncertainty:
            options["uncertainty"] = True
        if members is not None:
            options.update(members=members, member_seed=member_seed)
    else:
        if members is not None:
            raise MethodError(
                f"--members draws around a trained model's fill; baseline {method!r} has no "
                "standard error: pass --model"
            )
        filler = method
        obs = obs.load()
        from .baselines import BASELINES

        baseline = BASELINES.get(method.lower())
        if baseline is not None and "progress" in inspect.signature(baseline).parameters:
            options["progress"] = True  # DINEOF, frame-by-frame methods: show where it is
    filled = fill_field(obs, filler, **options)
    to_netcdf(filled, output, overwrite=overwrite, source=f"seainpaint fill of {input.name}")
    typer.echo(f"wrote {output}")


# ---------------------------------------------------------------- data commands


@_command("fetch-lwp", short_help="PyCLES liquid water path -> Zarr store.")
def fetch_lwp(
    path: Path = typer.Argument(
        ..., metavar="PATH", help="PyCLES run folder (Output.*), its parent, or its Visualization/."
    ),
    output: Path = typer.Option(..., "--output", "-o", help="Zarr store to write."),
    source: str = typer.Option("pickles", help="'pickles' (Visualization) or 'fields' (3-D ql)."),
    t_min: float | None = typer.Option(None, "--t-min", help="Keep simulation times >= this (s)."),
    t_max: float | None = typer.Option(None, "--t-max", help="Keep simulation times <= this (s)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUTPUT if it exists."),
) -> None:
    """Read the liquid water path of a PyCLES run and write it to a Zarr store (g m-2)."""
    from .io.pycles import open_lwp, write_lwp_zarr

    lwp = open_lwp(path, source=source, t_min=t_min, t_max=t_max)
    write_lwp_zarr(lwp, output, overwrite=overwrite)
    t = lwp["time"].values
    typer.echo(
        f"wrote {output}: lwp {dict(lwp.sizes)} g m-2, t = {t[0]:g}..{t[-1]:g} s, "
        f"mean {float(lwp.mean()):.1f} g m-2"
    )


@_command("fetch-sst", short_help="Hourly SST from Copernicus Marine -> Zarr store.")
def fetch_sst(
    region: str = typer.Option(..., help="S,N,W,E in degrees, e.g. 20,25.25,-40,-34.75"),
    start: str = typer.Option(..., help="First time, YYYY-MM-DD[THH:MM] (UTC)."),
    end: str = typer.Option(..., help="Last time; a date alone includes the whole day."),
    output: Path = typer.Option(..., "--output", "-o", help="Zarr store (resumed if present)."),
    dataset_id: str = typer.Option(
        "cmems_mod_glo_phy_anfc_0.083deg_PT1H-m", help="Copernicus Marine dataset id."
    ),
    variable: str = typer.Option("thetao", help="Variable; its surface level is kept."),
    chunk: str = typer.Option("month", help="Time fetched at once: day, week, month, year."),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Rebuild OUTPUT instead of resuming it."
    ),
    check_network: bool = typer.Option(True, help="Fail fast when offline."),
) -> None:
    """Fetch hourly surface temperature from Copernicus Marine into a Zarr store."""
    from .io.copernicus import fetch_sst as _fetch_sst

    store = _fetch_sst(
        region,
        start,
        end,
        output,
        dataset_id=dataset_id,
        variable=variable,
        chunk=chunk,
        overwrite=overwrite,
        check_network=check_network,
    )
    import xarray as xr

    with xr.open_zarr(store) as ds:
        t = ds["time"].values
        typer.echo(f"{store}: {variable} {dict(ds[variable].sizes)}, {t[0]} .. {t[-1]}")


@_command("recipe", short_help="Build one of the paper's datasets from a recipe.")
def recipe(
    name: str | None = typer.Argument(
        None, metavar="NAME", help="Recipe name (see --list) or a .toml file."
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Store to write."),
    input: Path | None = typer.Option(None, "--input", "-i", help="Data to read instead."),
    list_: bool = typer.Option(False, "--list", help="List the known recipes."),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace OUTPUT (SST stores are resumed)."
    ),
) -> None:
    """Build one of the paper's datasets from its recipe in data_recipes/."""
    from .io.recipes import build, list_recipes, load_recipe

    if list_ or name is None:
        for key, path in list_recipes().items():
            r = load_recipe(path)
            net = " [network]" if r.needs_network else ""
            typer.echo(f"{key:12s} {r.kind:6s}{net} {r.description}")
        return
    result = build(name, output, overwrite=overwrite, input=input)
    typer.echo(f"wrote {result['store']}: {result['sizes']}")
    for thr, cover in result.get("cover", {}).items():
        typer.echo(f"  threshold {thr:g} g m-2: mean cloud cover {cover:.3f}")
    if "split" in result:
        typer.echo(f"  split: {result['split']}")


# ---------------------------------------------------------------- model commands


@_command(short_help="Train a fill model on cloudy data alone (no truth).")
def train(
    store: Path = typer.Argument(
        ..., metavar="STORE", help="Zarr store or NetCDF file of cloudy observations."
    ),
    output: Path = typer.Option(..., "--output", "-o", help="Model directory to write."),
    variable: str | None = typer.Option(None, "--variable", "-v", help=VARIABLE_HELP),
    max_minutes: float | None = typer.Option(None, help="Training time budget (minutes)."),
    steps: int | None = typer.Option(None, help="Total optimizer steps."),
    epochs: float | None = typer.Option(None, help="Passes over the data's windows."),
    arch: str | None = typer.Option(None, help="Generator architecture: fast or paper."),
    variant: str | None = typer.Option(None, help="spatiotemporal, static or recurrent."),
    process: str | None = typer.Option(None, help="Occlusion process as JSON."),
    lwp: Path | None = typer.Option(None, help="LWP store (from fetch-lwp) for a Cloud process."),
    threshold: float | None = typer.Option(None, help="Cloud LWP threshold (g m-2)."),
    loss: str = typer.Option(
        "self-supervised",
        help="self-supervised (default: no discriminator, measured best), hybrid (a GAN: "
        "the same plus the paper's adversarial game) or paper (the paper's GAN: its "
        "adversarial loss and settings alone).",
    ),
    recon_weight: float | None = typer.Option(
        None, help="Weight of the self-supervised reconstruction term."
    ),
    window: int | None = typer.Option(None, help="Frames per training sequence."),
    patch: int | None = typer.Option(None, help="Spatial patch size (pixels)."),
    batch_size: int | None = typer.Option(None, help="Sequences per step."),
    base: int | None = typer.Option(None, help="Generator base channels."),
    seed: int = typer.Option(0, help="Seed of the initialisation and of the draws."),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    threads: int | None = typer.Option(
        None, help="CPU threads (default: OMP_NUM_THREADS when set, else every core)."
    ),
    checkpoint_dir: Path | None = typer.Option(
        None, help="Checkpoints (default: OUTPUT.checkpoints next to OUTPUT)."
    ),
    resume: bool = typer.Option(False, "--resume", help="Continue from the last checkpoint."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUTPUT if it exists."),
) -> None:
    """Train a fill model on STORE's cloudy data alone and save it to OUTPUT.

    The default loss is self-supervised (observed pixels hidden again and predicted; no
    discriminator); --loss paper trains the paper's unsupervised GAN, --loss hybrid both.

    Options left out take the defaults of seainpaint.train.
    """
    tuning = {
        "arch": arch,
        "variant": variant,
        "recon_weight": recon_weight,
        "window": window,
        "patch": patch,
        "batch_size": batch_size,
        "base": base,
    }
    _train_command(
        store,
        output,
        variable=variable,
        max_minutes=max_minutes,
        steps=steps,
        epochs=epochs,
        process=process,
        lwp=lwp,
        threshold=threshold,
        seed=seed,
        device=device,
        threads=threads,
        loss=loss,
        checkpoint_dir=checkpoint_dir,
        resume=resume,
        overwrite=overwrite,
        **{k: v for k, v in tuning.items() if v is not None},
    )


def _train_command(
    store: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    variable: str | None = None,
    process: str | None = None,
    lwp: str | os.PathLike[str] | None = None,
    threshold: float | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
    overwrite: bool = False,
    **options: Any,
) -> Path:
    """What ``seainpaint train STORE -o MODEL`` does: train, then save the model.

    The occlusion process is ``process`` (JSON), or ``Cloud(lwp, threshold)``, or the one
    recorded in the store's ``seainpaint_occlusion`` attribute. Checkpoints go to
    ``checkpoint_dir`` (default ``OUTPUT.checkpoints`` next to ``OUTPUT``).
    """
    import json

    from .errors import OutputExistsError, TrainingError
    from .occlusion import Cloud, OcclusionProcess, process_from_json
    from .training import train

    out = Path(output)
    if out.exists() and not (overwrite or resume):
        raise OutputExistsError(f"model directory {str(out)!r} exists; pass --overwrite")
    if process is not None and lwp is not None:
        raise TrainingError("give either --process or --lwp/--threshold, not both")
    proc: OcclusionProcess | None = None
    if process is not None:
        try:
            proc = process_from_json(process)
        except json.JSONDecodeError as err:
            raise TrainingError(f"--process is not valid JSON: {err}") from None
    elif lwp is not None:
        if threshold is None:
            raise TrainingError("--lwp needs --threshold (g m-2)")
        proc = Cloud(lwp, threshold=threshold)
    elif threshold is not None:
        raise TrainingError("--threshold needs --lwp")
    ckpt = Path(checkpoint_dir) if checkpoint_dir else out.parent / f"{out.name}.checkpoints"
    model = train(
        store, variable=variable, process=proc, checkpoint_dir=ckpt, resume=resume, **options
    )
    model.save(out, overwrite=True)
    info = model.config["training"]
    typer.echo(
        f"wrote {out}: {info['steps']} steps ({info['stopped_by']}), best validation MAE "
        f"{info['best_val_mae']} at step {info['best_step']}; checkpoints in {ckpt}"
    )
    return out


# ---------------------------------------------------------------- evaluation commands


@_command(short_help="Score filled fields against the truth.")
def evaluate(
    truth: Path = typer.Argument(
        ..., metavar="TRUTH", help="Complete field (NetCDF file or Zarr store)."
    ),
    observed: Path = typer.Argument(
        ..., metavar="OBSERVED", help="The observation with NaN gaps the methods saw."
    ),
    filled: list[Path] = typer.Argument(
        ..., metavar="FILLED", help="One or more filled fields to score."
    ),
    variable: str | None = typer.Option(None, "--variable", "-v", help=VARIABLE_HELP),
    names: str | None = typer.Option(None, help="Comma-separated method names."),
    format: str = typer.Option("table", "--format", "-f", help="table, csv, markdown or json."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the table here."),
    sequence_length: int = typer.Option(24, help="Frames per sequence (mean ± std over them)."),
    no_fid: bool = typer.Option(False, "--no-fid", help="Skip FID and FVD."),
    by_distance: bool = typer.Option(
        False,
        "--by-distance",
        help="Also the errors by distance to the nearest observation: in frames (time) and "
        "in pixels (space), with each bin's share of the total error.",
    ),
    plot: str | None = typer.Option(
        None,
        "--plot",
        metavar="PREFIX",
        help="Write the PSD-score and reliability figures as PREFIX_psd_score.png and "
        "PREFIX_calibration.png (DIR/psd_score.png, DIR/calibration.png when PREFIX is a "
        "folder or ends with /); the reliability figure needs a fill with a standard error.",
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace OUTPUT and the --plot figures if they exist."
    ),
) -> None:
    """Score FILLED fields against TRUTH on the gaps of OBSERVED.

    Prints MAE, RMSE and bias on the hidden pixels, RMSE on the observed ones, FID, FVD,
    effective resolution (px, km, h), power ratio per band, CRPS and 1σ/2σ coverage for
    fills with a standard error, then the errors by cloud cover of the frame (a second
    table) and, with --by-distance, by distance to the nearest observation in time and in
    space (--format csv holds the first table only).
    """
    from .errors import SeainpaintError
    from .evaluation import (
        FORMATS,
        evaluate_by_cover,
        evaluate_by_distance,
        figure_paths,
        open_field,
        open_filled,
        print_table,
        render_table,
        write_table,
    )
    from .evaluation import evaluate as run_evaluate

    fmt = format.lower()
    if fmt not in FORMATS:
        raise SeainpaintError(f"unknown --format {format!r}; choose one of {', '.join(FORMATS)}")
    method_names = [n.strip() for n in names.split(",")] if names else [p.stem for p in filled]
    if len(method_names) != len(filled):
        raise SeainpaintError(f"--names gives {len(method_names)} names for {len(filled)} files")
    fields = [open_filled(p, variable) for p in filled]
    truth_field, obs_field = open_field(truth, variable), open_field(observed, variable)
    figures = figure_paths(plot, overwrite=overwrite) if plot else None
    table = run_evaluate(
        truth_field,
        obs_field,
        fields,
        names=method_names,
        sequence_length=sequence_length,
        features=False if no_fid else None,
    )
    by_cover = evaluate_by_cover(truth_field, obs_field, fields, names=method_names)
    axes = ("time", "space") if by_distance else ()
    distances = [evaluate_by_distance(truth_field, obs_field, fields, names=method_names,
                                      axis=axis) for axis in axes]
    if output is not None:
        out_fmt = None if fmt == "table" else fmt
        path = write_table(table, output, out_fmt, overwrite=overwrite, by_cover=by_cover,
                           by_distance=distances)
        typer.echo(f"wrote {path}", err=True)
    if fmt == "table":
        print_table(table, by_cover=by_cover, by_distance=distances)
    elif output is None:
        typer.echo(render_table(table, fmt, by_cover, distances), nl=False)
    if figures is not None:
        from .plot import plot_calibration, plot_psd_score

        args = (truth_field, obs_field, fields)
        written = [plot_psd_score(*args, figures["psd_score"], names=method_names)]
        if table["CRPS"].notna().any():
            written.append(plot_calibration(*args, figures["calibration"], names=method_names))
        else:
            typer.echo("no filled field carries a standard error: no calibration figure", err=True)
        for path in written:
            typer.echo(f"wrote {path}", err=True)


@_command(short_help="Reproduce one of the paper's tables, small scale.")
def reproduce(
    name: str | None = typer.Argument(
        None,
        metavar="NAME",
        help="sst_table2, ablation_table4 or video_table1 (omit to list them).",
    ),
    output_dir: Path = typer.Option(
        Path("seainpaint_reproduce"), "--output-dir", "-o", help="Folder for tables/figures."
    ),
    full: bool = typer.Option(False, "--full", help="Bigger sizes (long)."),
    quick: bool = typer.Option(False, "--quick", help="Tiny sizes: a smoke test in seconds."),
    minutes: float | None = typer.Option(None, "--minutes", help="Training minutes per model."),
    seed: int = typer.Option(0, help="Seed of data, masks and training."),
    threads: int | None = typer.Option(
        None, help="CPU cores to use (1 is often fastest on a busy shared machine)."
    ),
    progress: bool = typer.Option(False, "--progress", help="Show training progress bars."),
) -> None:
    """Reproduce one of the paper's tables at small scale (tables + figures in OUTPUT_DIR)."""
    from .errors import SeainpaintError
    from .reproduce import list_reproductions, load_reproduction
    from .reproduce import reproduce as run_reproduce

    if name is None:
        for key in list_reproductions():
            typer.echo(f"{key:16s} {load_reproduction(key).get('description', '')}")
        return
    if full and quick:
        raise SeainpaintError("give at most one of --full and --quick")
    mode = "full" if full else "quick" if quick else "default"
    result = run_reproduce(
        name,
        output_dir,
        mode=mode,
        minutes=minutes,
        seed=seed,
        progress=progress,
        threads=threads,
        echo=typer.echo,
    )
    for part, why in result.skipped.items():
        typer.echo(f"skipped {part}: {why}")
    typer.echo(f"wrote {len(result.files)} files to {output_dir}")


if __name__ == "__main__":  # pragma: no cover
    app()
