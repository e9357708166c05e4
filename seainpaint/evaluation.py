"""Compare filling methods the way the paper and the gap-filling field do: method × score.

:func:`evaluate` scores one or more filled fields against the truth: MAE, RMSE and bias
over the hidden sea pixels as mean ± std over sequences of ``sequence_length`` frames
(the paper's Tables 1 and 2), RMSE on the observed pixels, FID on frames and FVD on
sequences (see :mod:`seainpaint.metrics`), CRPS and 1σ/2σ coverage for fills that carry a
standard error, the effective resolution in space (px, km) and time (h) from the PSD
score, the power ratio fill/truth per wavenumber band and the ratio of frame-to-frame
change. :func:`evaluate_by_cover` gives the errors by cloud cover of the frame,
:func:`evaluate_by_distance` by how far the nearest observation lies in time or space. The
tables can be printed (:func:`print_table`), formatted with ± (:func:`format_table`) and
written as CSV, Markdown or JSON (:func:`write_table`, atomic).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from . import metrics
from .conventions import SE_SUFFIX
from .errors import FieldError, SeainpaintError
from .field import canonical, field_dims, has_land, land_mask, to_numpy_tyxc
from .io.stores import open_field
from .metrics import resolution as spectral
from .units import units_label

SMALL_NET_NOTE = (
    "FID/FVD computed with seainpaint's random-initialised SmallFeatureNet: useful to rank "
    "methods on this data, not comparable to published FID/FVD (InceptionV3 / I3D; see "
    "seainpaint.metrics.load_inception / load_i3d)"
)
ERROR_METRICS = ("MAE", "RMSE", "Bias")
PROBABILISTIC = ("CRPS", "Coverage 1σ", "Coverage 2σ")
BANDS = ("low", "mid", "high")
#: cloud-cover bins (%) of :func:`evaluate_by_cover`
COVER_BINS = (0, 20, 40, 60, 80, 100)
COVER_INDEX = "Cloud cover (%)"
COVER_COLUMNS = ("Frames", "Pixels", "MAE", "RMSE")
#: columns in the field's units (the table's headers carry them)
UNIT_COLUMNS = (*ERROR_METRICS, "RMSE observed", "CRPS")
FORMATS = ("table", "csv", "markdown", "json")

__all__ = [
    "COVER_BINS",
    "FORMATS",
    "calibration_curves",
    "evaluate",
    "evaluate_by_cover",
    "evaluate_by_distance",
    "figure_paths",
    "format_cover_table",
    "format_distance_table",
    "format_table",
    "frame_cover",
    "open_field",
    "open_filled",
    "print_table",
    "psd_scores",
    "render_table",
    "standard_error_of",
    "write_table",
]


def _named(
    filled: Mapping[str, xr.DataArray] | Sequence[xr.DataArray] | xr.DataArray,
    names: Sequence[str] | None,
) -> dict[str, xr.DataArray]:
    if isinstance(filled, xr.DataArray):
        filled = [filled]
    if isinstance(filled, Mapping):
        items = dict(filled)
        if names is not None:
            if len(names) != len(items):
                raise SeainpaintError(f"{len(names)} names given for {len(items)} filled fields")
            items = dict(zip(names, items.values(), strict=True))
    else:
        fields = list(filled)
        if names is None:
            names = [f"method {i + 1}" for i in range(len(fields))]
        if len(names) != len(fields):
            raise SeainpaintError(f"{len(names)} names given for {len(fields)} filled fields")
        items = dict(zip([str(n) for n in names], fields, strict=True))
        if len(items) != len(fields):
            raise SeainpaintError(f"method names must be unique, got {list(names)}")
    if not items:
        raise SeainpaintError("nothing to evaluate: give at least one filled field")
    return items


def _check_grid(truth: xr.DataArray, other: xr.DataArray, what: str) -> xr.DataArray:
    tdims = field_dims(truth)
    can, odims = canonical(other)
    tshape = tuple(truth.sizes[d] for d in tdims.canonical)
    oshape = tuple(can.shape)
    if tshape != oshape:
        raise FieldError(
            f"{what} has shape {oshape} (dims {odims.canonical}) but the truth has {tshape} "
            f"(dims {tdims.canonical}); all fields must share one grid"
        )
    # same grid: give it the truth's dim names and order so xarray ops line up
    can = can.rename(dict(zip(odims.canonical, tdims.canonical, strict=True)))
    # into memory once: the metrics read each field several times
    return can.drop_vars([c for c in can.coords if c not in can.dims]).compute()


def _sequences(n_time: int, length: int) -> list[slice]:
    if length < 1:
        raise SeainpaintError(f"sequence_length must be >= 1, got {length}")
    if n_time <= length:
        return [slice(0, n_time)]
    return [slice(s, s + length) for s in range(0, n_time - length + 1, length)]


def _feature_nets(features: Any) -> tuple[Any, Any, str | None]:
    """(FID net, FVD net, note) from the ``features`` argument."""
    if features is False:
        return None, None, None
    if features is None or features == "small":
        return "small", "small", SMALL_NET_NOTE
    if isinstance(features, Mapping):
        unknown = set(features) - {"fid", "fvd"}
        if unknown:
            raise SeainpaintError(
                f"features keys must be 'fid' and/or 'fvd', got {sorted(map(str, unknown))}"
            )
        return features.get("fid"), features.get("fvd"), None
    raise SeainpaintError(
        "features must be None (small default networks), False (no FID/FVD) or a mapping "
        f"{{'fid': net, 'fvd': net}}, got {type(features).__name__}"
    )


@dataclass
class _Case:
    """The inputs of a scoring, on the truth's grid and in memory."""

    truth: xr.DataArray  # canonical dims, with its coordinates
    obs: xr.DataArray
    fields: dict[str, xr.DataArray]
    sigmas: dict[str, np.ndarray | None]  # (T, Y, X, C) standard errors, when a fill has them
    t_all: np.ndarray  # (T, Y, X, C)
    observed: np.ndarray  # (T, Y, X)
    land: np.ndarray  # (Y, X)

    @property
    def hidden(self) -> np.ndarray:
        """``(T, Y, X)`` sea pixels missing in the observation (the ones a fill is scored on)."""
        return ~self.observed & ~self.land[None]

    def values(self, name: str) -> np.ndarray:
        """The fill ``name`` as a ``(T, Y, X, C)`` array."""
        return to_numpy_tyxc(self.fields[name])[0]


