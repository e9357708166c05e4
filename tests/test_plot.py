"""Tests of seainpaint.plot: panels, animations and the occlusion-rate figure."""

from __future__ import annotations

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
