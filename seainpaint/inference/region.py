"""Predict a region of a field in memory: every window and tile of the plan touching its
interior, batched through the network and blended (:func:`predict_array`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from ..checks import is_int_at_least
from ..errors import FieldError, MethodError
from ..nn.context import temporal_context
from ..occlusion import apply_measurement
from .device import select_device
from .malloc import roomy_malloc
from .plan import FILL_DEFAULTS, FillPlan, check_fill_options, plan_fill

PredictFn = Callable[..., Any]


def _window_inputs(values: np.ndarray, hours: np.ndarray | None, fill_value: float,
                   predict: Any, t_sl: slice, y_sl: slice, x_sl: slice,
                   ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """Network inputs of one window/tile: ``y`` ``(C, t, h, w)``, ``m`` ``(t, h, w)`` and,
    when the predictor wants it, the temporal context ``(prior, gaps)`` computed from the
    frames within ``reach`` of the window (so it is the same as on the whole field)."""
    reach = getattr(predict, "reach", None)
    lead = 0
    lo, hi = t_sl.start, t_sl.stop
    if reach is not None:
        lo, hi = max(0, lo - reach), min(values.shape[0], hi + reach)
        lead = t_sl.start - lo
    block = values[lo:hi, y_sl, x_sl]
    observed = np.isfinite(block).all(axis=-1)
    y = apply_measurement(block, observed[..., None], np.float32(fill_value)).astype(np.float32)
    y = np.ascontiguousarray(np.moveaxis(y, -1, 0))
    m = observed.astype(np.float32)
    keep = slice(lead, lead + t_sl.stop - t_sl.start)
    if reach is None:
        return y, m, None
    h = None if hours is None else torch.from_numpy(np.asarray(hours[lo:hi], np.float64))
    prior, features = temporal_context(
        torch.from_numpy(y)[None], torch.from_numpy(m)[None, None], h, reach=reach or None,
        step=getattr(predict, "step", 1.0), causal=getattr(predict, "causal", False),
        frames=keep)
    return y[:, keep], m[keep], (prior[0].numpy(), features[0].numpy())


def predict_region(predict: PredictFn, values: np.ndarray, plan: FillPlan, *,
                   origin: tuple[int, int, int], interior: tuple[slice, slice, slice],
                   hours: np.ndarray | None, fill_value: float, uncertainty: bool,
                   batch_size: int, device: str | torch.device, threads: int | None,
                   max_voxels: int, progress: bool) -> np.ndarray:
    """Predict the ``interior`` of a region of the field that starts at global ``origin``.

    Runs every window and tile of ``plan`` that touches the interior (they must lie
    inside the region) and blends them with the plan's global weights. The inputs (and
    temporal context) of a tile are built for a run of consecutive windows at a time, so
    memory holds the region, the interior's result and one run of one tile. Returns
    ``(t, h, w, C)`` (or ``2C`` with the scale) for the interior only.
    """
    # the temporal context of a tile is computed once for a run of consecutive windows
    # (not once per window, which would redo 2 * reach frames each time)
    span = max(256, 4 * (getattr(predict, "reach", None) or 0))
    chosen, runs = plan.work(values.shape, origin, interior, span)
    (t_starts, t_lens, _, t_tot), (y_starts, y_lens, _, y_tot), \
        (x_starts, x_lens, _, x_tot) = plan.axes
    ot, oy, ox = origin
    n_out = 2 * values.shape[3] if uncertainty else values.shape[3]
    bar = None
    if progress:
        bar = tqdm(total=len(chosen[0]) * len(chosen[1]) * len(chosen[2]),
                   desc="inpainting", unit="window")
    blend = _Blend(predict, plan, interior, n_out, select_device(device, threads),
                   uncertainty, bar)
    # glibc's default thresholds map and zero the activations afresh: 1.7-2.4x slower
    with torch.inference_mode(), roomy_malloc():
        for b in chosen[1]:
            y_sl = slice(y_starts[b] - oy, y_starts[b] - oy + y_lens[b])
            for c in chosen[2]:
                x_sl = slice(x_starts[c] - ox, x_starts[c] - ox + x_lens[c])
                for run in runs:
                    lo = t_starts[run[0]] - ot
                    hi = max(t_starts[a] + t_lens[a] for a in run) - ot
                    y, m, context = _window_inputs(values, hours, fill_value, predict,
                                                   slice(lo, hi), y_sl, x_sl)
                    for a in run:
                        t_sl = slice(t_starts[a] - ot, t_starts[a] - ot + t_lens[a])
                        keep = slice(t_sl.start - lo, t_sl.stop - lo)
                        inputs = (y[:, keep], m[keep], None if context is None else
                                  (context[0][:, keep], context[1][:, keep]))
                        key = (t_lens[a], y_lens[b], x_lens[c])
                        n = max(1, min(batch_size, max_voxels // max(1, key[0] * key[1]
                                                                      * key[2])))
                        blend.add(key, ((t_sl, y_sl, x_sl), inputs, a, b, c), n)
        blend.flush_all()
    if bar is not None:
        bar.close()
    it, iy, ix = interior
    norm = (t_tot[ot + it.start:ot + it.stop][:, None, None]
            * y_tot[oy + iy.start:oy + iy.stop][None, :, None]
            * x_tot[ox + ix.start:ox + ix.stop][None, None, :]).astype(np.float32)
    out = blend.out
    out /= norm
    return np.moveaxis(out, 0, -1)


class _Blend:
    """Windows/tiles waiting for the network, batched by shape (edge tiles may be
    shorter), and the weighted sum of their predictions over the interior (``out``)."""

    def __init__(self, predict: PredictFn, plan: FillPlan, interior: tuple[slice, ...],
                 n_out: int, device: torch.device, uncertainty: bool, bar: Any) -> None:
        self.predict, self.device, self.uncertainty, self.bar = predict, device, uncertainty, bar
        self.interior = interior
        self.weights = [axis[2] for axis in plan.axes]
        inner_shape = tuple(sl.stop - sl.start for sl in interior)
        self.out = np.zeros((n_out, *inner_shape), dtype=np.float32)
        self.pending: dict[tuple[int, int, int],
                           list[tuple[tuple[slice, ...], tuple, int, int, int]]] = {}

    def add(self, key: tuple[int, int, int], item: tuple, limit: int) -> None:
        """Queue one window/tile; run the batch of its shape once it holds ``limit``."""
        self.pending.setdefault(key, []).append(item)
        if len(self.pending[key]) >= limit:
            self.flush(key)

    def flush_all(self) -> None:
        for key in list(self.pending):
            self.flush(key)

    def flush(self, key: tuple[int, int, int]) -> None:
        """Run the queued windows/tiles of shape ``key`` and add them, weighted, to
        ``out``."""
        items = self.pending.pop(key, [])
        if not items:
            return
        pred = self._run([it[1] for it in items])
        t_w, y_w, x_w = self.weights
        for k, (sl, _, a, b, c) in enumerate(items):
            # the part of the window/tile inside the interior: where it lands, what it is
            dst, src = zip(*(_overlap(s_, i_) for s_, i_ in zip(sl, self.interior, strict=True)),
                           strict=True)
            ws, wy, wx = t_w[a][src[0]], y_w[b][src[1]], x_w[c][src[2]]
            w = (ws[:, None, None] * wy[None, :, None] * wx[None, None, :]).astype(np.float32)
            self.out[(slice(None), *dst)] += pred[k][(slice(None), *src)] * w
        if self.bar is not None:
            self.bar.update(len(items))

    def _run(self, inputs: list[tuple]) -> np.ndarray:
        """The network on a batch of ``(y, m, context)``: ``(B, C or 2C, t, h, w)``."""
        dev = self.device
        yb = torch.from_numpy(np.stack([it[0] for it in inputs])).to(dev)
        mb = torch.from_numpy(np.stack([it[1] for it in inputs]))[:, None].to(dev)
        ctx = None
        if inputs[0][2] is not None:
            ctx = tuple(torch.from_numpy(np.stack([it[2][k] for it in inputs])).to(dev)
                        for k in range(2))
        if self.uncertainty:
            res = self.predict(yb, mb, ctx, return_scale=True)
        elif ctx is not None:
            res = self.predict(yb, mb, ctx)
        else:
            res = self.predict(yb, mb)
        phi = res[0] if self.uncertainty else res
        if tuple(phi.shape) != tuple(yb.shape):
            raise MethodError(
                f"predict returned shape {tuple(phi.shape)} for input {tuple(yb.shape)}"
            )
        parts = [phi.detach().float().cpu().numpy()]
        if self.uncertainty:
            parts.append(torch.exp(res[1].detach().float()).cpu().numpy())
        return np.concatenate(parts, axis=1)


def _overlap(part: slice, interior: slice) -> tuple[slice, slice]:
    """Where ``part`` (region coordinates) meets ``interior``: that stretch in interior
    coordinates and in ``part``'s own."""
    lo, hi = max(part.start, interior.start), min(part.stop, interior.stop)
    hi = max(hi, lo)
    return slice(lo - interior.start, hi - interior.start), slice(lo - part.start, hi - part.start)


