"""Figures and animations: observed / filled / truth / error panels, GIF/MP4, occlusion rate,
PSD score curves and the reliability of a standard error.

Figures are built on :class:`matplotlib.figure.Figure` with the Agg canvas, without
pyplot, so nothing here changes the user's matplotlib backend and it works headless (in
Jupyter, ``display(fig)`` or leaving the figure as a cell's last value shows it).
Lat-lon fields are drawn on cartopy PlateCarree maps. Land (an explicit mask, or the
pixels never observed) is grey with its coastline drawn as the contour of the land mask,
so nothing is ever downloaded; missing sea pixels (clouds) are white and hatched, so they
cannot be mistaken for land. Colour bars carry the field's units (``°C`` for
``degree_Celsius``). Files are written atomically.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .errors import FieldError, SeainpaintError
from .field import canonical, field_dims, land_mask
from .io.atomic import atomic_write

__all__ = [
    "animate",
    "median_cover_time",
    "natural_earth_available",
    "plot_calibration",
    "plot_occlusion_rate",
    "plot_panels",
    "plot_psd_score",
    "time_label",
    "units_label",
]

LATLON_DIMS = (("latitude", "longitude"), ("lat", "lon"))
LAND_COLOUR = "0.75"
GAP_COLOUR = "white"
CLOUD_HATCH = "////"
CLOUD_HATCH_COLOUR = "0.45"
COAST_COLOUR = "0.15"


def _new_figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def natural_earth_available(resolution: str = "110m") -> bool:
    """Whether Natural Earth coastline shapefiles are already on disk (no download)."""
    import cartopy

    rel = Path("shapefiles", "natural_earth", "physical", f"ne_{resolution}_coastline.shp")
    for key in ("pre_existing_data_dir", "data_dir"):
        base = cartopy.config.get(key)
        if base and (Path(base) / rel).is_file():
            return True
    return False


def units_label(units: Any) -> str:
    """Units as a reader expects them on a colour bar: ``degree_Celsius`` -> ``°C``.

    Parameters
    ----------
    units : str or None
        A CF/UDUNITS units string.

    Returns
    -------
    str
        The label (empty for dimensionless or missing units).
    """
    from .units import units_label as label

    return label(units) or ""


def median_cover_time(obs: xr.DataArray, land: Any = None) -> int:
    """Index of a representative frame: the one whose cloud cover over the sea is the median.

    Parameters
    ----------
    obs : xarray.DataArray
        Observed field (NaN = missing).
    land : 2-D boolean array or DataArray, optional
        ``True`` = land; by default the pixels never observed.

    Returns
    -------
    int
        Frame index (the first of equally representative frames).
    """
    can, dims = canonical(obs)
    missing = np.isnan(np.asarray(can.values, dtype=np.float64))
    if dims.channel is not None:
        missing = missing.any(axis=-1)
    sea = ~_land_array(obs, land)
    if not sea.any():
        return 0
    cover = missing[:, sea].mean(axis=1)
    return int(np.argmin(np.abs(cover - np.median(cover))))


def _land_array(obs: xr.DataArray, land: Any) -> np.ndarray:
    """``(Y, X)`` boolean land array: the given mask, or the never-observed pixels."""
    dims = field_dims(obs)
    if land is None:
        return np.asarray(land_mask(obs).transpose(dims.y, dims.x).values, dtype=bool)
    if isinstance(land, xr.DataArray):
        if set(land.dims) == {dims.y, dims.x}:
            land = land.transpose(dims.y, dims.x)
        values = np.asarray(land.values)
    else:
        values = np.asarray(land)
    shape = (obs.sizes[dims.y], obs.sizes[dims.x])
    if values.shape != shape:
        raise FieldError(f"land mask has shape {values.shape}; the field's grid is {shape}")
    return values.astype(bool)


def _is_latlon(da: xr.DataArray) -> bool:
    dims = field_dims(da)
    return (dims.y, dims.x) in LATLON_DIMS and all(
        d in da.coords and da[d].ndim == 1 for d in (dims.y, dims.x)
    )


def _select_time(da: xr.DataArray, time: Any) -> xr.DataArray:
    if isinstance(time, (int, np.integer)):
        n = da.sizes["time"]
        if not -n <= int(time) < n:
            raise SeainpaintError(f"time index {time} out of range for {n} frames")
        return da.isel(time=int(time))
    try:
        return da.sel(time=time, method="nearest")
    except Exception as err:
        raise SeainpaintError(f"cannot select time {time!r}: {err}") from None


def _frame(da: xr.DataArray, time: Any) -> np.ndarray:
    """A ``(Y, X)`` or ``(Y, X, C)`` float frame in canonical order."""
    can, dims = canonical(da)
    values = np.asarray(_select_time(can, time).values, dtype=np.float64)
    if dims.channel and values.shape[-1] == 1:
        values = values[..., 0]
    return values


def _limits(*frames: np.ndarray) -> tuple[float, float]:
    data = np.concatenate([f[np.isfinite(f)].ravel() for f in frames if f is not None])
    if data.size == 0:
        return 0.0, 1.0
    lo, hi = np.percentile(data, [1, 99])
    return (float(lo), float(hi)) if hi > lo else (float(lo) - 0.5, float(hi) + 0.5)


def time_label(da: xr.DataArray, time: Any) -> str:
    """The time of frame ``time`` as a reader wants it: a month (monthly data), a date
    (daily), or a date and time in UTC."""
    if "time" not in da.coords:
        return str(time)
    value = _select_time(canonical(da)[0], time)["time"].values
    if isinstance(value, np.datetime64):
        times = np.asarray(da["time"].values)
        if times.size > 1 and np.median(np.diff(times)) >= np.timedelta64(28, "D"):
            return np.datetime_as_string(value, unit="M")  # monthly means: the month
        if bool((times.astype("datetime64[m]") == times.astype("datetime64[D]")).all()):
            return np.datetime_as_string(value, unit="D")
        return np.datetime_as_string(value, unit="m").replace("T", " ") + " UTC"
    return str(value)


class _Grid:
    """Where a panel draws: lat-lon map (cartopy) or image axes (y down)."""

    def __init__(self, obs: xr.DataArray, land: np.ndarray, rgb: bool) -> None:
        dims = field_dims(obs)
        self.rgb = rgb
        self.latlon = _is_latlon(obs) and not rgb
        self.land = land
        if self.latlon:
            self.y = np.asarray(obs[dims.y].values, dtype=float)
            self.x = np.asarray(obs[dims.x].values, dtype=float)
        else:
            self.y = np.arange(obs.sizes[dims.y], dtype=float)
            self.x = np.arange(obs.sizes[dims.x], dtype=float)

    def projection(self) -> Any:
        if not self.latlon:
            return None
        import cartopy.crs as ccrs

        return ccrs.PlateCarree()

    def _kw(self) -> dict[str, Any]:
        if not self.latlon:
            return {}
        import cartopy.crs as ccrs

        return {"transform": ccrs.PlateCarree()}

    def draw(self, ax, frame: np.ndarray, *, cmap: str, vmin: float, vmax: float, title: str):
        """Draw one frame with land, coastline and hatched clouds; return the mappable."""
        import matplotlib as mpl

        kw = self._kw()
        missing = ~np.isfinite(frame).all(axis=-1) if frame.ndim == 3 else ~np.isfinite(frame)
        clouds = missing & ~self.land
        mappable = None
        if frame.ndim == 3:  # RGB
            image = np.clip(np.nan_to_num(frame, nan=1.0), 0, 1)
            image[self.land] = mpl.colors.to_rgb(LAND_COLOUR)
            ax.imshow(image, origin="upper", interpolation="nearest")
        else:
            colormap = mpl.colormaps[cmap].with_extremes(bad=GAP_COLOUR)
            if self.latlon:
                mappable = ax.pcolormesh(
                    self.x, self.y, frame, cmap=colormap, vmin=vmin, vmax=vmax,
                    shading="auto", **kw,
                )
            else:
                mappable = ax.imshow(
                    frame, cmap=colormap, vmin=vmin, vmax=vmax, origin="upper",
                    interpolation="nearest",
                )
            if self.land.any():
                shade = np.where(self.land, 1.0, np.nan)
                land_cmap = mpl.colors.ListedColormap([LAND_COLOUR])
                if self.latlon:
                    ax.pcolormesh(self.x, self.y, shade, cmap=land_cmap, shading="auto", **kw)
                else:
                    ax.imshow(shade, cmap=land_cmap, origin="upper", interpolation="nearest")
        if clouds.any():
            with mpl.rc_context({"hatch.color": CLOUD_HATCH_COLOUR, "hatch.linewidth": 0.6}):
                ax.contourf(
                    self.x, self.y, clouds.astype(float), levels=[0.5, 1.5], colors="none",
                    hatches=[CLOUD_HATCH], **kw,
                )
        if self.land.any() and not self.land.all() and min(self.land.shape) > 1:
            ax.contour(
                self.x, self.y, self.land.astype(float), levels=[0.5], colors=COAST_COLOUR,
                linewidths=0.8, **kw,
            )
        if self.latlon:
            gl = ax.gridlines(draw_labels=True, linewidth=0.3, alpha=0.5)
            gl.top_labels = gl.right_labels = False
            ax.set_extent(
                [self.x.min(), self.x.max(), self.y.min(), self.y.max()],
                crs=self.projection(),
            )
        elif frame.ndim == 2:
            ax.set_xticks([])
            ax.set_yticks([])
        ax.set_title(title, fontsize=10)
        return mappable


def _legend_handles(land: bool, clouds: bool) -> list[Any]:
    import matplotlib as mpl
    from matplotlib.patches import Patch

    handles = []
    if land:
        handles.append(Patch(facecolor=LAND_COLOUR, edgecolor=COAST_COLOUR, label="land"))
    if clouds:
        with mpl.rc_context({"hatch.color": CLOUD_HATCH_COLOUR}):
            handles.append(
                Patch(facecolor=GAP_COLOUR, edgecolor=CLOUD_HATCH_COLOUR, hatch=CLOUD_HATCH,
                      label="cloud (not observed)")
            )
    return handles


def plot_panels(
    obs: xr.DataArray,
    filled: xr.DataArray | Mapping[str, xr.DataArray],
    truth: xr.DataArray | None = None,
    time: Any = 0,
    path: str | Path | None = None,
    *,
    land: Any = None,
    title: str | None = None,
    figure: Any = None,
    cmap: str = "RdYlBu_r",
    error_cmap: str = "RdBu_r",
    dpi: int = 100,
):
    """Observed / filled / truth / error panels for one frame.

    Land is grey with its coastline (the contour of the land mask: no download); pixels
    missing over the sea (clouds) are white and hatched; colour bars carry the units.

    Parameters
    ----------
    obs : xarray.DataArray
        The observation (NaN = missing).
    filled : xarray.DataArray or mapping of str to DataArray
        The filled field on the same grid; or several, by method name. With one field the
        panels are one row (observed, filled, truth, filled − truth); with a mapping, a
        first row shows observed, truth and every method, a second row every method's
        error under it.
    truth : xarray.DataArray, optional
        The complete field; adds a truth panel and error (filled − truth) panels.
    time : int or label
        Frame index, or a time label (nearest frame); see :func:`median_cover_time` for a
        representative one.
    path : str or Path, optional
        Write the figure there (format from the suffix, e.g. ``.png``, ``.pdf``).
    land : 2-D boolean array or DataArray, optional
        ``True`` = land (e.g. a land/sea mask). By default the pixels of ``obs`` never
        observed are land; with an explicit mask they show as clouds instead.
    title : str, optional
        Figure title (default: the variable and the frame's date).
    figure : matplotlib Figure or SubFigure, optional
        Draw into this (e.g. one of ``fig.subfigures``) instead of a new figure.
    cmap, error_cmap : str
        Colour maps of the field and of the error.
    dpi : int
        Resolution of the written file.

    Returns
    -------
    matplotlib.figure.Figure or pathlib.Path
        The figure, or the written path when ``path`` is given.
    """
    fills = dict(filled) if isinstance(filled, Mapping) else {"filled": filled}
    if not fills:
        raise SeainpaintError("plot_panels needs at least one filled field")
    fields = {"observed": obs, **{f"filled {k}": v for k, v in fills.items()}}
    if truth is not None:
        fields["truth"] = truth
    shapes = {k: tuple(canonical(v)[0].shape) for k, v in fields.items()}
    if len(set(shapes.values())) != 1:
        raise FieldError(f"fields to plot must share one grid, got shapes {shapes}")
    dims = field_dims(obs)
    rgb = dims.channel is not None and obs.sizes[dims.channel] == 3
    land_values = _land_array(obs, land)
    grid = _Grid(obs, land_values, rgb)
    seen = _frame(obs, time)
    frames = {name: _frame(da, time) for name, da in fills.items()}
    truth_frame = _frame(truth, time) if truth is not None else None
    vmin, vmax = _limits(seen, truth_frame, *frames.values())
    errors = {}
    if truth_frame is not None:
        for name, frame in frames.items():
            err = frame - truth_frame
            errors[name] = np.abs(err).mean(axis=-1) if rgb else err
        finite = np.concatenate([np.abs(e[np.isfinite(e)]) for e in errors.values()])
        err_lim = float(np.percentile(finite, 99.5)) if finite.size else 1.0
        err_lim = err_lim if err_lim > 0 else 1.0
    units = units_label(obs.attrs.get("units"))
    missing = ~np.isfinite(seen).all(axis=-1) if seen.ndim == 3 else ~np.isfinite(seen)
    sea = ~land_values
    cover = float(missing[sea].mean()) if sea.any() else 0.0
    never = 0
    if land is not None:  # sea pixels missing in every frame (with the default, they are land)
        never = int((~np.isfinite(_frame_stack(obs)).any(axis=0) & sea).sum())

    single = not isinstance(filled, Mapping)
    layout, aspect, wide = _panel_layout(grid, list(frames), single,
                                         truth_frame is not None, bool(errors))
    n_rows, n_cols = len(layout), len(layout[0])
    if figure is None:
        fig = _panel_figure(n_rows, n_cols, aspect, wide)
    else:
        if path is not None:
            raise SeainpaintError("give either figure= or path=, not both")
        fig = figure
    proj = grid.projection()
    field_axes, error_axes, field_map, error_map = [], [], None, None
    legend_ax = None
    for r, row in enumerate(layout):
        for c, key in enumerate(row):
            index = r * n_cols + c + 1
            if key is None:
                continue
            if key == "legend":
                legend_ax = fig.add_subplot(n_rows, n_cols, index)
                legend_ax.set_axis_off()
                continue
            ax = fig.add_subplot(n_rows, n_cols, index, projection=proj)
            if key == "observed":
                name = f"observed ({cover:.0%} cloud)" if sea.any() and not rgb else "observed"
                m = grid.draw(ax, seen, cmap=cmap, vmin=vmin, vmax=vmax, title=name)
                field_axes.append(ax)
                field_map = m or field_map
            elif key == "truth":
                m = grid.draw(ax, truth_frame, cmap=cmap, vmin=vmin, vmax=vmax, title="truth")
                field_axes.append(ax)
                field_map = m or field_map
            elif key.startswith("fill:"):
                name = key[5:]
                m = grid.draw(ax, frames[name], cmap=cmap, vmin=vmin, vmax=vmax, title=name)
                field_axes.append(ax)
                field_map = m or field_map
            else:
                name = key[6:]
                if rgb:
                    err_cmap, lo, hi = "magma", 0.0, err_lim
                else:
                    err_cmap, lo, hi = error_cmap, -err_lim, err_lim
                label = "filled − truth" if single else f"{name} − truth"
                m = grid.draw(ax, errors[name], cmap=err_cmap, vmin=lo, vmax=hi, title=label)
                error_axes.append(ax)
                error_map = m or error_map
    where = "bottom" if wide else "right"
    if field_map is not None:
        label = f"{obs.name} ({units})" if obs.name and units else units
        fig.colorbar(field_map, ax=field_axes, shrink=0.85, label=label, location=where)
    if error_map is not None:
        label = f"error ({units})" if units else "error"
        fig.colorbar(error_map, ax=error_axes, shrink=0.85, label=label, location=where)
    handles = _legend_handles(bool(land_values.any()), bool(missing[sea].any()) if sea.any()
                              else False)
    notes = []
    if never:
        notes.append(f"{never} sea pixels never observed")
    if handles:
        if legend_ax is not None:
            legend_ax.legend(handles=handles, loc="center", frameon=False,
                             title="\n".join(notes) or None)
        else:
            fig.legend(handles=handles, loc="outside lower center", ncols=len(handles),
                       frameon=False, title=", ".join(notes) or None)
    name = obs.attrs.get("long_name") or obs.name or "field"
    fig.suptitle(title or f"{name}, {time_label(obs, time)}")
    if path is None:
        return fig
    return atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=dpi), overwrite=True)


def _panel_layout(grid: Any, fills: list[str], single: bool, has_truth: bool,
                  has_errors: bool) -> tuple[list[list[str | None]], float, bool]:
    """Which panel goes where (rows of keys: ``observed``, ``truth``, ``fill:<name>``,
    ``error:<name>``, ``legend``, None), the frames' aspect, and whether they are wide
    strips (then drawn one under the other, errors to the right)."""
    if single:
        layout: list[list[str | None]] = [
            ["observed", "fill:filled"] + (["truth", "error:filled"] if has_errors else [])
        ]
    else:
        top: list[str | None] = ["observed"] + (["truth"] if has_truth else [])
        layout = [top + [f"fill:{k}" for k in fills]]
        if has_errors:
            layout.append(["legend"] + ([None] if has_truth else [])
                          + [f"error:{k}" for k in fills])
    aspect = len(grid.y) / max(len(grid.x), 1)
    if grid.latlon:  # degrees of latitude and longitude drawn alike (PlateCarree)
        aspect = float(np.ptp(grid.y) / np.ptp(grid.x)) if np.ptp(grid.x) > 0 else aspect
    wide = aspect < 0.5
    if wide:
        width = max(len(r) for r in layout)
        layout = [list(col) for col in zip(*[r + [None] * (width - len(r)) for r in layout],
                                           strict=True)]
    return layout, aspect, wide


def _panel_figure(n_rows: int, n_cols: int, aspect: float, wide: bool) -> Any:
    """A new figure sized for ``n_rows`` x ``n_cols`` panels of the given aspect."""
    if wide:
        panel_w = 6.0
        return _new_figure(panel_w * n_cols + 0.6, n_rows * (panel_w * aspect + 0.7) + 1.6)
    panel_w = 3.4 if n_cols <= 4 else 2.9
    return _new_figure(panel_w * n_cols + 0.8, n_rows * max(panel_w * aspect + 0.4, 1.2) + 1.4)


def _frame_stack(da: xr.DataArray) -> np.ndarray:
    """All frames as ``(T, Y, X)`` (channels reduced: missing if any channel is)."""
    can, dims = canonical(da)
    values = np.asarray(can.values, dtype=np.float64)
    if dims.channel is not None:
        values = np.where(np.isfinite(values).all(axis=-1), values[..., 0], np.nan)
    return values


def animate(
    da: xr.DataArray,
    path: str | Path,
    *,
    fps: int = 4,
    cmap: str = "RdYlBu_r",
    vmin: float | None = None,
    vmax: float | None = None,
    title: str | None = None,
    dpi: int = 80,
) -> Path:
    """Write a sequence as an animated GIF or MP4 (:func:`seainpaint.io.video.write_frames`).

    Parameters
    ----------
    da : xarray.DataArray
        Field ``(time, y, x[, channel])``; 3 channels are drawn as RGB in [0, 1]. NaN
        pixels are grey.
    path : str or Path
        Output file; ``.gif`` or ``.mp4``.
    fps : int
        Frames per second.
    cmap : str
        Colour map for single-channel fields.
    vmin, vmax : float, optional
        Colour limits (default: 1st and 99th percentiles of the whole sequence).
    title : str, optional
        Title prefix; the frame's time is appended.
    dpi : int
        Resolution.

    Returns
    -------
    pathlib.Path
        The written file, with one animation frame per time step.
    """
    import matplotlib as mpl

    from .io.video import write_frames

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise SeainpaintError(f"animation format {path.suffix!r} not supported; use .gif or .mp4")
    can, dims = canonical(da)
    values = np.asarray(can.values, dtype=np.float64)
    rgb = dims.channel is not None and values.shape[-1] == 3
    if dims.channel is not None and not rgb:
        values = values[..., 0]
    if not rgb and (vmin is None or vmax is None):
        lo, hi = _limits(values)
        vmin = lo if vmin is None else vmin
        vmax = hi if vmax is None else vmax
    times = can["time"].values if "time" in can.coords else np.arange(values.shape[0])
    ny, nx = values.shape[1:3]
    scale = 4.0 / max(ny, nx)
    fig = _new_figure(max(nx * scale, 2.0) + (0 if rgb else 1.0), max(ny * scale, 2.0) + 0.5)
    ax = fig.add_subplot(1, 1, 1)
    ax.set_axis_off()
    colormap = mpl.colormaps[cmap].with_extremes(bad=LAND_COLOUR)

    def image_of(i: int) -> np.ndarray:
        return np.clip(np.nan_to_num(values[i], nan=0.75), 0, 1) if rgb else values[i]

    im = ax.imshow(
        image_of(0),
        cmap=None if rgb else colormap,
        vmin=vmin,
        vmax=vmax,
        origin="upper",
        interpolation="nearest",
    )
    if not rgb:
        fig.colorbar(im, ax=ax, shrink=0.8, label=da.attrs.get("units", ""))
    prefix = title or str(da.name or "")

    fig.set_dpi(dpi)

    def frame(i: int) -> np.ndarray:
        im.set_data(image_of(i))
        ax.set_title(f"{prefix} {times[i]}".strip(), fontsize=8)
        fig.canvas.draw()
        return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()

    frames = np.stack([frame(i) for i in range(values.shape[0])])
    return write_frames(frames, path, fps, overwrite=True)


def plot_occlusion_rate(
    thresholds: Sequence[float],
    rates: Sequence[float],
    path: str | Path | None = None,
    *,
    stds: Sequence[float] | None = None,
    xlabel: str = "LWP threshold (g m$^{-2}$)",
    dpi: int = 100,
):
    """Occluded area against the cloud threshold (paper Table 2a as a curve).

    Parameters
    ----------
    thresholds : sequence of float
        Thresholds (e.g. LWP in g m-2).
    rates : sequence of float
        Occluded fraction of the sea at each threshold, in % (values ≤ 1 are taken as
        fractions and converted).
    path : str or Path, optional
        Write the figure there.
    stds : sequence of float, optional
        Spread of the rate (same units), drawn as error bars.
    xlabel : str
        Label of the threshold axis.

    Returns
    -------
    matplotlib.figure.Figure or pathlib.Path
    """
    x = np.asarray(thresholds, dtype=float)
    y = np.asarray(rates, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or x.size == 0:
        raise SeainpaintError(
            f"thresholds and rates must be 1-D of the same length, got {x.shape} and {y.shape}"
        )
    factor = 100.0 if np.nanmax(y) <= 1.0 else 1.0
    y = y * factor
    err = None if stds is None else np.asarray(stds, dtype=float) * factor
    fig = _new_figure(4.5, 3.2)
    ax = fig.add_subplot(1, 1, 1)
    ax.errorbar(x, y, yerr=err, marker="o", capsize=3)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("occluded area (%)")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    if path is None:
        return fig
    return atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=dpi), overwrite=True)


def _write_or_return(fig: Any, path: str | Path | None, dpi: int, overwrite: bool):
    if path is None:
        return fig
    return atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=dpi), overwrite=overwrite)


def plot_psd_score(
    truth: xr.DataArray,
    obs: xr.DataArray,
    filled: Mapping[str, xr.DataArray] | Sequence[xr.DataArray] | xr.DataArray,
    path: str | Path | None = None,
    *,
    names: Sequence[str] | None = None,
    along: str = "space",
    units: str | None = None,
    dpi: int = 100,
    overwrite: bool = True,
):
    """PSD score ``1 − PSD(fill − truth)/PSD(truth)`` against wavelength, one curve per method.

    The horizontal line marks 0.5; where a curve first drops below it (dotted vertical
    line, value in the legend) is the method's effective resolution, as in
    :func:`seainpaint.evaluate` (the figure users of 4DVarNet/OceanBench read).

    Parameters
    ----------
    truth, obs, filled, names
        As in :func:`seainpaint.evaluate`.
    path : str or Path, optional
        Write the figure there (atomically); otherwise return it.
    along : {"space", "time"}
        Spatial (radially averaged over frames) or temporal (per pixel series) spectra.
    units : str, optional
        ``"px"``/``"km"`` in space, ``"h"``/``"steps"`` in time (default: km on a
        latitude/longitude grid, h with datetime time; else px, steps).
    dpi : int
        Resolution of the file.
    overwrite : bool
        Replace an existing file at ``path``.

    Returns
    -------
    matplotlib.figure.Figure or pathlib.Path
    """
    from .evaluation import psd_scores

    scores = psd_scores(truth, obs, filled, names=names, along=along, units=units)
    fig = _new_figure(5.0, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    lowest = 0.0
    for i, (name, score) in enumerate(scores.items()):
        colour = f"C{i % 10}"
        wavelength = np.asarray(score["wavelength"].values)
        values = np.asarray(score.values)
        res = score.attrs["effective_resolution"]
        label = f"{name} ({res:.3g} {score.attrs['units']})" if np.isfinite(res) else name
        ax.plot(wavelength, values, marker=".", color=colour, label=label)
        if np.isfinite(res):
            ax.axvline(res, color=colour, linestyle=":", linewidth=1)
        if np.isfinite(values).any():
            lowest = min(lowest, float(np.nanmin(values)))
    from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

    ax.axhline(0.5, color="0.3", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_ylim(max(lowest, -1.0) - 0.05, 1.05)
    unit = next(iter(scores.values())).attrs["units"] if scores else ""
    ax.set_xlabel(f"{'wavelength' if along == 'space' else 'period'} ({unit})")
    ax.set_ylabel("PSD score")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="small")
    return _write_or_return(fig, path, dpi, overwrite)


def plot_calibration(
    truth: xr.DataArray,
    obs: xr.DataArray,
    filled: Mapping[str, xr.DataArray] | Sequence[xr.DataArray] | xr.DataArray,
    path: str | Path | None = None,
    *,
    names: Sequence[str] | None = None,
    levels: Sequence[float] | None = None,
    dpi: int = 100,
    overwrite: bool = True,
):
    """Reliability figure: observed against nominal coverage of the prediction intervals.

    For each method that carries a standard error σ and each nominal probability ``p``,
    the share of hidden-pixel errors within the central interval ``± Φ⁻¹((1 + p)/2) σ``.
    A calibrated σ lies on the diagonal; below it σ is too small (over-confident), above
    it too large.

    Parameters
    ----------
    truth, obs, filled, names
        As in :func:`seainpaint.evaluate`; fills without σ are left out.
    path : str or Path, optional
        Write the figure there (atomically); otherwise return it.
    levels : sequence of float, optional
        Nominal probabilities (default 0.05, 0.10, ..., 0.95).
    dpi : int
        Resolution of the file.
    overwrite : bool
        Replace an existing file at ``path``.

    Returns
    -------
    matplotlib.figure.Figure or pathlib.Path

    Raises
    ------
    SeainpaintError
        No filled field carries a standard error.
    """
    from .evaluation import calibration_curves
    from .metrics.probabilistic import DEFAULT_LEVELS

    curves = calibration_curves(
        truth, obs, filled, names=names, levels=DEFAULT_LEVELS if levels is None else levels
    )
    if not curves:
        raise SeainpaintError(
            "no filled field carries a standard error (the <var>_standard_error coordinate "
            "of fill(model, uncertainty=True)): nothing to calibrate"
        )
    fig = _new_figure(4.0, 4.0)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot([0, 1], [0, 1], color="0.3", linestyle="--", linewidth=1, label="calibrated")
    for i, (name, curve) in enumerate(curves.items()):
        ax.plot(curve["nominal"], curve.values, marker="o", color=f"C{i % 10}", label=name)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("nominal coverage")
    ax.set_ylabel("observed coverage (hidden pixels)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="upper left")
    return _write_or_return(fig, path, dpi, overwrite)
