"""``seainpaint demo``: the whole chain offline, the learned fill against the baselines.

Two datasets, both shipped or generated offline:

(a) synthetic hourly SST (SQG turbulence) under synthetic clouds;
(b) real OSTIA monthly SST (shipped with seainpaint) with its real land mask, under
    synthetic clouds.

Each is filled by the learned model (trained here on the cloudy field alone, with
:func:`seainpaint.train`'s defaults — the self-supervised network — or loaded from
``seainpaint/data/pretrained/<name>/`` when a model is shipped there), DINEOF, linear
interpolation in time, biharmonic inpainting of each frame (the spatial baseline to beat
on short, coarse records) and the climatological mean. Every label (table, figure, NetCDF
title) names the learned method by what trained it (:attr:`InpaintModel.method`). The
demo prints the MAE of each over the cloud-covered sea pixels, writes the learned fills as
CF NetCDF products, saves the models and draws one figure per dataset (a representative
frame: the one with the median cloud cover).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

#: Training budget of the learned model, per dataset, in minutes (the demo must stay under 2 minutes
#: on 2 CPU cores in total).
LEARNED_MINUTES = 0.5
#: The same in ``--quick`` mode (a smoke test of the machinery, not a useful model).
QUICK_LEARNED_MINUTES = 0.02
#: Shipped models, one folder per dataset name (``synthetic``, ``ostia``), used instead of
#: training when present.
PRETRAINED_DIR = Path(__file__).resolve().parent / "data" / "pretrained"
#: LWP threshold of the synthetic clouds (g m-2), the paper's.
THRESHOLD = 70.0
BASELINES = {"DINEOF": "dineof", "linear": "linear", "biharmonic": "biharmonic",
             "climatology": "climatology"}


@dataclass
class DemoCase:
    """One demo dataset with its truth, observation, land mask and fills."""

    name: str
    title: str
    label: str
    truth: xr.DataArray
    obs: xr.DataArray
    land: xr.DataArray
    fills: dict[str, xr.DataArray] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    learned: str = "learned"  # the learned model's method, as its config names it
    learned_source: str = ""

    @property
    def methods(self) -> list[str]:
        """The learned method first, then the baselines."""
        return [self.learned, *BASELINES]

    @property
    def gaps(self) -> xr.DataArray:
        """Sea pixels hidden by clouds (where the truth is known)."""
        return self.obs.isnull() & self.truth.notnull() & ~self.land

    def mae(self, method: str) -> float:
        """Mean absolute error over the cloud-covered sea pixels (NaN fills excluded)."""
        err = abs(self.fills[method] - self.truth).where(self.gaps)
        return float(err.mean())

    def unfilled(self, method: str) -> int:
        """Sea pixels (of the grid) that the method left NaN in some cloud gap."""
        return int((self.fills[method].isnull() & self.gaps).any("time").sum())

    @property
    def cloud_fraction(self) -> float:
        """Fraction of the sea pixels hidden by clouds, over all frames."""
        sea = (~self.land).broadcast_like(self.obs)
        return float(self.gaps.sum() / sea.sum())

    @property
    def never_observed(self) -> int:
        """Sea pixels under cloud in every frame (no observation at all)."""
        return int((self.obs.isnull().all("time") & ~self.land).sum())


def _fill(obs: xr.DataArray, method: Any, land: xr.DataArray, **options: Any) -> xr.DataArray:
    from .filling import fill

    # the explicit land mask keeps the never-observed sea pixels in the game (filled from
    # spatial context, flag 3) instead of counting them as land
    return fill(obs, method, land=land, **options)


def _learned(case: DemoCase, minutes: float, seed: int, out: Path, train_here: bool) -> Any:
    """The learned model: shipped (trained ahead of time on data of the same kind), or
    trained here on the cloudy field alone."""
    from .model import InpaintModel
    from .training import train

    shipped = PRETRAINED_DIR / case.name
    if shipped.is_dir() and not train_here:
        model = InpaintModel.load(shipped)
        info = model.config["training"]
        case.learned_source = (f"shipped model, trained {info['wall_seconds'] / 60:.0f} min "
                           f"({info['steps']} steps) by scripts/train_pretrained.py")
        return model
    case.learned_source = f"trained here for {minutes:g} min"
    obs = case.obs.copy()
    obs.attrs.pop("seainpaint_occlusion", None)  # like real data: learn from its own clouds
    model = train(obs.assign_coords(land=case.land), max_minutes=minutes, seed=seed,
                  progress=False)
    model.save(out / "models" / case.name, overwrite=True)
    return model


def _run_case(
    case: DemoCase, minutes: float, seed: int, out: Path, console: Any, train_here: bool
) -> DemoCase:
    say, status = console.print, console.status
    say(f"[bold]{case.title}[/]: {case.cloud_fraction:.0%} of the sea under clouds, "
        f"{case.never_observed} sea pixels never observed")
    start = time.perf_counter()
    with status("  the learned model ..."):
        model = _learned(case, minutes, seed, out, train_here)
    case.learned = model.method
    case.fills[case.learned] = _fill(case.obs, model, case.land,
                                     uncertainty=model.has_uncertainty)
    case.seconds[case.learned] = time.perf_counter() - start
    say(f"  {case.learned} ({case.learned_source}), fill included: "
        f"{case.seconds[case.learned]:.0f} s")
    with status("  DINEOF, linear in time, biharmonic, climatology ..."):
        for label, method in BASELINES.items():
            start = time.perf_counter()
            case.fills[label] = _fill(case.obs, method, case.land)
            case.seconds[label] = time.perf_counter() - start
    return case


def synthetic_case(n_time: int, seed: int) -> DemoCase:
    """The demo's synthetic dataset: hourly SST under one continuous synthetic cloud field.

    Parameters
    ----------
    n_time : int
        Hourly frames (64 x 64 pixels each).
    seed : int
        Seed of the SST and of the clouds (``seed + 1``).

    Returns
    -------
    DemoCase
        Truth, cloudy observation and (all-sea) land mask, no fills yet.
    """
    from . import synthetic

    truth = synthetic.sst(n_time, 64, seed=seed)
    # one continuous synthetic cloud field over the whole series, as a satellite sees it
    clear = synthetic.lwp(n_time, 64, seed=seed + 1).values <= THRESHOLD
    obs = truth.where(xr.DataArray(clear, dims=truth.dims))
    obs.attrs, obs.name = dict(truth.attrs), truth.name
    land = xr.zeros_like(truth.isel(time=0, drop=True), dtype=bool).rename("land")
    return DemoCase("synthetic", "synthetic hourly SST", "synthetic", truth, obs, land)


def ostia_case(seed: int) -> DemoCase:
    """The demo's real dataset: the shipped OSTIA monthly SST (degrees Celsius, its own
    land mask) under synthetic clouds (:class:`~seainpaint.occlusion.Cloud`).

    Parameters
    ----------
    seed : int
        Seed of the clouds.

    Returns
    -------
    DemoCase
        Truth, cloudy observation and land mask, no fills yet.
    """
    from . import synthetic
    from .io.samples import ostia_monthly
    from .occlusion import Cloud, occlude

    kelvin = ostia_monthly()
    truth = (kelvin - 273.15).astype(np.float32)
    truth.attrs = {**kelvin.attrs, "units": "degree_Celsius"}
    truth.name = kelvin.name
    land = truth.isnull().all("time").rename("land")  # OSTIA's own land mask
    n_time = truth.sizes["time"]
    clouds = Cloud(synthetic.lwp(max(n_time, 24), 64, seed=seed + 1), threshold=THRESHOLD)
    obs = occlude(truth, clouds, seed=seed)
    return DemoCase("ostia", "real OSTIA monthly SST", "OSTIA", truth, obs, land)


def _figure(case: DemoCase, path: Path) -> Path:
    from .plot import median_cover_time, plot_panels, time_label

    t = median_cover_time(case.obs, case.land)
    fills = {name: case.fills[name] for name in case.methods}
    title = (
        f"seainpaint demo, {case.title}, {time_label(case.obs, t)} "
        f"(frame {t + 1} of {case.obs.sizes['time']}: the median cloud cover)"
    )
    return plot_panels(
        case.obs, fills, case.truth, time=t, path=path, land=case.land, title=title
    )


def _table(cases: list[DemoCase]) -> Any:
    from rich.table import Table

    table = Table(title="seainpaint demo: MAE (°C) over the cloud-covered sea pixels, and time")
    table.add_column("dataset")
    for method in cases[0].methods:
        table.add_column(method, justify="right")
    for case in cases:
        grid = "×".join(str(s) for s in case.truth.shape)
        best = min(case.methods, key=case.mae)
        cells = []
        for method in case.methods:
            mae = f"{case.mae(method):.3f}"
            mae = f"[bold green]{mae}[/]" if method == best else mae
            missed = case.unfilled(method)
            note = f"\n{missed} px unfilled" if missed else ""
            cells.append(f"{mae}\n{case.seconds[method]:.1f} s{note}")
        table.add_row(f"{case.label}\n{grid}\n{case.cloud_fraction:.0%} cloud", *cells)
    return table


def run_demo(output_dir: Path | str, *, quick: bool = False, seed: int = 0,
             train: bool = False) -> list[DemoCase]:
    """Run the offline demo and write its products into ``output_dir``.

    Parameters
    ----------
    output_dir : path
        Folder for ``synthetic_filled.nc``, ``ostia_filled.nc`` (the learned model's
        fills as CF NetCDF products), ``demo_synthetic.png``, ``demo_ostia.png`` and ``models/``.
    quick : bool
        A smaller synthetic sequence (and a few seconds of training with ``train``), for
        smoke tests.
    seed : int
        Seed of the synthetic data, the cloud draws and the training.
    train : bool
        Train the models here (``LEARNED_MINUTES`` each, on the cloudy fields alone) instead
        of loading the shipped ones (``seainpaint/data/pretrained/``, trained ahead of time
        for 8-20 minutes by ``scripts/train_pretrained.py``).

    Returns
    -------
    list of DemoCase
    """
    from rich.console import Console

    from .io.netcdf import to_netcdf

    console = Console()
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    minutes = QUICK_LEARNED_MINUTES if quick else LEARNED_MINUTES
    started = time.perf_counter()
    cases = []
    for make in (lambda: synthetic_case(48 if quick else 240, seed), lambda: ostia_case(seed)):
        cases.append(_run_case(make(), minutes, seed, out, console, train))
    written = []
    for case in cases:
        written.append(to_netcdf(
            case.fills[case.learned], out / f"{case.name}_filled.nc", overwrite=True,
            title=f"seainpaint demo: {case.title} filled by {case.learned}",
        ))
        written.append(_figure(case, out / f"demo_{case.name}.png"))
    console.print(_table(cases))
    for case in cases:
        if case.never_observed:
            counted = all(case.unfilled(m) == 0 for m in case.methods)
            console.print(
                f"{case.title}: {case.never_observed} sea pixels are under cloud in every "
                "frame; " + ("they are filled and counted in the MAE." if counted else
                             "methods that leave them unfilled are scored without them.")
            )
    for case in cases:
        se = case.fills[case.learned].coords.get(f"{case.obs.name}_standard_error")
        if se is not None:
            err = abs(case.fills[case.learned] - case.truth).where(case.gaps)
            within = float((err < se).sum() / case.gaps.sum())
            console.print(f"{case.title}: {case.learned} ({case.learned_source}) gives a "
                          "standard "
                          f"error per filled pixel; {within:.0%} of its errors lie within it")
    models = f" and {out / 'models'}" if train else ""
    console.print(f"wrote {', '.join(str(p) for p in written)}{models} "
                  f"in {time.perf_counter() - started:.0f} s")
    return cases