def standard_error_of(da: xr.DataArray) -> xr.DataArray | None:
    """The standard error a filled field carries, on its grid, or None.

    It is the coordinate ``<name>_standard_error`` that ``fill(model, uncertainty=True)``
    attaches (or the only coordinate whose name ends with ``_standard_error``).
    """
    name = f"{da.name}{SE_SUFFIX}"
    if name not in da.coords:
        found = [str(c) for c in da.coords if str(c).endswith(SE_SUFFIX)]
        if len(found) != 1:
            return None
        name = found[0]
    se = (xr.zeros_like(da) + da.coords[name].reset_coords(drop=True)).transpose(*da.dims)
    se.attrs = dict(da.attrs)
    return se.rename(name)


def _prepare(
    truth: xr.DataArray,
    obs: xr.DataArray,
    filled: Mapping[str, xr.DataArray] | Sequence[xr.DataArray] | xr.DataArray,
    names: Sequence[str] | None,
) -> _Case:
    truth_can, _ = canonical(truth)
    truth_can = truth_can.compute()
    named = _named(filled, names)
    sigmas: dict[str, np.ndarray | None] = {}
    for name, da in named.items():
        se = standard_error_of(da)
        sigmas[name] = None
        if se is not None:
            se = _check_grid(truth_can, se, f"standard error of {name!r}")
            sigmas[name] = to_numpy_tyxc(se)[0].astype(np.float64)
    obs_can = _check_grid(truth_can, obs, "obs")
    observed = metrics.region_mask(truth_can, obs_can, region="observed")
    land = _explicit_land(obs, named)
    return _Case(
        truth=truth_can,
        obs=obs_can,
        fields={n: _check_grid(truth_can, da, f"filled field {n!r}") for n, da in named.items()},
        sigmas=sigmas,
        t_all=to_numpy_tyxc(truth_can)[0],
        observed=observed,
        land=~observed.any(axis=0) if land is None else land,  # land = never observed
    )


def _valid(case: _Case, f_all: np.ndarray) -> np.ndarray:
    """``(T, Y, X, C)`` pixels where truth and fill are finite, off land."""
    return np.isfinite(case.t_all) & np.isfinite(f_all) & ~case.land[None, :, :, None]


def _spectral_scores(case: _Case, f_all: np.ndarray) -> dict[str, float]:
    """Effective resolutions (px, km when lat/lon, h when datetime) and power ratios."""
    t, valid = case.t_all, _valid(case, f_all)
    maps = spectral.spatial_power_maps(t, f_all, valid)
    pixels = spectral.radial_spectra(maps)
    row = {"Effective resolution (px)": spectral.crossing_wavelength(spectral.score_of(pixels))}
    km = spectral.grid_spacing_km(case.truth)
    if km is not None:
        score = spectral.score_of(spectral.radial_spectra(maps, km, "km"))
        row["Effective resolution (km)"] = spectral.crossing_wavelength(score)
    hours = spectral.time_step_hours(case.truth)
    if hours is not None:
        score = spectral.score_of(spectral.temporal_spectra(t, f_all, valid, hours, "h"))
        row["Effective resolution (h)"] = spectral.crossing_wavelength(score)
    ratios = spectral.band_ratios(pixels, len(BANDS))
    row.update({f"Power ratio {b}": r for b, r in zip(BANDS, ratios, strict=True)})
    return row


def _probabilistic_scores(case: _Case, name: str, f_all: np.ndarray) -> dict[str, float]:
    """CRPS and 1σ/2σ coverage on the hidden pixels; NaN for a fill without σ."""
    sigma = case.sigmas[name]
    if sigma is None:
        return dict.fromkeys(PROBABILISTIC, math.nan)
    select = np.broadcast_to(case.hidden[..., None], f_all.shape) & _valid(case, f_all)
    scores = metrics.gaussian_scores((f_all - case.t_all)[select], sigma[select])
    return dict(
        zip(PROBABILISTIC, (scores[k] for k in ("crps", "coverage_1", "coverage_2")), strict=True)
    )


