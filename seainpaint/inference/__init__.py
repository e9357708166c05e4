"""Apply a generator to fields of any length and size, identically for any chunking.

A network sees windows of ``window`` frames and, on large grids, spatial tiles of
``tile`` pixels plus a ``halo`` of context on each side. Windows overlap by ``overlap``
frames, tiles by ``2 * halo`` pixels, and overlapping predictions are blended with
linear ramps that sum to one, so seams do not show. The first quarter of every overlap
(next to a window's or tile's cut edge) gets zero weight: where the network's receptive
field reaches at most ``overlap // 4`` frames and ``halo // 2`` pixels, the blended result
equals one pass over the whole field.

Where windows and tiles lie is decided once for the whole field (:class:`FillPlan`),
anchored on its global time index and pixel grid, never on how it is chunked. A
generator that is told each pixel's temporal context (:mod:`seainpaint.nn.context`)
gets it computed from the observations within ``reach`` frames, wherever they are.

On dask-backed input :func:`predict_dataarray` is lazy: :func:`dask.array.map_overlap`
gives every chunk enough surrounding frames and pixels that the windows and tiles
touching it, and their context, are complete; each chunk then runs exactly the windows
and tiles of the plan that touch it. The result equals the in-memory fill to float
rounding for any chunking, memory stays bounded by the chunk size, and it works under a
``dask.distributed`` cluster with process workers (:class:`GeneratorPredictor` and the
normalisation travel as plain weights and arrays).

Modules: :mod:`.device` (torch device and threads, :class:`GeneratorPredictor`),
:mod:`.plan` (windows, tiles and weights), :mod:`.region` (a region in memory,
:func:`predict_array`), :mod:`.dataarray` (DataArrays and dask, :func:`predict_dataarray`)
and :mod:`.malloc` (glibc thresholds while the network runs).
"""

from ..errors import DeviceError, FieldError, MethodError
from .dataarray import ArrayFn, affine, predict_dataarray
from .device import GeneratorPredictor, cpu_cores, default_threads, select_device
from .plan import DEFAULT_HALO, FILL_DEFAULTS, FillDefaults, FillPlan, plan_fill
from .region import PredictFn, predict_array

__all__ = [
    "DEFAULT_HALO",
    "FILL_DEFAULTS",
    "ArrayFn",
    "DeviceError",
    "FieldError",
    "FillDefaults",
    "FillPlan",
    "GeneratorPredictor",
    "MethodError",
    "PredictFn",
    "affine",
    "cpu_cores",
    "default_threads",
    "plan_fill",
    "predict_array",
    "predict_dataarray",
    "select_device",
]
