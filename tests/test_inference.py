"""Tests of inference: windows, tiles, blending, dask (local and distributed), devices."""

from __future__ import annotations

import functools
import os
import pickle
import subprocess
import sys

import dask.array as dsk
import numpy as np
import pytest
import torch
import xarray as xr
from tiny import one_thread  # noqa: F401  (a fixture)
from torch import nn

from seainpaint.errors import FieldError, MethodError, SeainpaintError
from seainpaint.inference import (
    DeviceError,
    GeneratorPredictor,
    predict_array,
    predict_dataarray,
    select_device,
)
from seainpaint.nn import build_generator

C = -2.0  # the constant that replaces missing values


pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors: one torch thread


class LocalNet(nn.Module):
    """Deterministic network with a receptive field of +-2 in time and space."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.a = nn.Conv3d(channels + 1, 8, 3, padding=1)
        self.b = nn.Conv3d(8, channels, 3, padding=1)

    def forward(self, y, m):
        return torch.tanh(self.b(torch.relu(self.a(torch.cat([y, m], 1)))))


def identity(y, m):
    return y.clone()


def _field(t=29, h=45, w=51, c=2, seed=0, missing=0.3):
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(t, h, w, c)).astype(np.float32)
    v[rng.random((t, h, w)) < missing] = np.nan
    return v


def test_identity_predict_is_reproduced_exactly_through_blending():
    # windows, overlaps, tiles and halos of awkward sizes: the weights must sum to one
    v = _field(t=31, h=45, w=70, c=2)
    out = predict_array(identity, v, fill_value=C, window=7, overlap=3, tile=16, halo=5,
                        batch_size=3, device="cpu")
    assert out.shape == v.shape and out.dtype == np.float32
    obs = np.isfinite(v).all(-1, keepdims=True)
    expect = np.where(obs, v, C)
    np.testing.assert_allclose(out, expect, rtol=0, atol=1e-5)


@pytest.mark.parametrize("shape", [(3, 5, 7, 1), (1, 1, 1, 1), (24, 9, 100, 3)])
def test_short_series_and_odd_sizes(shape):
    v = _field(*shape, seed=1)
    net = LocalNet(shape[-1])
    out = predict_array(net, v, fill_value=C, window=24, overlap=8, tile=32, halo=4,
                        device="cpu")
    assert out.shape == shape
    assert np.isfinite(out).all()


def test_windows_and_tiles_equal_one_pass_when_receptive_field_fits():
    v = _field(t=29, h=45, w=51, c=2)
    net = LocalNet(2)
    whole = predict_array(net, v, fill_value=C, window=64, tile=None, device="cpu")
    # receptive field 2 <= overlap // 4 and <= halo // 2
    cut = predict_array(net, v, fill_value=C, window=10, overlap=8, tile=16, halo=4,
                        batch_size=5, device="cpu")
    np.testing.assert_allclose(cut, whole, rtol=0, atol=2e-6)
    # with too little context the cuts are visible: the comparison above can fail
    rough = predict_array(net, v, fill_value=C, window=6, overlap=1, tile=16, halo=0,
                          device="cpu")
    assert np.abs(rough - whole).max() > 1e-3


def test_predict_gets_batches_on_the_device_without_autograd():
    seen = []

    def spy(y, m):
        seen.append((tuple(y.shape), tuple(m.shape), y.device.type,
                     torch.is_inference_mode_enabled(), float(m.min()), float(m.max())))
        return torch.zeros_like(y)

    v = _field(t=20, h=10, w=10, c=1)
    predict_array(spy, v, fill_value=C, window=8, overlap=4, batch_size=2, device="cpu")
    # windows start at 0, 4, 8, 12: four windows in two batches of two
    assert [s[0] for s in seen] == [(2, 1, 8, 10, 10)] * 2
    assert all(s[1] == (2, 1, 8, 10, 10) and s[2] == "cpu" and s[3] for s in seen)
    assert all(s[4] == 0.0 and s[5] == 1.0 for s in seen)
    # a memory bound shrinks the batches
    seen.clear()
    predict_array(spy, v, fill_value=C, window=8, overlap=4, batch_size=4, max_voxels=1000,
                  device="cpu")
    assert [s[0][0] for s in seen] == [1, 1, 1, 1]


def test_bad_inputs_raise_clear_errors():
    v = _field(t=4, h=6, w=6, c=1)
    with pytest.raises(FieldError, match=r"\(T, H, W, C\)"):
        predict_array(identity, v[..., 0], fill_value=C)
    with pytest.raises(MethodError, match="overlap"):
        predict_array(identity, v, fill_value=C, window=4, overlap=-1)
    with pytest.raises(MethodError, match="batch_size"):
        predict_array(identity, v, fill_value=C, batch_size=0)
    with pytest.raises(MethodError, match="returned shape"):
        predict_array(lambda y, m: y[:, :, :1], v, fill_value=C, window=2, overlap=0)


def test_select_device_cpu_path_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    before = torch.get_num_threads()
    try:
        dev = select_device("auto", threads=1)
        assert dev == torch.device("cpu")
        assert torch.get_num_threads() == 1
        with pytest.raises(DeviceError, match="CUDA is not available"):
            select_device("cuda")
        with pytest.raises(SeainpaintError, match="unknown device"):
            select_device("abacus")
        # the whole prediction path runs with CUDA absent
        out = predict_array(LocalNet(1), _field(t=5, h=8, w=8, c=1), fill_value=C)
        assert np.isfinite(out).all()
    finally:
        torch.set_num_threads(before)


def _as_dataarray(v: np.ndarray, channel: bool) -> xr.DataArray:
    t, h, w, c = v.shape
    coords = {
        "time": np.datetime64("2020-01-01T00", "h") + np.arange(t).astype("timedelta64[h]"),
        "latitude": np.linspace(-40, -35, h),
        "longitude": np.linspace(20, 25, w),
    }
    dims = ("time", "latitude", "longitude")
    data = 20.0 + 2.0 * v
    if channel:
        return xr.DataArray(data, dims=dims + ("channel",), coords=coords, name="rgb")
    return xr.DataArray(data[..., 0], dims=dims, coords=coords, name="thetao",
                        attrs={"units": "degree_Celsius"})




def _norm(x):
    return (x - 20.0) / 2.0


def _denorm(x):
    return 20.0 + 2.0 * x


@pytest.mark.parametrize("channel", [False, True])
def test_dask_backed_equals_in_memory(channel):
    c = 2 if channel else 1
    v = _field(t=30, h=40, w=44, c=c, seed=3)
    da = _as_dataarray(v, channel).transpose("time", "longitude", "latitude", ...)
    opts = dict(window=10, overlap=8, tile=16, halo=4, device="cpu")
    net = LocalNet(c)
    eager = predict_dataarray(net, da, normalize=_norm, denormalize=_denorm, fill_value=C,
                              **opts)
    assert eager.dims == da.dims and eager.name == da.name and eager.attrs == da.attrs
    xr.testing.assert_identical(eager.coords.to_dataset(), da.coords.to_dataset())
    lazy = predict_dataarray(net, da.chunk({"time": 12, "latitude": 20, "longitude": 17}),
                             normalize=_norm, denormalize=_denorm, fill_value=C, **opts)
    assert isinstance(lazy.data, dsk.Array)  # nothing computed yet
    assert lazy.dims == da.dims
    np.testing.assert_allclose(lazy.values, eager.values, rtol=0, atol=1e-4)
    # the one-pass in-memory prediction, in physical units
    whole = predict_array(net, _norm(np.asarray(da.transpose("time", "latitude",
                                                                "longitude", ...).values)
                                     .reshape(30, 40, 44, c)),
                          fill_value=C, window=64, device="cpu")
    np.testing.assert_allclose(
        eager.transpose("time", "latitude", "longitude", ...).values.reshape(whole.shape),
        _denorm(whole), rtol=0, atol=1e-4)


def _tiny_generator():
    torch.manual_seed(0)
    gen = build_generator({"base": 4})
    y = torch.randn(2, 1, 4, 16, 16)
    gen(y, torch.ones(2, 1, 4, 16, 16))  # move batch-norm statistics off their init
    return gen.eval()


def test_generator_predictor_pickles_and_matches_the_network():
    gen = _tiny_generator()
    predictor = pickle.loads(pickle.dumps(GeneratorPredictor(gen)))
    y = torch.randn(1, 1, 3, 20, 20)
    m = (torch.rand(1, 1, 3, 20, 20) > 0.5).float()
    with torch.no_grad():
        torch.testing.assert_close(predictor(y, m), gen(y, m), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("processes", [False, True])
def test_works_under_a_distributed_client(processes):
    from distributed import Client, LocalCluster

    v = _field(t=16, h=24, w=24, c=1, seed=4)
    da = _as_dataarray(v, channel=False).chunk({"time": 8, "latitude": 12, "longitude": 24})
    predictor = GeneratorPredictor(_tiny_generator())
    norm = functools.partial(np.multiply, 0.5)  # picklable by reference
    denorm = functools.partial(np.multiply, 2.0)
    opts = dict(normalize=norm, denormalize=denorm, fill_value=C, window=8, overlap=4,
                halo=4, device="cpu")
    expected = predict_dataarray(predictor, da, **opts).compute(scheduler="sync")
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=processes,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        lazy = predict_dataarray(predictor, da, **opts)
        got = client.compute(lazy).result()
    assert np.isfinite(got.values).all()
    np.testing.assert_allclose(got.values, expected.values, rtol=1e-5, atol=1e-5)


def test_dask_chunks_smaller_than_the_context_are_handled():
    v = _field(t=20, h=24, w=20, c=1, seed=5)
    da = _as_dataarray(v, channel=False)
    opts = dict(normalize=_norm, denormalize=_denorm, fill_value=C, window=10, overlap=8,
                tile=8, halo=4, align=1, device="cpu")
    net = LocalNet(1)
    eager = predict_dataarray(net, da, **opts)
    lazy = predict_dataarray(net, da.chunk({"time": 3, "latitude": 5, "longitude": 7}), **opts)
    np.testing.assert_allclose(lazy.values, eager.values, rtol=0, atol=1e-4)


def test_lazy_result_comes_back_in_the_input_chunks_and_writes_to_zarr(tmp_path):
    """The fill works on tile-aligned chunks inside, but hands back the user's (regular)
    chunks: Zarr refuses irregular ones."""
    v = _field(t=20, h=40, w=36, c=1, seed=7)
    da = _as_dataarray(v, channel=False).chunk({"time": 10, "latitude": 16, "longitude": 16})
    opts = dict(normalize=_norm, denormalize=_denorm, fill_value=C, window=10, overlap=4,
                tile=12, halo=4, align=4, device="cpu")
    lazy = predict_dataarray(LocalNet(1), da, **opts)
    assert lazy.chunks == da.chunks
    lazy.rename("x").to_dataset().to_zarr(tmp_path / "out.zarr")
    with xr.open_zarr(tmp_path / "out.zarr") as back:
        np.testing.assert_array_equal(back["x"].values, lazy.values)


def test_large_frames_are_tiled_automatically_to_bound_memory():
    v = _field(t=6, h=70, w=90, c=1, seed=6)
    net = LocalNet(1)
    shapes = []

    def spy(y, m):
        shapes.append(tuple(y.shape))
        return net(y, m)

    whole = predict_array(net, v, fill_value=C, window=6, device="cpu")
    small = predict_array(spy, v, fill_value=C, window=6, halo=8, max_voxels=6 * 40 * 40,
                          device="cpu")
    assert all(b * t * h * w <= 6 * 40 * 40 for b, _, t, h, w in shapes)
    assert len(shapes) > 1
    np.testing.assert_allclose(small, whole, rtol=0, atol=2e-6)


_PAGE_FAULTS_SCRIPT = """
import resource, sys, torch
from seainpaint.inference.malloc import roomy_malloc