def evaluate(
    truth: xr.DataArray,
    obs: xr.DataArray,
    filled: Mapping[str, xr.DataArray] | Sequence[xr.DataArray] | xr.DataArray,
    *,
    names: Sequence[str] | None = None,
    sequence_length: int = 24,
    features: Any = None,
    diagnostics: bool = True,
) -> pd.DataFrame:
    """Score filled fields against the truth, one row per method.

    Parameters
    ----------
    truth : xarray.DataArray
        The complete field ``(time, y, x[, channel])`` (NaN allowed on land).
    obs : xarray.DataArray
        The observation the methods saw (NaN = missing); defines hidden pixels and land.
    filled : dict of name -> DataArray, list of DataArray, or one DataArray
        The filled fields, on the truth's grid (dims may be named and ordered differently).
        A field carrying a standard error (the ``<var>_standard_error`` coordinate of
        ``fill(model, uncertainty=True)``) gets the probabilistic scores.
    names : list of str, optional
        Method names (default: the dict keys, or "method 1", ...).
    sequence_length : int
        Frames per sequence: MAE/RMSE/bias are computed per sequence of consecutive
        frames and reported as mean and std over sequences; FVD compares such sequences.
        Frames after the last full sequence are left out of those statistics (the other
        scores use every frame).
    features : None, False or dict
        None: FID and FVD with the small random default networks (numbers not comparable
        to published ones; a note says so); False: no FID/FVD; ``{"fid": net, "fvd": net}``:
        your feature networks (e.g. from :func:`seainpaint.metrics.load_inception` and
        :func:`~seainpaint.metrics.load_i3d`), a missing key skips that distance.
    diagnostics : bool
        Add the spectral and temporal scores: effective resolutions, power ratios per band
        and ``dT std ratio`` (below).

    Returns
    -------
    pandas.DataFrame
        Index ``method``; columns:

        - ``Occluded (%)`` (and its std), ``FID`` and ``FVD`` (when computed);
        - ``MAE``, ``RMSE``, ``Bias`` and their ``std``: on the **hidden** pixels (sea
          pixels missing in ``obs``, where the truth is known), mean ± std over sequences;
        - ``RMSE observed``: on the pixels observed in ``obs`` (0 for every seainpaint
          method, which keeps observations bit for bit; > 0 for methods that smooth them);
        - ``CRPS`` (closed form for the Gaussian ``N(fill, σ²)``, units of the MAE),
          ``Coverage 1σ`` and ``Coverage 2σ`` (share of hidden-pixel errors within 1σ
          and 2σ; 0.683 and 0.954 when calibrated): NaN for fills without σ;
        - with ``diagnostics``: ``Effective resolution (px)``, the wavelength where the
          PSD score ``1 − PSD(fill − truth)/PSD(truth)`` (radially averaged, over frames)
          first drops below 0.5; ``Effective resolution (km)`` when the grid has 1-D
          latitude/longitude (grid spacing in km at the mean latitude); ``Effective
          resolution (h)`` from the spectrum of each pixel's time series when time is a
          datetime coordinate. NaN when it cannot be computed: the score stays above 0.5
          down to the grid scale (the fill resolves every scale the grid holds, e.g. a
          perfect fill) or is below 0.5 already at the longest wavelength. Land and
          missing values are zero-padded anomalies (see :mod:`seainpaint.metrics.resolution`).
          ``Power ratio low``, ``mid``, ``high``: spatial power of the fill over the
          truth's in equal thirds of the resolved wavenumbers (1 is ideal, below 1 too
          smooth; NaN where the truth has almost no power). ``dT std ratio``: std of
          frame-to-frame changes, fill over truth (1 is ideal).

        ``df.attrs`` holds ``sequence_length``, ``n_sequences``, ``units``, ``note``,
        ``n_scored`` and ``n_never_observed``. The error by cloud cover of the frame is
        :func:`evaluate_by_cover`.
    """
    case = _prepare(truth, obs, filled, names)
    tdims = field_dims(case.truth)
    n_time = case.truth.sizes[tdims.time]
    seqs = _sequences(n_time, sequence_length)
    fid_net, fvd_net, note = _feature_nets(features)
    n_channels = case.truth.sizes[tdims.channel] if tdims.channel else 1
    if fid_net == "small":
        fid_net = metrics.SmallFeatureNet(in_channels=n_channels, dims=2)
    if fvd_net == "small":
        fvd_net = metrics.SmallFeatureNet(in_channels=n_channels, dims=3)
    clip = min(sequence_length, n_time)

    # occluded = missing but not land, land taken over the whole record (not per sequence)
    occ = case.hidden
    sea = np.broadcast_to(~case.land[None], occ.shape)
    never = ~case.observed.any(axis=0) & ~case.land  # sea never observed (flag 3 in fill's output)
    n_scored = sum(int(occ[sl].sum()) for sl in seqs)
    n_never = sum(int(occ[sl][:, never].sum()) for sl in seqs)
    occluded = [100 * occ[sl].sum() / max(int(sea[sl].sum()), 1) for sl in seqs]
    rows: dict[str, dict[str, float]] = {}
    for name, da in case.fields.items():
        f_all = case.values(name)
        per_seq: dict[str, list[float]] = {m: [] for m in ERROR_METRICS}
        for sl in seqs:
            err = metrics.errors_from_arrays(case.t_all[sl], f_all[sl], occ[sl])
            if err["n"]:
                per_seq["MAE"].append(err["mae"])
                per_seq["RMSE"].append(err["rmse"])
                per_seq["Bias"].append(err["bias"])
        row: dict[str, float] = {}
        for m in ERROR_METRICS:
            vals = np.asarray(per_seq[m])
            row[m] = float(vals.mean()) if vals.size else math.nan
            row[f"{m} std"] = float(vals.std()) if vals.size else math.nan
        row["RMSE observed"] = metrics.errors_from_arrays(
            case.t_all, f_all, case.observed & ~case.land[None]
        )["rmse"]
        row.update(_probabilistic_scores(case, name, f_all))
        row["Occluded (%)"] = float(np.mean(occluded))
        row["Occluded (%) std"] = float(np.std(occluded))
        if fid_net is not None:
            row["FID"] = metrics.fid(case.truth, da, case.obs, features=fid_net)
        if fvd_net is not None:
            row["FVD"] = metrics.fvd(case.truth, da, case.obs, features=fvd_net, clip_length=clip)
        if diagnostics:
            row.update(_spectral_scores(case, f_all))
            temporal = metrics.temporal_ratio(case.truth, da, case.obs)
            row["dT std ratio"] = temporal["diff_std_ratio"]
        rows[name] = row
    df = pd.DataFrame.from_dict(rows, orient="index")
    # the paper's order (Tables 1, 2): occluded area, FID, FVD, MAE; then the extras
    first = ["Occluded (%)", "Occluded (%) std", "FID", "FVD"]
    df = df[[c for c in first if c in df.columns] + [c for c in df.columns if c not in first]]
    df.index.name = "method"
    df.attrs = {
        "sequence_length": int(min(sequence_length, n_time)),
        "n_sequences": len(seqs),
        "units": str(truth.attrs.get("units", "")),
        "note": note or "",
        "n_scored": n_scored,
        "n_never_observed": n_never,
    }
    return df