def predict_array(
    predict: PredictFn,
    values: np.ndarray,
    *,
    fill_value: float,
    window: int = FILL_DEFAULTS.window,
    overlap: int = FILL_DEFAULTS.overlap,
    tile: int | None = FILL_DEFAULTS.tile,
    halo: int = FILL_DEFAULTS.halo,
    batch_size: int = FILL_DEFAULTS.batch_size,
    device: str | torch.device = "auto",
    threads: int | None = None,
    align: int = FILL_DEFAULTS.align,
    max_voxels: int = FILL_DEFAULTS.max_voxels,
    hours: np.ndarray | None = None,
    uncertainty: bool = False,
    progress: bool = False,
) -> np.ndarray:
    """Predict every pixel of a normalised field with overlapping windows and tiles.

    Parameters
    ----------
    predict : callable
        ``predict(y, m) -> phi`` with ``y`` ``(B, C, t, h, w)`` (missing pixels set to
        ``fill_value``), ``m`` ``(B, 1, t, h, w)`` float (1 = observed) and ``phi`` of
        ``y``'s shape; called with tensors on the selected device, under
        :func:`torch.inference_mode`. A predictor with a ``reach`` attribute (e.g.
        :class:`GeneratorPredictor`) is called as ``predict(y, m, context)`` with the
        temporal context of every pixel computed on the whole field.
    values : numpy.ndarray
        ``(T, H, W, C)`` field, already normalised, NaN = missing. A pixel is observed
        when all its channels are finite.
    fill_value : float
        The constant c that replaces missing values in ``y``.
    window, overlap : int
        Frames per window and frames shared by consecutive windows (``overlap`` is
        capped at ``window - 1``).
    tile, halo : int
        With ``tile`` set and a side longer than ``tile + 2 * halo``, the frames are cut
        into tiles of ``tile + 2 * halo`` pixels sharing ``2 * halo`` pixels.
    batch_size : int
        Windows/tiles per call of ``predict``.
    device : str or torch.device
        See :func:`select_device`.
    threads : int, optional
        Torch threads on the CPU (see :func:`select_device`).
    align : int
        Tile starts are multiples of this (8 suits the "fast" generator's downsampling).
    max_voxels : int
        Memory bound: at most about this many voxels (``batch * t * h * w``) per call of
        ``predict``. Batches shrink (down to 1) to fit, and when ``tile`` is None and one
        window of whole frames exceeds it, a tile size is chosen automatically. The
        "fast" generator (base 16) holds roughly 700 bytes per voxel at its peak on the
        CPU: the default 2**19 keeps a call under about 400 MB.
    hours : numpy.ndarray, optional
        ``(T,)`` time stamps (hours) for the temporal context (frame indices if omitted).
    uncertainty : bool
        Also return the predicted error scale ``exp(log_b)`` (needs a predictor with an
        uncertainty head): the result then has ``2C`` channels.
    progress : bool
        Show a progress bar.

    Returns
    -------
    numpy.ndarray
        ``(T, H, W, C)`` float32 prediction phi for every pixel (``2C`` channels with
        ``uncertainty``).

    Raises
    ------
    FieldError
        ``values`` is not 4-D.
    MethodError
        Bad options, or ``predict`` returns the wrong shape.
    """
    values = np.asarray(values)
    if values.ndim != 4:
        raise FieldError(f"values must be (T, H, W, C); got shape {values.shape}")
    check_fill_options(window, overlap, tile, halo, batch_size, align)
    if not is_int_at_least(max_voxels, 1):
        raise MethodError(f"max_voxels must be an int >= 1, got {max_voxels!r}")
    plan = plan_fill(values.shape[:3], window=window, overlap=overlap, tile=tile, halo=halo,
                     align=align, max_voxels=max_voxels, reach=getattr(predict, "reach", None))
    return np.ascontiguousarray(predict_region(
        predict, values, plan, origin=(0, 0, 0),
        interior=tuple(slice(0, n) for n in values.shape[:3]), hours=hours,
        fill_value=fill_value, uncertainty=uncertainty, batch_size=batch_size, device=device,
        threads=threads, max_voxels=max_voxels, progress=progress))
