"""Tests of seainpaint.plot: panels, animations and the occlusion-rate figure."""

from __future__ import annotations

import os
import stat

import cartopy
import imageio.v2 as imageio
import numpy as np
import pytest
import xarray as xr
from PIL import Image

import seainpaint
from seainpaint import plot, synthetic
from seainpaint.errors import FieldError, SeainpaintError


@pytest.fixture(scope="module")
def sst_case():
    land = np.zeros((24, 24), dtype=bool)
    land[:5, :7] = True
    truth = synthetic.sst(n_time=5, size=24, seed=2, land=land)
    keep = np.random.default_rng(0).random(truth.shape) > 0.3
    obs = truth.where(keep)
    return truth, obs, seainpaint.fill(obs, "linear")


def rgb_video(n_time: int = 3) -> xr.DataArray:
    rng = np.random.default_rng(1)
    return xr.DataArray(rng.random((n_time, 16, 20, 3)), dims=("time", "y", "x", "channel"))


def test_panels_latlon_with_truth(sst_case, tmp_path):
    truth, obs, filled = sst_case
    path = plot.plot_panels(obs, filled, truth, time=2, path=tmp_path / "panels.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["panels.png"]  # no temp file left
    with Image.open(path) as img:
        img.verify()
    with Image.open(path) as img:
        width, height = img.size
        pixels = np.asarray(img.convert("RGB"))
    assert width > 2 * height  # four panels side by side
    grey = (np.abs(pixels.astype(int) - 191) <= 2).all(axis=-1)  # land colour "0.75"
    assert grey.sum() > 100  # land is shaded
    fig = plot.plot_panels(obs, filled, time=truth.time.values[1])
    assert len([ax for ax in fig.axes if ax.get_title()]) == 2
    assert type(fig.axes[0]).__name__ == "GeoAxes"


def test_panels_xy_rgb_and_errors(tmp_path):
    video = rgb_video()
    obs = video.where(np.random.default_rng(2).random((3, 16, 20, 1)) > 0.3)
    path = plot.plot_panels(obs, obs.fillna(0.5), video, time=1, path=tmp_path / "v.pdf")
    assert path.read_bytes()[:4] == b"%PDF"
    with pytest.raises(FieldError, match="grid"):
        plot.plot_panels(obs, obs.isel(time=slice(0, 2)))
    with pytest.raises(SeainpaintError, match="out of range"):
        plot.plot_panels(obs, obs, time=10)


def test_animate_gif_and_mp4(sst_case, tmp_path):
    _, obs, _ = sst_case
    gif = plot.animate(obs, tmp_path / "obs.gif", fps=5)
    with Image.open(gif) as img:
        assert img.format == "GIF"
        assert img.n_frames == obs.sizes["time"]
    mp4 = plot.animate(rgb_video(4), tmp_path / "video.mp4", fps=4)
    reader = imageio.get_reader(mp4, format="ffmpeg")
    try:
        assert reader.count_frames() == 4
        assert reader.get_data(0).ndim == 3
    finally:
        reader.close()
    with pytest.raises(SeainpaintError, match="gif or .mp4"):
        plot.animate(obs, tmp_path / "obs.avi")


def test_occlusion_rate_plot(tmp_path):
    path = plot.plot_occlusion_rate(
        [55, 60, 65, 70, 75, 80],
        [0.8, 0.7, 0.56, 0.4, 0.25, 0.13],
        tmp_path / "rate.png",
        stds=[0.1] * 6,
    )
    with Image.open(path) as img:
        assert img.format == "PNG" and img.size[0] > 100
    fig = plot.plot_occlusion_rate([55, 80], [79.9, 13.4])
    ydata = fig.axes[0].lines[0].get_ydata()
    assert list(ydata) == [79.9, 13.4]
    with pytest.raises(SeainpaintError, match="same length"):
        plot.plot_occlusion_rate([55, 60], [0.5])


def test_natural_earth_only_from_local_files(tmp_path, monkeypatch):
    monkeypatch.setitem(cartopy.config, "pre_existing_data_dir", str(tmp_path / "none"))
    monkeypatch.setitem(cartopy.config, "data_dir", str(tmp_path))
    assert not plot.natural_earth_available()
    shp = tmp_path / "shapefiles" / "natural_earth" / "physical" / "ne_110m_coastline.shp"
    shp.parent.mkdir(parents=True)
    shp.write_bytes(b"")
    assert plot.natural_earth_available()
    assert not plot.natural_earth_available("10m")


# ------------------------------------------------------------- the figure a reader sees


def _ostia_like():
    """A wide lat-lon strip with real-looking land and a sea pixel cloudy in every frame."""
    land = np.zeros((6, 24), dtype=bool)
    land[:, :7] = True
    truth = synthetic.sst(n_time=6, size=24, seed=3).isel(latitude=slice(0, 6))
    truth = truth.where(~xr.DataArray(land, dims=("latitude", "longitude")))
    keep = np.random.default_rng(1).random(truth.shape) > 0.4
    keep[:, 3, 15] = False  # never observed, but sea
    obs = truth.where(keep)
    land_da = xr.DataArray(land, dims=("latitude", "longitude"))
    return truth, obs, land_da


def _colorbar_labels(fig) -> list[str]:
    return [
        ax.get_xlabel() or ax.get_ylabel()
        for ax in fig.axes
        if ax.get_label() == "<colorbar>"
    ]


def test_units_labels():
    assert plot.units_label("degree_Celsius") == "°C"
    assert plot.units_label("degC") == "°C"
    assert plot.units_label("K") == "K"
    assert plot.units_label(None) == ""
    assert plot.units_label("m s-1") == "m s-1"


def test_median_cover_time_picks_a_representative_frame():
    truth = synthetic.sst(n_time=5, size=8, seed=0)
    keep = np.ones(truth.shape, dtype=bool)
    for t, hidden in enumerate([0, 60, 10, 40, 20]):  # pixels hidden per frame
        keep[t].flat[:hidden] = False
    obs = truth.where(keep)
    assert plot.median_cover_time(obs) == 4  # 20 hidden: the median of 0, 10, 20, 40, 60


def test_time_labels():
    hourly = synthetic.sst(n_time=3, size=8, seed=0)
    assert plot.time_label(hourly, 1).endswith("UTC") and ":" in plot.time_label(hourly, 1)
    from seainpaint.io.samples import ostia_monthly

    assert plot.time_label(ostia_monthly(), 0) == "2006-04"


def test_several_methods_with_units_land_clouds_and_coastline(sst_case, tmp_path):
    truth, obs, filled = sst_case
    obs = obs.assign_attrs(units="degree_Celsius")
    fills = {"linear": filled, "climatology": seainpaint.fill(obs, "climatology")}
    fig = plot.plot_panels(obs, fills, truth, time=plot.median_cover_time(obs))
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles[0].startswith("observed (") and "% cloud" in titles[0]
    assert {"truth", "linear", "climatology", "linear − truth", "climatology − truth"} <= set(
        titles
    )
    labels = _colorbar_labels(fig)
    assert any("°C" in label and "error" not in label for label in labels)
    assert "error (°C)" in labels
    assert not any("degree_Celsius" in label for label in labels)
    legend = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    legend += [t.get_text() for ax in fig.axes if ax.get_legend()
               for t in ax.get_legend().get_texts()]
    assert "land" in legend and "cloud (not observed)" in legend
    from matplotlib.contour import ContourSet

    maps = [ax for ax in fig.axes if type(ax).__name__ == "GeoAxes"]
    # every map: a coastline (line contour of the land mask) and, where clouds are, hatching
    assert all(any(isinstance(c, ContourSet) and not c.filled for c in ax.collections)
               for ax in maps)
    hatched = [
        ax
        for ax in maps
        if any(isinstance(c, ContourSet) and c.filled and c.hatches[0] for c in ax.collections)
    ]
    assert maps[0] in hatched  # the observation shows its clouds
    path = plot.plot_panels(obs, fills, truth, time=1, path=tmp_path / "p.png")
    pixels = np.asarray(Image.open(path).convert("RGB")).astype(int)
    land_grey = (np.abs(pixels - 191) <= 2).all(axis=-1)
    hatch_grey = (np.abs(pixels - 115) <= 12).all(axis=-1)
    assert land_grey.sum() > 100 and hatch_grey.sum() > 20  # land and clouds look different


def test_explicit_land_keeps_never_observed_sea_apart(tmp_path):
    truth, obs, land = _ostia_like()
    fig = plot.plot_panels(obs, {"linear": seainpaint.fill(obs, "linear")}, truth, land=land)
    texts = [leg.get_title().get_text() for ax in fig.axes if (leg := ax.get_legend())]
    texts += [leg.get_title().get_text() for leg in fig.legends]
    assert any("1 sea pixels never observed" in t for t in texts)
    with pytest.raises(FieldError, match="land mask"):
        plot.plot_panels(obs, obs, land=np.zeros((3, 3), dtype=bool))


def test_wide_strips_are_stacked():
    truth, obs, land = _ostia_like()
    fills = {m: seainpaint.fill(obs, m) for m in ("linear", "climatology")}
    fig = plot.plot_panels(obs, fills, truth, land=land)
    fig.canvas.draw()
    box = {ax.get_title(): ax.get_position() for ax in fig.axes if ax.get_title()}
    # panels one under the other (not thin strips side by side), errors on the right
    assert box["truth"].y0 > box["linear"].y0 > box["climatology"].y0
    assert abs(box["truth"].x0 - box["climatology"].x0) < 0.05
    assert box["linear − truth"].x0 > box["linear"].x1


def test_written_figures_follow_the_umask(sst_case, tmp_path):
    truth, obs, filled = sst_case
    old = os.umask(0o022)
    try:
        path = plot.plot_panels(obs, filled, truth, path=tmp_path / "mode.png")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


# ------------------------------------------------- score figures (issue 16)


def scored_case():
    """White noise, its Gaussian smoothing, and a fill with a calibrated standard error."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(4)
    truth = xr.DataArray(rng.normal(size=(6, 32, 32)), dims=("time", "y", "x"), name="sst")
    obs = truth.where(rng.random(truth.shape) > 0.5)
    hidden = np.isnan(obs.values)
    smooth = truth.copy(data=gaussian_filter(truth.values, sigma=(0, 2, 2)))
    sigma = xr.full_like(truth, 0.3).where(hidden)
    noisy = (truth + 0.3 * rng.normal(size=truth.shape) * hidden).assign_coords(
        sst_standard_error=sigma
    )
    return truth, obs, {"smooth": smooth, "noisy": noisy}


def test_plot_psd_score(tmp_path):
    truth, obs, fills = scored_case()
    fig = plot.plot_psd_score(truth, obs, fills)
    ax = fig.axes[0]
    curves = {
        line.get_label(): line for line in ax.get_lines() if not line.get_label().startswith("_")
    }
    # one curve per method, the smooth one labelled with its effective resolution
    scores = seainpaint.evaluation.psd_scores(truth, obs, fills)
    res = scores["smooth"].attrs["effective_resolution"]
    assert f"smooth ({res:.3g} px)" in curves and "noisy" in "".join(curves)
    np.testing.assert_allclose(curves[f"smooth ({res:.3g} px)"].get_ydata(), scores["smooth"])
    assert any(np.allclose(line.get_ydata(), 0.5) for line in ax.get_lines())  # the 0.5 line
    assert ax.get_xscale() == "log" and "wavelength (px)" in ax.get_xlabel()
    path = plot.plot_psd_score(truth, obs, fills, tmp_path / "psd.png", along="time")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["psd.png"]
    with Image.open(path) as img:
        img.verify()
    with pytest.raises(seainpaint.OutputExistsError):
        plot.plot_psd_score(truth, obs, fills, path, overwrite=False)
    with pytest.raises(SeainpaintError, match="units"):
        plot.plot_psd_score(truth, obs, fills, units="km")


def test_plot_calibration(tmp_path):
    truth, obs, fills = scored_case()
    fig = plot.plot_calibration(truth, obs, fills, levels=[0.25, 0.5, 0.75])
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"calibrated", "noisy"}  # the diagonal and the fill with σ
    np.testing.assert_allclose(lines["noisy"].get_xdata(), [0.25, 0.5, 0.75])
    # calibrated σ: the observed coverage lies near the diagonal
    np.testing.assert_allclose(lines["noisy"].get_ydata(), [0.25, 0.5, 0.75], atol=0.05)
    path = plot.plot_calibration(truth, obs, fills, tmp_path / "calibration.png")
    with Image.open(path) as img:
        img.verify()
    with pytest.raises(SeainpaintError, match="standard error"):
        plot.plot_calibration(truth, obs, {"smooth": fills["smooth"]})