def psd_scores(
    truth: xr.DataArray,
    obs: xr.DataArray,
    filled: Mapping[str, xr.DataArray] | Sequence[xr.DataArray] | xr.DataArray,
    *,
    names: Sequence[str] | None = None,
    along: str = "space",
    units: str | None = None,
) -> dict[str, xr.DataArray]:
    """The PSD score curve of each method, as :func:`evaluate` computes it.

    Parameters
    ----------
    truth, obs, filled, names
        As in :func:`evaluate`.
    along : {"space", "time"}
        Radially averaged spatial spectra over frames, or spectra of the pixel series.
    units : str, optional
        Space: ``"px"`` or ``"km"`` (default: km on a latitude/longitude grid, else px);
        time: ``"h"`` or ``"steps"`` (default: h with a datetime time, else steps).

    Returns
    -------
    dict of str -> xarray.DataArray
        Score by ``wavenumber`` with a ``wavelength`` coordinate (its ``units`` attribute
        says which), per method; ``attrs["effective_resolution"]`` holds the crossing of
        0.5 (NaN when it cannot be computed).
    """
    case = _prepare(truth, obs, filled, names)
    if units is None and along == "space":
        units = "km" if spectral.grid_spacing_km(case.truth) is not None else "px"
    elif units is None and along == "time":
        units = "h" if spectral.time_step_hours(case.truth) is not None else "steps"
    out = {}
    for name in case.fields:
        f_all = case.values(name)
        spectra = spectral.axis_spectra(case.truth, case.t_all, f_all, _valid(case, f_all),
                                        along, units)
        score = spectral.score_of(spectra)
        score.attrs["effective_resolution"] = spectral.crossing_wavelength(score)
        score.attrs["units"] = units
        out[name] = score
    return out


def calibration_curves(
    truth: xr.DataArray,
    obs: xr.DataArray,
    filled: Mapping[str, xr.DataArray] | Sequence[xr.DataArray] | xr.DataArray,
    *,
    names: Sequence[str] | None = None,
    levels: Sequence[float] = metrics.probabilistic.DEFAULT_LEVELS,
) -> dict[str, xr.DataArray]:
    """Observed coverage of the central prediction intervals, per method with a σ.

    For each nominal probability ``p``, the share of hidden-pixel errors within
    ``Φ⁻¹((1 + p)/2) σ`` (see :func:`seainpaint.metrics.calibration_curve`); a calibrated
    σ gives ``p``. Methods without a standard error are left out.

    Returns
    -------
    dict of str -> xarray.DataArray
        Observed coverage by ``nominal`` probability.
    """
    case = _prepare(truth, obs, filled, names)
    out = {}
    for name, sigma in case.sigmas.items():
        if sigma is None:
            continue
        f_all = case.values(name)
        select = np.broadcast_to(case.hidden[..., None], f_all.shape) & _valid(case, f_all)
        curve = metrics.calibration_curve((f_all - case.t_all)[select], sigma[select], levels)
        out[name] = xr.DataArray(
            curve,
            dims=("nominal",),
            coords={"nominal": np.asarray(levels, dtype=float)},
            name="coverage",
            attrs={"long_name": "observed coverage of the central prediction interval"},
        )
    return out


def _cover_bins(bins: Sequence[float]) -> np.ndarray:
    edges = np.asarray(bins, dtype=np.float64)
    if (
        edges.ndim != 1
        or edges.size < 2
        or not np.all(np.diff(edges) > 0)
        or edges[0] < 0
        or edges[-1] > 100
    ):
        raise SeainpaintError(
            f"bins must be increasing cloud-cover percentages in [0, 100], got {list(bins)}"
        )
    return edges


def frame_cover(obs: xr.DataArray, land: np.ndarray | None = None) -> np.ndarray:
    """Cloud cover of each frame in %: the share of its sea pixels missing in ``obs``.

    Parameters
    ----------
    obs : xarray.DataArray
        The observation (NaN = missing).
    land : numpy.ndarray, optional
        Boolean ``(y, x)`` land (default: the pixels never observed).

    Returns
    -------
    numpy.ndarray
        ``(time,)`` cover in % (NaN for every frame of a grid with no sea).
    """
    observed = metrics.region_mask(obs, obs, region="observed")
    if land is None:
        land = ~observed.any(axis=0)
    return _cover(observed, np.asarray(land, dtype=bool))