size, n = int(sys.argv[1]), int(sys.argv[2])

def faults():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(n):
        a = torch.empty(size // 4).fill_(1.0)  # a tensor like an activation, freed at once
        del a
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

plain = faults()
with roomy_malloc():
    roomy = faults()
print(plain, roomy)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc only")
@pytest.mark.parametrize("dask_worker", [True, False])
def test_roomy_malloc_reuses_memory_that_glibc_would_map_afresh(dask_worker):
    """A block that glibc maps afresh on every allocation (4 MiB under dask's
    ``MALLOC_TRIM_THRESHOLD_``, 64 MiB anywhere) has its pages faulted in each time;
    inside ``roomy_malloc`` the heap reuses them."""
    env = dict(os.environ)
    env.pop("MALLOC_MMAP_THRESHOLD_", None)
    env.pop("THP_MEM_ALLOC_ENABLE", None)  # torch's huge pages would fault once per 2 MiB
    if dask_worker:
        env["MALLOC_TRIM_THRESHOLD_"] = "65536"
        size, n = 4 << 20, 50
    else:
        env.pop("MALLOC_TRIM_THRESHOLD_", None)
        size, n = 64 << 20, 20
    run = subprocess.run([sys.executable, "-c", _PAGE_FAULTS_SCRIPT, str(size), str(n)],
                         env=env, capture_output=True, text=True, check=True)
    plain, roomy = (int(v) for v in run.stdout.split())
    pages = size // 4096
    assert plain > n * pages / 2  # each block is mapped anew: its pages fault again
    assert roomy < plain / 4  # the first block or two fault, the others reuse them


def test_default_threads_follow_omp_num_threads(monkeypatch):
    """A run on a shared machine set to OMP_NUM_THREADS=1 keeps to one torch thread (it
    used to take every core, and two such runs slowed each other down ~10x)."""
    from seainpaint.inference import cpu_cores, default_threads

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert default_threads() == 1
    before = torch.get_num_threads()
    try:
        select_device("cpu")
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    monkeypatch.setenv("OMP_NUM_THREADS", "100000")
    assert default_threads() == cpu_cores()
    for unset in ("", "auto", "0"):
        monkeypatch.setenv("OMP_NUM_THREADS", unset)
        assert default_threads() == cpu_cores()


def test_tasks_share_the_cores_when_a_field_has_fewer_chunks_than_cores():
    """One chunk under dask's threaded scheduler: its task gets every core (not one torch
    thread, which left the others idle); as many chunks as cores: one thread each."""
    import dask

    from seainpaint.inference import default_threads

    seen = []

    def spy(y, m):
        seen.append(torch.get_num_threads())
        return y.clone()

    cores = default_threads()
    n_t = 12 * max(cores, 2)
    da = _as_dataarray(_field(t=n_t, h=16, w=16, c=1, seed=1), channel=False)
    opts = dict(normalize=_norm, denormalize=_denorm, fill_value=C, window=6, overlap=2,
                device="cpu")
    before = torch.get_num_threads()
    try:
        with dask.config.set(scheduler="threads"):
            predict_dataarray(spy, da.chunk({"time": -1}), **opts).compute()
            assert seen and set(seen) == {cores}
            seen.clear()
            # chunks of 12 frames (twice the margin of 5 frames: kept as they are)
            predict_dataarray(spy, da.chunk({"time": 12}), **opts).compute()
            assert set(seen) == {max(1, cores // (n_t // 12))}
    finally:
        torch.set_num_threads(before)
