"""Compare filling methods the way the paper does (Tables 1 and 2): method × metric.

:func:`evaluate` scores one or more filled fields against the truth: MAE, RMSE and bias
over the occluded sea pixels as mean ± std over sequences of ``sequence_length`` frames,
FID on frames and FVD on sequences (see :mod:`seainpaint.metrics`), and two diagnostics,
the high-wavenumber power ratio and the ratio of frame-to-frame change. The table can be
printed (:func:`print_table`), formatted with ± (:func:`format_table`) and written as
CSV, Markdown or JSON (:func:`write_table`, atomic).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from . import metrics
from .errors import FieldError, SeainpaintError
from .field import canonical, field_dims, has_land, land_mask, to_numpy_tyxc
from .io.stores import open_field
from .units import units_label

SMALL_NET_NOTE = (
    "FID/FVD computed with seainpaint's random-initialised SmallFeatureNet: useful to rank "
    "methods on this data, not comparable to published FID/FVD (InceptionV3 / I3D; see "
    "seainpaint.metrics.load_inception / load_i3d)"
)
ERROR_METRICS = ("MAE", "RMSE", "Bias")
FORMATS = ("table", "csv", "markdown", "json")

__all__ = [
    "FORMATS",
    "evaluate",
    "format_table",
    "open_field",
    "print_table",
    "render_table",
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
        The observation the methods saw (NaN = missing); defines occluded pixels and land.
    filled : dict of name -> DataArray, list of DataArray, or one DataArray
        The filled fields, on the truth's grid (dims may be named and ordered differently).
    names : list of str, optional
        Method names (default: the dict keys, or "method 1", ...).
    sequence_length : int
        Frames per sequence: MAE/RMSE/bias are computed per sequence of consecutive
        frames and reported as mean and std over sequences; FVD compares such sequences.
        Frames after the last full sequence are left out of those statistics.
    features : None, False or dict
        None: FID and FVD with the small random default networks (numbers not comparable
        to published ones; a note says so); False: no FID/FVD; ``{"fid": net, "fvd": net}``:
        your feature networks (e.g. from :func:`seainpaint.metrics.load_inception` and
        :func:`~seainpaint.metrics.load_i3d`), a missing key skips that distance.
    diagnostics : bool
        Add the power ratio filled/truth in the highest third of wavenumbers
        (``PSD ratio high-k``) and the ratio of std of frame-to-frame changes
        (``dT std ratio``); 1 is ideal for both.

    Returns
    -------
    pandas.DataFrame
        Index ``method``; columns ``Occluded (%)``, ``Occluded (%) std``, ``FID`` and
        ``FVD`` (when computed), ``MAE``, ``MAE std``, ``RMSE``, ``RMSE std``, ``Bias``,
        ``Bias std`` and the diagnostics (when asked). ``df.attrs`` holds ``sequence_length``,
        ``n_sequences``, ``units`` and ``note``.
    """
    truth_can, tdims = canonical(truth)
    truth_can = truth_can.compute()
    obs_can = _check_grid(truth_can, obs, "obs")
    fields = {
        name: _check_grid(truth_can, da, f"filled field {name!r}")
        for name, da in _named(filled, names).items()
    }
    n_time = truth_can.sizes[tdims.time]
    seqs = _sequences(n_time, sequence_length)
    fid_net, fvd_net, note = _feature_nets(features)
    n_channels = truth_can.sizes[tdims.channel] if tdims.channel else 1
    if fid_net == "small":
        fid_net = metrics.SmallFeatureNet(in_channels=n_channels, dims=2)
    if fvd_net == "small":
        fvd_net = metrics.SmallFeatureNet(in_channels=n_channels, dims=3)
    clip = min(sequence_length, n_time)

    # occluded = missing but not land, land taken over the whole record (not per sequence)
    t_all, _ = to_numpy_tyxc(truth_can)
    observed = metrics.region_mask(truth_can, obs_can, region="observed")
    land = _explicit_land(obs, _named(filled, names))
    if land is None:  # land = never observed in obs
        land = ~observed.any(axis=0)
    occ = ~observed & ~land[None]
    sea = np.broadcast_to(~land[None], observed.shape)
    never = ~observed.any(axis=0) & ~land  # sea never observed (flag 3 in fill's output)
    n_scored = sum(int(occ[sl].sum()) for sl in seqs)
    n_never = sum(int(occ[sl][:, never].sum()) for sl in seqs)
    occluded = [100 * occ[sl].sum() / max(int(sea[sl].sum()), 1) for sl in seqs]
    rows: dict[str, dict[str, float]] = {}
    for name, da in fields.items():
        f_all, _ = to_numpy_tyxc(da)
        per_seq: dict[str, list[float]] = {m: [] for m in ERROR_METRICS}
        for sl in seqs:
            err = metrics.errors_from_arrays(t_all[sl], f_all[sl], occ[sl])
            if err["n"]:
                per_seq["MAE"].append(err["mae"])
                per_seq["RMSE"].append(err["rmse"])
                per_seq["Bias"].append(err["bias"])
        row: dict[str, float] = {}
        for m in ERROR_METRICS:
            vals = np.asarray(per_seq[m])
            row[m] = float(vals.mean()) if vals.size else math.nan
            row[f"{m} std"] = float(vals.std()) if vals.size else math.nan
        row["Occluded (%)"] = float(np.mean(occluded))
        row["Occluded (%) std"] = float(np.std(occluded))
        if fid_net is not None:
            row["FID"] = metrics.fid(truth_can, da, obs_can, features=fid_net)
        if fvd_net is not None:
            row["FVD"] = metrics.fvd(truth_can, da, obs_can, features=fvd_net, clip_length=clip)
        if diagnostics:
            bands = metrics.spectrum_ratio(truth_can, da, obs_can, n_bands=3)
            row["PSD ratio high-k"] = list(bands.values())[-1]
            row["dT std ratio"] = metrics.temporal_ratio(truth_can, da, obs_can)["diff_std_ratio"]
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
        table = table.rename(columns={m: f"{m} ({units})" for m in ERROR_METRICS})
    table.attrs = dict(df.attrs)
    return table


