"""Figures and animations: observed / filled / truth / error panels, GIF/MP4, occlusion rate.

Figures are built on :class:`matplotlib.figure.Figure` with the Agg canvas, without
pyplot, so nothing here changes the user's matplotlib backend and it works headless.
Lat-lon fields are drawn on cartopy PlateCarree maps; land is the data's own land mask
(pixels never observed), shaded grey; gaps are white. Coastlines are drawn only when the
Natural Earth shapefiles are already on disk (cartopy's ``pre_existing_data_dir`` or
``data_dir``): nothing is ever downloaded. Files are written atomically.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .errors import FieldError, SeainpaintError
from .field import canonical, field_dims, land_mask

__all__ = ["animate", "natural_earth_available", "plot_occlusion_rate", "plot_panels"]

LATLON_DIMS = (("latitude", "longitude"), ("lat", "lon"))
LAND_COLOUR = "0.75"
GAP_COLOUR = "white"


def _new_figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _atomic_save(save: Any, path: str | Path) -> Path:
    """Call ``save(tmp_path)`` for a temporary file next to ``path``, then rename it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        save(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def natural_earth_available(resolution: str = "110m") -> bool:
    """Whether Natural Earth coastline shapefiles are already on disk (no download)."""
    import cartopy

    rel = Path("shapefiles", "natural_earth", "physical", f"ne_{resolution}_coastline.shp")
    for key in ("pre_existing_data_dir", "data_dir"):
        base = cartopy.config.get(key)
        if base and (Path(base) / rel).is_file():
            return True
    return False


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


def _draw(fig, ax, frame, *, coords, latlon, land, cmap, vmin, vmax, title, label=None, rgb=False):
    import matplotlib as mpl

    colormap = mpl.colormaps[cmap].with_extremes(bad=GAP_COLOUR)  # gaps white, land grey
    land_cmap = mpl.colors.ListedColormap([LAND_COLOUR])
    if rgb:
        image = np.clip(np.nan_to_num(frame, nan=0.75), 0, 1)
        ax.imshow(image, origin="upper", interpolation="nearest")
        mappable = None
    elif latlon:
        import cartopy.crs as ccrs

        lat, lon = coords
        mappable = ax.pcolormesh(
            lon,
            lat,
            frame,
            cmap=colormap,
            vmin=vmin,
            vmax=vmax,
            shading="auto",
            transform=ccrs.PlateCarree(),
        )
        if land is not None and land.any():
            shade = np.where(land, 1.0, np.nan)
            ax.pcolormesh(
                lon,
                lat,
                shade,
                cmap=land_cmap,
                shading="auto",
                transform=ccrs.PlateCarree(),
            )
        if natural_earth_available():
            ax.coastlines(resolution="110m", linewidth=0.6)
        gl = ax.gridlines(draw_labels=True, linewidth=0.3, alpha=0.5)
        gl.top_labels = gl.right_labels = False
        ax.set_extent([lon.min(), lon.max(), lat.min(), lat.max()], crs=ccrs.PlateCarree())
    else:
        mappable = ax.imshow(
            frame, cmap=colormap, vmin=vmin, vmax=vmax, origin="upper", interpolation="nearest"
        )
        if land is not None and land.any():
            shade = np.where(land, 1.0, np.nan)
            ax.imshow(shade, cmap=land_cmap, origin="upper", interpolation="nearest")
    ax.set_title(title)
    if mappable is not None:
        fig.colorbar(mappable, ax=ax, shrink=0.8, label=label or "")


def plot_panels(
    obs: xr.DataArray,
    filled: xr.DataArray,
    truth: xr.DataArray | None = None,
    time: Any = 0,
    path: str | Path | None = None,
    *,
    cmap: str = "RdYlBu_r",
    error_cmap: str = "RdBu_r",
    dpi: int = 100,
):
    """Observed / filled / truth / error panels for one frame.

    Parameters
    ----------
    obs : xarray.DataArray
        The observation (NaN = missing); its never-observed pixels are the land, shaded.
    filled : xarray.DataArray
        The filled field on the same grid.
    truth : xarray.DataArray, optional
        The complete field; adds a truth panel and an error (filled − truth) panel.
    time : int or label
        Frame index, or a time label (nearest frame).
    path : str or Path, optional
        Write the figure there (format from the suffix, e.g. ``.png``, ``.pdf``).
    cmap, error_cmap : str
        Colour maps of the field and of the error.
    dpi : int
        Resolution of the written file.

    Returns
    -------
    matplotlib.figure.Figure or pathlib.Path
        The figure, or the written path when ``path`` is given.
    """
    fields = {"observed": obs, "filled": filled}
    if truth is not None:
        fields["truth"] = truth
    shapes = {k: tuple(canonical(v)[0].shape) for k, v in fields.items()}
    if len(set(shapes.values())) != 1:
        raise FieldError(f"fields to plot must share one grid, got shapes {shapes}")
    dims = field_dims(obs)
    rgb = dims.channel is not None and obs.sizes[dims.channel] == 3
    latlon = _is_latlon(obs) and not rgb
    land = np.asarray(land_mask(obs).transpose(dims.y, dims.x).values)
    frames = {k: _frame(v, time) for k, v in fields.items()}
    if truth is not None:
        err = frames["filled"] - frames["truth"]
        frames["filled − truth"] = np.abs(err).mean(axis=-1) if rgb else err
    vmin, vmax = _limits(*(frames[k] for k in fields))
    n = len(frames)
    fig = _new_figure(3.6 * n, 3.4)
    proj = None
    if latlon:
        import cartopy.crs as ccrs

        proj = ccrs.PlateCarree()
    coords = (obs[dims.y].values, obs[dims.x].values) if latlon else None
    units = obs.attrs.get("units", "")
    stamp = _select_time(canonical(obs)[0], time)["time"].values if "time" in obs.coords else time
    for i, (name, frame) in enumerate(frames.items()):
        ax = fig.add_subplot(1, n, i + 1, projection=proj)
        if name == "filled − truth":
            lim = float(np.nanmax(np.abs(frame))) if np.isfinite(frame).any() else 1.0
            _draw(
                fig,
                ax,
                frame,
                coords=coords,
                latlon=latlon,
                land=land,
                cmap="magma" if rgb else error_cmap,
                vmin=0 if rgb else -lim,
                vmax=lim or 1.0,
                title=name,
                label=units,
            )
        else:
            _draw(
                fig,
                ax,
                frame,
                coords=coords,
                latlon=latlon,
                land=land,
                cmap=cmap,
                vmin=vmin,
                vmax=vmax,
                title=name,
                label=units,
                rgb=rgb,
            )
    if isinstance(stamp, np.datetime64):
        stamp = np.datetime_as_string(stamp, unit="m")
    fig.suptitle(f"{obs.name or 'field'} at time {stamp}")
    if path is None:
        return fig
    return _atomic_save(lambda tmp: fig.savefig(tmp, dpi=dpi), path)


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
    return _atomic_save(lambda tmp: fig.savefig(tmp, dpi=dpi), path)
