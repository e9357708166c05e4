"""``seainpaint demo``: the whole chain offline on synthetic and real (OSTIA) SST.

(a) synthetic hourly SST (SQG turbulence) under synthetic clouds; (b) real OSTIA monthly
SST with its real land mask under synthetic clouds. Both are filled with DINEOF and the
climatological mean; the occluded-pixel MAE of each is printed, the products are written
as CF NetCDF and a PNG figure shows observed / filled / truth / error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr
from rich.console import Console
from rich.table import Table

from . import synthetic
from .filling import fill
from .io.netcdf import to_netcdf
from .io.samples import ostia_monthly
from .occlusion import Cloud, occlude


@dataclass
class DemoCase:
    """One demo dataset with its truth, observation and fills."""

    name: str
    truth: xr.DataArray
    obs: xr.DataArray
    fills: dict[str, xr.DataArray]
    seconds: dict[str, float]

    def mae(self, method: str) -> float:
        """Mean absolute error over occluded sea pixels."""
        occluded = self.obs.isnull() & self.truth.notnull()
        err = abs(self.fills[method] - self.truth).where(occluded)
        return float(err.mean())

    @property
    def occluded_fraction(self) -> float:
        """Fraction of sea pixels hidden by clouds."""
        sea = self.truth.notnull()
        return float((self.obs.isnull() & sea).sum() / sea.sum())


def _run_case(name: str, truth: xr.DataArray, threshold: float, seed: int) -> DemoCase:
    n_time = truth.sizes["time"]
    clouds = Cloud(synthetic.lwp(max(n_time, 24), 64, seed=seed + 1), threshold=threshold)
    obs = occlude(truth, clouds, seed=seed)
    fills, seconds = {}, {}
    for method in ("dineof", "climatology"):
        start = time.perf_counter()
        fills[method] = fill(obs, method)
        seconds[method] = time.perf_counter() - start
    return DemoCase(name, truth, obs, fills, seconds)


def _figure(cases: list[DemoCase], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    heights = [case.truth.sizes["latitude"] / case.truth.sizes["longitude"] for case in cases]
    fig, axes = plt.subplots(
        len(cases), 4, figsize=(18, 4.5 * sum(max(h, 0.3) for h in heights) + 1.5),
        squeeze=False, layout="constrained",
        gridspec_kw={"height_ratios": [max(h, 0.3) for h in heights]},
    )
    for row, case in zip(axes, cases, strict=True):
        t = int(case.obs.isnull().sum(("latitude", "longitude")).argmax("time"))
        truth = case.truth.isel(time=t)
        panels = [
            ("observed", case.obs.isel(time=t)),
            ("filled (DINEOF)", case.fills["dineof"].isel(time=t)),
            ("truth", truth),
        ]
        vmin, vmax = float(truth.min()), float(truth.max())
        for ax, (title, da) in zip(row[:3], panels, strict=True):
            im = da.plot.pcolormesh(ax=ax, vmin=vmin, vmax=vmax, cmap="RdYlBu_r",
                                    add_colorbar=False)
            ax.set_title(f"{case.name}: {title}")
            ax.set_aspect("equal")
        fig.colorbar(im, ax=row[2], shrink=0.8, label=case.truth.attrs.get("units", ""))
        err = case.fills["dineof"].isel(time=t) - truth
        lim = float(np.nanmax(np.abs(err.values))) or 1.0
        err.plot.pcolormesh(ax=row[3], cmap="RdBu_r", vmin=-lim, vmax=lim,
                            cbar_kwargs={"label": "error"})
        row[3].set_title(f"{case.name}: error (filled - truth)")
        row[3].set_aspect("equal")
    fig.savefig(path, dpi=80, bbox_inches="tight")
    plt.close(fig)


def run_demo(output_dir: Path | str, *, quick: bool = False, seed: int = 0) -> list[DemoCase]:
    """Run the offline demo and write its products into ``output_dir``.

    Parameters
    ----------
    output_dir : path
        Folder for ``synthetic_filled.nc``, ``ostia_filled.nc`` and ``demo.png``.
    quick : bool
        Smaller synthetic sequence, for smoke tests.
    seed : int
        Seed of the synthetic data and cloud draws.

    Returns
    -------
    list of DemoCase
    """
    console = Console()
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    n_time = 48 if quick else 240
    cases = []
    with console.status("synthetic SST under synthetic clouds ..."):
        truth = synthetic.sst(n_time, 64, seed=seed)
        cases.append(_run_case("synthetic", truth, threshold=70.0, seed=seed))
    with console.status("real OSTIA SST (iris-sample-data) under synthetic clouds ..."):
        cases.append(_run_case("OSTIA", ostia_monthly(), threshold=70.0, seed=seed))
    for case in cases:
        to_netcdf(
            case.fills["dineof"],
            out / f"{case.name.lower()}_filled.nc",
            overwrite=True,
            title=f"seainpaint demo: {case.name} SST filled with DINEOF",
        )
    _figure(cases, out / "demo.png")
    table = Table(title="seainpaint demo: MAE over occluded sea pixels")
    for col in ("dataset", "grid", "occluded", "DINEOF MAE", "climatology MAE", "DINEOF time"):
        table.add_column(col)
    for case in cases:
        units = case.truth.attrs.get("units", "")
        grid = "×".join(str(s) for s in case.truth.shape)
        table.add_row(
            case.name,
            grid,
            f"{case.occluded_fraction:.0%}",
            f"{case.mae('dineof'):.4f} {units}",
            f"{case.mae('climatology'):.4f} {units}",
            f"{case.seconds['dineof']:.1f} s",
        )
    console.print(table)
    console.print(f"wrote {out / 'synthetic_filled.nc'}, {out / 'ostia_filled.nc'}, "
                  f"{out / 'demo.png'}")
    return cases