def _cover(observed: np.ndarray, land: np.ndarray) -> np.ndarray:
    n_sea = int((~land).sum())
    hidden = (~observed & ~land[None]).sum(axis=(1, 2))
    return 100.0 * hidden / n_sea if n_sea else np.full(observed.shape[0], math.nan)


def evaluate_by_cover(
    truth: xr.DataArray,
    obs: xr.DataArray,
    filled: Mapping[str, xr.DataArray] | Sequence[xr.DataArray] | xr.DataArray,
    *,
    names: Sequence[str] | None = None,
    bins: Sequence[float] = COVER_BINS,
) -> pd.DataFrame:
    """MAE and RMSE on the hidden pixels by cloud cover of the frame, per method.

    The cloud cover of a frame is the share of its sea pixels missing in ``obs`` (land as
    in :func:`evaluate`). Frames are grouped in cover bins ``[lo, hi)`` (the last one
    includes 100 %) and the errors pooled over the hidden pixels of each bin's frames.

    Parameters
    ----------
    truth, obs, filled, names
        As in :func:`evaluate`.
    bins : sequence of float
        Bin edges in % (default 0, 20, 40, 60, 80, 100). Frames outside are left out.

    Returns
    -------
    pandas.DataFrame
        Index ``(method, "Cloud cover (%)")`` with bin labels such as ``"20–40"``; columns
        ``Frames`` (frames in the bin), ``Pixels`` (hidden pixel values scored), ``MAE``
        and ``RMSE`` (NaN where no pixel is scored). Every bin is listed for every method.
        ``df.attrs`` holds ``units`` and ``bins``.
    """
    edges = _cover_bins(bins)
    case = _prepare(truth, obs, filled, names)
    cover = _cover(case.observed, case.land)
    which = np.clip(np.searchsorted(edges, cover, side="right") - 1, 0, edges.size - 2)
    inside = (cover >= edges[0]) & (cover <= edges[-1])
    labels = [f"{lo:g}–{hi:g}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    rows = []
    for name in case.fields:
        f_all = case.values(name)
        for b, label in enumerate(labels):
            frames = inside & (which == b)
            err = metrics.errors_from_arrays(case.t_all[frames], f_all[frames], case.hidden[frames])
            rows.append((name, label, int(frames.sum()), err["n"], err["mae"], err["rmse"]))
    df = pd.DataFrame(rows, columns=["method", COVER_INDEX, *COVER_COLUMNS])
    df = df.set_index(["method", COVER_INDEX])
    df.attrs = {"units": str(truth.attrs.get("units", "")), "bins": [float(e) for e in edges]}
    return df


#: distance bins of :func:`evaluate_by_distance`: frames (time) and pixels (space)
DISTANCE_BINS = {"time": (1, 2, 4, 7, 13, 25, 49), "space": (1, 2, 4, 8, 16, 32)}
DISTANCE_INDEX = {"time": "Frames to an observation", "space": "Pixels to an observation"}
DISTANCE_COLUMNS = ("Pixels", "Share (%)", "MAE", "RMSE", "Error share (%)")
#: the bin of hidden pixels with no observation at all (in the record, in the frame)
NO_OBSERVATION = "none"


def _distance_bins(bins: Sequence[float]) -> np.ndarray:
    edges = np.asarray(bins, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 1 or not np.all(np.diff(edges) > 0) or edges[0] <= 0:
        raise SeainpaintError(f"bins must be increasing positive distances, got {list(bins)}")
    return edges


def _distance_label(lo: float, hi: float, axis: str) -> str:
    if not np.isfinite(hi):
        return f"≥ {lo:g}"
    if axis == "time":  # whole frames: [lo, hi) is lo..hi-1
        return f"{lo:g}" if hi - lo == 1 else f"{lo:g}–{hi - 1:g}"
    return f"{lo:g}–{hi:g}"


def evaluate_by_distance(
    truth: xr.DataArray,
    obs: xr.DataArray,
    filled: Mapping[str, xr.DataArray] | Sequence[xr.DataArray] | xr.DataArray,
    *,
    axis: str = "time",
    names: Sequence[str] | None = None,
    bins: Sequence[float] | None = None,
) -> pd.DataFrame:
    """The errors on hidden pixels by how far the nearest observation lies, per method.

    Where a fill errs depends on how far it had to reach: ``axis="time"`` bins each hidden
    pixel by the frames to the nearest frame where that pixel is observed, ``axis="space"``
    by the distance in pixels to the nearest observed pixel of its frame (the cloud's
    edge); see :func:`seainpaint.metrics.distance_to_observation`. Land is as in
    :func:`evaluate`.

    Parameters
    ----------
    truth, obs, filled, names
        As in :func:`evaluate`.
    axis : {"time", "space"}
        The distance binned by.
    bins : sequence of float, optional
        Lower edges of the bins, increasing and positive; each bin runs to the next edge,
        the last one to infinity. Default ``1, 2, 4, 7, 13, 25, 49`` frames (time) and
        ``1, 2, 4, 8, 16, 32`` pixels (space). Hidden pixels with no observation at all
        (never in the record; none in the frame) form the last bin, ``"none"``.

    Returns
    -------
    pandas.DataFrame
        Index ``(method, "Frames to an observation" | "Pixels to an observation")`` with
        bin labels such as ``"4–6"``; columns ``Pixels`` (hidden pixel values scored),
        ``Share (%)`` (of the method's scored hidden pixels), ``MAE``, ``RMSE`` and ``Error
        share (%)`` (the bin's share of the method's total absolute error: where the error
        is). Every bin is listed for every method. ``df.attrs`` holds ``units``, ``axis``
        and ``bins``.

    Raises
    ------
    SeainpaintError
        Unknown axis or bad bins.
    """
    if axis not in DISTANCE_BINS:
        raise SeainpaintError(f"axis={axis!r}; choose one of {tuple(DISTANCE_BINS)}")
    edges = _distance_bins(DISTANCE_BINS[axis] if bins is None else bins)
    case = _prepare(truth, obs, filled, names)
    distance = metrics.distance_to_observation(case.observed, axis)
    uppers = np.append(edges[1:], np.inf)
    groups = [(_distance_label(lo, hi, axis), (distance >= lo) & (distance < hi))
              for lo, hi in zip(edges, uppers, strict=True)]
    groups.append((NO_OBSERVATION, np.isinf(distance)))
    selections = [case.hidden & where for _, where in groups]  # the same for every method
    rows = []
    for name in case.fields:
        f_all = case.values(name)
        scored = [metrics.errors_from_arrays(case.t_all, f_all, sel) for sel in selections]
        abs_sums = [err["n"] * err["mae"] if err["n"] else 0.0 for err in scored]
        n_total, abs_total = sum(err["n"] for err in scored), sum(abs_sums)
        for (label, _), err, abs_sum in zip(groups, scored, abs_sums, strict=True):
            rows.append((name, label, err["n"],
                         100.0 * err["n"] / n_total if n_total else math.nan,
                         err["mae"], err["rmse"],
                         100.0 * abs_sum / abs_total if abs_total else math.nan))
    index = DISTANCE_INDEX[axis]
    df = pd.DataFrame(rows, columns=["method", index, *DISTANCE_COLUMNS])
    df = df.set_index(["method", index])
    df.attrs = {"units": str(truth.attrs.get("units", "")), "axis": axis,
                "bins": [float(e) for e in edges]}
    return df


def format_distance_table(by_distance: pd.DataFrame) -> pd.DataFrame:
    """:func:`evaluate_by_distance`'s table as strings, one row per method and bin."""
    index = by_distance.index.names[1]
    flat = by_distance.reset_index().set_index("method")
    out = pd.DataFrame(index=flat.index)
    out[index] = flat[index].astype(str)
    out["Pixels"] = flat["Pixels"].astype(int).astype(str)
    out["Share (%)"] = [_fmt(v, 1) for v in flat["Share (%)"]]
    units = units_label(by_distance.attrs.get("units"))
    for col in ("MAE", "RMSE"):
        label = f"{col} ({units})" if units and len(units) <= 6 else col
        out[label] = [_fmt_sig(v) for v in flat[col]]
    out["Error share (%)"] = [_fmt(v, 1) for v in flat["Error share (%)"]]
    out.attrs = dict(by_distance.attrs)
    return out


def open_filled(
    source: xr.DataArray | xr.Dataset | str | Path, variable: str | None = None
) -> xr.DataArray:
    """:func:`open_field` for a filled product, with its standard error attached.

    A product written by :func:`seainpaint.to_netcdf` holds the standard error as a
    variable ``<var>_standard_error``; it becomes the coordinate :func:`evaluate` reads.
    """
    field = open_field(source, variable)
    if isinstance(source, xr.DataArray) or standard_error_of(field) is not None:
        return field
    name = f"{field.name}{SE_SUFFIX}"
    try:
        se = open_field(source, name)
    except FieldError:
        return field
    return field.assign_coords({name: se.variable})


FIGURES = ("psd_score", "calibration")


def figure_paths(prefix: str | Path, *, overwrite: bool = False) -> dict[str, Path]:
    """Where ``seainpaint evaluate --plot PREFIX`` writes its figures, checked up front.

    ``PREFIX`` naming an existing folder, or ending with ``/``: ``PREFIX/psd_score.png`` and
    ``PREFIX/calibration.png``; otherwise ``PREFIX_psd_score.png`` and
    ``PREFIX_calibration.png``. Missing parent folders are created.

    Raises
    ------
    OutputExistsError
        A figure exists and ``overwrite`` is false (nothing is written then).
    """
    from .io.atomic import check_target

    text = str(prefix)
    folder = Path(text)
    if text.endswith(("/", os.sep)) or folder.is_dir():
        paths = {f: folder / f"{f}.png" for f in FIGURES}
    else:
        paths = {f: folder.with_name(f"{folder.name}_{f}.png") for f in FIGURES}
    for path in paths.values():
        check_target(path, kind="file", overwrite=overwrite)
    next(iter(paths.values())).parent.mkdir(parents=True, exist_ok=True)
    return paths


def _explicit_land(obs: xr.DataArray, fields: dict[str, xr.DataArray]) -> np.ndarray | None:
    """``(Y, X)`` land from a ``land`` coordinate of obs or of a filled field, if any."""
    for da in (obs, *fields.values()):
        if has_land(da):
            dims = field_dims(da)
            return np.asarray(land_mask(da).transpose(dims.y, dims.x).values)
    return None


# ----------------------------------------------------------------------------- output


def _fmt(value: float, digits: int) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    if abs(value) >= 100:
        return f"{value:.2f}"
    return f"{value:.{digits}f}"


def _fmt_sig(value: float) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{value:.2f}" if abs(value) >= 100 else f"{value:.4g}"


def format_table(df: pd.DataFrame, digits: int = 4) -> pd.DataFrame:
    """The table as strings, ``mean±std`` merged as in the paper (``.0739±.0324``)."""
    out: dict[str, list[str]] = {}
    for col in df.columns:
        if col.endswith(" std"):
            continue
        std_col = f"{col} std"
        if std_col in df.columns:
            d = 1 if col.startswith("Occluded") else digits
            out[col] = [
                f"{_fmt(m, d)}±{_fmt(s, d)}" for m, s in zip(df[col], df[std_col], strict=True)
            ]
        else:
            out[col] = [_fmt_sig(v) for v in df[col]]
    table = pd.DataFrame(out, index=df.index)
    units = df.attrs.get("units")
    units = units_label(units)
    if units and len(units) <= 6:
        table = table.rename(columns={m: f"{m} ({units})" for m in UNIT_COLUMNS})
    table.attrs = dict(df.attrs)
    return table


def markdown_table(table: pd.DataFrame) -> str:
    """A table of strings as GitHub Markdown, cells kept exactly as written (right-aligned)."""
    table = table.copy()
    table.index.name = str(table.index.name or "method")
    align = ("left", *["right"] * table.shape[1])
    return table.to_markdown(disable_numparse=True, colalign=align) + "\n"


def format_cover_table(by_cover: pd.DataFrame) -> pd.DataFrame:
    """:func:`evaluate_by_cover`'s table as strings, one row per method and bin (flat index)."""
    flat = by_cover.reset_index().set_index("method")
    out = pd.DataFrame(index=flat.index)
    out[COVER_INDEX] = flat[COVER_INDEX].astype(str)
    for col in ("Frames", "Pixels"):
        out[col] = flat[col].astype(int).astype(str)
    units = units_label(by_cover.attrs.get("units"))
    for col in ("MAE", "RMSE"):
        label = f"{col} ({units})" if units and len(units) <= 6 else col
        out[label] = [_fmt_sig(v) for v in flat[col]]
    out.attrs = dict(by_cover.attrs)
    return out


def _cover_caption(by_cover: pd.DataFrame) -> str:
    return (
        "MAE and RMSE over the hidden sea pixels of the frames in each cloud-cover bin (the "
        "share of a frame's sea pixels missing in the observation), pooled over the frames."
    )


def _distance_caption(by_distance: pd.DataFrame) -> str:
    where = ("frames to the nearest frame where the pixel is observed"
             if by_distance.attrs.get("axis") == "time" else
             "pixels to the nearest observed pixel of the frame")
    return (f"MAE and RMSE over the hidden sea pixels by {where} (none: no observation at "
            "all); Error share: the bin's share of the method's total absolute error.")


@dataclass(frozen=True)
class _Breakdown:
    """A table that follows the main one: the errors broken down by cover or distance."""

    title: str
    key: str  # its object in the JSON output
    table: pd.DataFrame  # as strings
    caption: str
    raw: pd.DataFrame


def _breakdowns(by_cover: pd.DataFrame | None,
                by_distance: Sequence[pd.DataFrame]) -> list[_Breakdown]:
    out = []
    if by_cover is not None:
        out.append(_Breakdown("error by cloud cover", "by_cover", format_cover_table(by_cover),
                              _cover_caption(by_cover), by_cover))
    for table in by_distance:
        axis = table.attrs.get("axis", "time")
        out.append(_Breakdown(f"error by distance in {axis}", f"by_distance_{axis}",
                              format_distance_table(table), _distance_caption(table), table))
    return out


def _markdown(df: pd.DataFrame, breakdowns: Sequence[_Breakdown] = ()) -> str:
    text = markdown_table(format_table(df)) + "\n" + _caption(df) + "\n"
    for extra in breakdowns:
        text += "\n" + markdown_table(extra.table) + "\n" + extra.caption + "\n"
    return text


def _caption(df: pd.DataFrame) -> str:
    attrs = df.attrs
    scored = ""
    if "n_scored" in attrs:
        scored = (
            f" ({attrs['n_scored']} pixels, of which {attrs.get('n_never_observed', 0)} sea "
            "pixels never observed, flag 3)"
        )
    text = (
        f"MAE, RMSE and bias over occluded (hidden) sea pixels{scored}: mean ± std over "
        f"{attrs.get('n_sequences', '?')} sequences of {attrs.get('sequence_length', '?')} frames."
    )
    if "RMSE observed" in df.columns:
        text += " RMSE observed: over the pixels observed in the observation."
    if "CRPS" in df.columns:
        text += " CRPS and coverage: for fills with a standard error σ, on hidden pixels."
    if "Effective resolution (px)" in df.columns:
        text += (
            " Effective resolution: wavelength where the PSD score 1 − PSD(fill − truth)"
            "/PSD(truth) drops below 0.5 (n/a: it cannot be computed on this field)."
        )
    if attrs.get("note"):
        text += f" Note: {attrs['note']}."
    return text


def _clean(v: Any) -> Any:
    return None if isinstance(v, float) and not math.isfinite(v) else v


def _breakdown_json(by_cover: pd.DataFrame) -> dict[str, Any]:
    """A breakdown table (by cover or distance) as ``{method: {bin: {column: value}}}``."""
    out: dict[str, Any] = {}
    for (method, label), row in by_cover.iterrows():
        cells = {
            str(k): int(v) if k in ("Frames", "Pixels") else _clean(float(v))
            for k, v in row.items()
        }
        out.setdefault(str(method), {})[str(label)] = cells
    return out


def _json(df: pd.DataFrame, breakdowns: Sequence[_Breakdown] = ()) -> str:
    payload: dict[str, Any] = {
        "methods": {
            str(name): {str(k): _clean(float(v)) for k, v in row.items()}
            for name, row in df.iterrows()
        },
        "meta": {k: v for k, v in df.attrs.items()},
    }
    for extra in breakdowns:
        payload[extra.key] = _breakdown_json(extra.raw)
    return json.dumps(payload, indent=2) + "\n"


def render_table(df: pd.DataFrame, format: str, by_cover: pd.DataFrame | None = None,
                 by_distance: Sequence[pd.DataFrame] = ()) -> str:
    """The table as text: ``"csv"`` (numbers), ``"markdown"`` (mean±std) or ``"json"``.

    Parameters
    ----------
    df : pandas.DataFrame
        Output of :func:`evaluate`.
    format : {"table", "csv", "markdown", "json"}
        Output format.
    by_cover : pandas.DataFrame, optional
        Output of :func:`evaluate_by_cover`: a second table in ``"table"`` and
        ``"markdown"``, a ``"by_cover"`` object in ``"json"``; CSV holds one table, the
        main one (write the cover table with ``by_cover.to_csv``).
    by_distance : sequence of pandas.DataFrame
        Outputs of :func:`evaluate_by_distance` (time, space): further tables, and
        ``"by_distance_time"`` / ``"by_distance_space"`` objects in ``"json"``.

    Returns
    -------
    str
    """
    fmt = format.lower()
    breakdowns = _breakdowns(by_cover, by_distance)
    if fmt == "csv":
        return df.to_csv(float_format="%.6g")
    if fmt in ("markdown", "md"):
        return _markdown(df, breakdowns)
    if fmt == "json":
        return _json(df, breakdowns)
    if fmt == "table":
        text = format_table(df).to_string() + "\n" + _caption(df) + "\n"
        for extra in breakdowns:
            text += "\n" + extra.table.to_string() + "\n" + extra.caption + "\n"
        return text
    raise SeainpaintError(f"unknown table format {format!r}; choose one of {FORMATS}")


def write_table(
    df: pd.DataFrame,
    path: str | Path,
    format: str | None = None,
    *,
    overwrite: bool = False,
    by_cover: pd.DataFrame | None = None,
    by_distance: Sequence[pd.DataFrame] = (),
) -> Path:
    """Write the table atomically as CSV, Markdown or JSON.

    Parameters
    ----------
    df : pandas.DataFrame
        Output of :func:`evaluate`.
    path : str or Path
        Output file.
    format : {"csv", "markdown", "json"}, optional
        Default: from the suffix (``.csv``, ``.md``, ``.json``; anything else: Markdown).
    overwrite : bool
        Replace an existing file.
    by_cover : pandas.DataFrame, optional
        Output of :func:`evaluate_by_cover`, written with it (see :func:`render_table`).
    by_distance : sequence of pandas.DataFrame
        Outputs of :func:`evaluate_by_distance`, written with it.

    Returns
    -------
    pathlib.Path
    """
    from .io.atomic import atomic_write

    path = Path(path)
    if format is None or format == "table":
        format = {".csv": "csv", ".json": "json"}.get(path.suffix.lower(), "markdown")
    text = render_table(df, format, by_cover, by_distance)

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    return atomic_write(path, write, overwrite=overwrite)


def _rich_table(table_df: pd.DataFrame, title: str, caption: str) -> tuple[Any, int]:
    """A rich Table of a table of strings, and the width it needs."""
    from rich.table import Table

    cells = [[str(table_df.index.name or "method"), *map(str, table_df.index)]]
    cells += [[str(c), *map(str, table_df[c])] for c in table_df.columns]
    needed = sum(max(len(v) for v in col) + 3 for col in cells) + 1
    table = Table(title=title, caption=caption)
    table.add_column(str(table_df.index.name or "method"), style="bold")
    for col in table_df.columns:
        table.add_column(str(col), justify="right")
    for name, row in table_df.iterrows():
        table.add_row(str(name), *row.tolist())
    return table, needed


def print_table(
    df: pd.DataFrame,
    console: Any = None,
    title: str | None = None,
    by_cover: pd.DataFrame | None = None,
    by_distance: Sequence[pd.DataFrame] = (),
) -> None:
    """Print the table with rich (mean ± std merged), with its caption.

    With ``by_cover`` (from :func:`evaluate_by_cover`), the errors by cloud cover follow
    as a second table; with ``by_distance`` (from :func:`evaluate_by_distance`), the
    errors by distance to the nearest observation.
    """
    from rich.console import Console

    tables = [_rich_table(format_table(df), title or "seainpaint evaluation", _caption(df))]
    tables += [_rich_table(extra.table, extra.title, extra.caption)
               for extra in _breakdowns(by_cover, by_distance)]
    if console is None:
        # wide enough that no number is cut, whatever the terminal says
        console = Console()
        console = Console(width=max(console.width, *(needed for _, needed in tables)))
    for table, _ in tables:
        console.print(table)