def markdown_table(table: pd.DataFrame) -> str:
    """A table of strings as GitHub Markdown, cells kept exactly as written (right-aligned)."""
    table = table.copy()
    table.index.name = str(table.index.name or "method")
    align = ("left", *["right"] * table.shape[1])
    return table.to_markdown(disable_numparse=True, colalign=align) + "\n"


def _markdown(df: pd.DataFrame) -> str:
    return markdown_table(format_table(df)) + "\n" + _caption(df) + "\n"


def _caption(df: pd.DataFrame) -> str:
    attrs = df.attrs
    scored = ""
    if "n_scored" in attrs:
        scored = (
            f" ({attrs['n_scored']} pixels, of which {attrs.get('n_never_observed', 0)} sea "
            "pixels never observed, flag 3)"
        )
    text = (
        f"MAE, RMSE and bias over occluded sea pixels{scored}: mean ± std over "
        f"{attrs.get('n_sequences', '?')} sequences of {attrs.get('sequence_length', '?')} frames."
    )
    if attrs.get("note"):
        text += f" Note: {attrs['note']}."
    return text


def _json(df: pd.DataFrame) -> str:
    def clean(v: Any) -> Any:
        return None if isinstance(v, float) and not math.isfinite(v) else v

    payload = {
        "methods": {
            str(name): {str(k): clean(float(v)) for k, v in row.items()}
            for name, row in df.iterrows()
        },
        "meta": {k: v for k, v in df.attrs.items()},
    }
    return json.dumps(payload, indent=2) + "\n"


def render_table(df: pd.DataFrame, format: str) -> str:
    """The table as text: ``"csv"`` (numbers), ``"markdown"`` (mean±std) or ``"json"``."""
    fmt = format.lower()
    if fmt == "csv":
        return df.to_csv(float_format="%.6g")
    if fmt in ("markdown", "md"):
        return _markdown(df)
    if fmt == "json":
        return _json(df)
    if fmt == "table":
        return format_table(df).to_string() + "\n" + _caption(df) + "\n"
    raise SeainpaintError(f"unknown table format {format!r}; choose one of {FORMATS}")


def write_table(
    df: pd.DataFrame, path: str | Path, format: str | None = None, *, overwrite: bool = False
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

    Returns
    -------
    pathlib.Path
    """
    from .io.atomic import atomic_write

    path = Path(path)
    if format is None or format == "table":
        format = {".csv": "csv", ".json": "json"}.get(path.suffix.lower(), "markdown")
    text = render_table(df, format)

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    return atomic_write(path, write, overwrite=overwrite)


def print_table(df: pd.DataFrame, console: Any = None, title: str | None = None) -> None:
    """Print the table with rich (mean ± std merged), with its caption."""
    from rich.console import Console
    from rich.table import Table

    table_df = format_table(df)
    if console is None:
        # wide enough that no number is cut, whatever the terminal says
        cells = [[str(table_df.index.name or "method"), *map(str, table_df.index)]]
        cells += [[str(c), *map(str, table_df[c])] for c in table_df.columns]
        needed = sum(max(len(v) for v in col) + 3 for col in cells) + 1
        console = Console()
        console = Console(width=max(console.width, needed))
    table = Table(title=title or "seainpaint evaluation", caption=_caption(df))
    table.add_column(str(table_df.index.name or "method"), style="bold")
    for col in table_df.columns:
        table.add_column(str(col), justify="right")
    for name, row in table_df.iterrows():
        table.add_row(str(name), *row.tolist())
    console.print(table)
