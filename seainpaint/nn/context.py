"""What the generator is told about each pixel's own history: the temporal context.

For every pixel and frame, :func:`temporal_context` finds the previous and the next
frame where the pixel is observed, at most ``reach`` frames away, and returns

- the *prior*: linear interpolation in time between those two observations (weighted by
  the real time stamps, so irregular sampling is handled), the one observed side where
  only one lies within reach, and 0 (the normalised mean) where none does;
- two *gap* channels: how far the previous and the next observation are, as
  ``log1p(distance / step)`` with the distance in the time units of ``times`` and
  ``step`` the nominal time step (``log1p(reach)`` where there is none within reach);
- a *residual* channel per field channel: at observed pixels, how far the observation is
  from the interpolation of that pixel's *other* observations (leave-one-out), 0
  elsewhere. It shows where and by how much interpolation in time is wrong right now
  (a diurnal peak, a front passing by), which the network carries over to the hidden
  pixels nearby.

Both the training windows and the fill compute it with the same ``reach``, on enough
surrounding frames that a frame's context never depends on where a window, a tile or a
dask chunk starts: a pixel's context only uses frames within ``reach`` of it.

Tensors are ``(B, C, T, H, W)`` values and ``(B, 1, T, H, W)`` masks (1 = observed);
``times`` is ``(B, T)`` or ``(T,)``, in any unit (hours for SST).
"""

from __future__ import annotations

import math

import torch

GAP_CHANNELS = 2  # gap to the previous and to the next observation
#: widths (Gaussian sigma, pixels) at which :func:`spatial_residual` spreads the residuals
SPATIAL_SCALES = (2.0, 6.0, 18.0)


def context_channels(channels: int) -> int:
    """Number of feature channels :func:`temporal_context` returns besides the prior."""
    return GAP_CHANNELS + channels


def _observed_index(obs: torch.Tensor, *, forward: bool = True) -> torch.Tensor:
    """Index of the last observed frame at or before each frame (``forward``), or of the
    first one at or after it; -1 where there is none.

    A running maximum (minimum) frame by frame: on the CPU several times faster than
    ``cummax`` along the time axis, whose elements lie a frame apart in memory, and no
    flipped copies.
    """
    t_len = obs.shape[2]
    t = torch.arange(t_len, device=obs.device).view(1, 1, t_len, 1, 1)
    index = torch.where(obs, t, torch.full_like(t, -1 if forward else t_len))
    if forward:
        for k in range(1, t_len):
            torch.maximum(index[:, :, k], index[:, :, k - 1], out=index[:, :, k])
        return index
    for k in range(t_len - 2, -1, -1):
        torch.minimum(index[:, :, k], index[:, :, k + 1], out=index[:, :, k])
    return index.masked_fill_(index == t_len, -1)


def _shift(index: torch.Tensor, by: int, fill: int) -> torch.Tensor:
    """``index`` moved ``by`` frames along time (1: each frame sees its predecessor's)."""
    pad = torch.full_like(index[:, :, :1], fill)
    if by > 0:
        return torch.cat([pad, index[:, :, :-1]], 2)
    return torch.cat([index[:, :, 1:], pad], 2)


def _interpolate(y: torch.Tensor, tt: torch.Tensor, idx: torch.Tensor, prev_i: torch.Tensor,
                 next_i: torch.Tensor, limit: int, keep: slice) -> tuple[torch.Tensor, ...]:
    """Linear interpolation at the frames ``keep`` between frames ``prev_i`` and ``next_i``
    (given for those frames; ``y`` and ``tt`` hold every frame).

    Returns the blend (the one valid side where only one is, 0 where none), whether
    each side is valid (within ``limit`` frames), and the time distances to both sides.
    """
    t_len = y.shape[2]
    idx, t_here = idx[:, :, keep], tt[:, :, keep]
    has_prev = (prev_i >= 0) & (idx - prev_i <= limit)
    has_next = (next_i >= 0) & (next_i - idx <= limit)
    prev_c = prev_i.clamp(0, t_len - 1)
    next_c = next_i.clamp(0, t_len - 1)
    full = tt.expand(prev_c.shape[0], 1, -1, *prev_c.shape[3:])
    shape = (y.shape[0], y.shape[1], prev_c.shape[2], *y.shape[3:])
    y_prev = torch.gather(y, 2, prev_c.expand(shape))
    y_next = torch.gather(y, 2, next_c.expand(shape))
    t_prev = torch.where(has_prev, torch.gather(full, 2, prev_c), t_here)
    t_next = torch.where(has_next, torch.gather(full, 2, next_c), t_here)
    # one side missing: both ends are the observed side, the blend is that value
    y_prev = torch.where(has_prev, y_prev, y_next)
    y_next = torch.where(has_next, y_next, y_prev)
    span = t_next - t_prev
    frac = torch.where(span > 0, (t_here - t_prev) / torch.where(span > 0, span, 1.0), 0.0)
    frac = frac.clamp(0, 1).to(y.dtype)
    blended = torch.where(has_prev | has_next, y_prev + frac * (y_next - y_prev),
                          torch.zeros_like(y_prev))
    return blended, has_prev, has_next, t_here - t_prev, t_next - t_here


def temporal_context(
    y: torch.Tensor,
    m: torch.Tensor,
    times: torch.Tensor | None = None,
    *,
    reach: int | None = None,
    step: float = 1.0,
    causal: bool = False,
    frames: slice | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The prior and the gap channels of every pixel (see the module docstring).

    Parameters
    ----------
    y : Tensor ``(B, C, T, H, W)``
        Normalised values (anything where not observed).
    m : Tensor ``(B, 1, T, H, W)``
        1 where observed.
    times : Tensor ``(B, T)`` or ``(T,)``, optional
        Time stamps (float64 recommended); frame indices times ``step`` when omitted.
    reach : int, optional
        Observations more than ``reach`` frames away are not used (unlimited when None).
    step : float
        Nominal time step, in the units of ``times``.
    causal : bool
        Use the past only: the prior is the last observation (persistence) and the
        second gap channel is constant.
    frames : slice, optional
        Return the context of these frames only (the others still serve as context):
        training windows are read with ``reach`` frames on each side, and only the window
        proper needs it.

    Returns
    -------
    prior : Tensor ``(B, C, T, H, W)``
        Equal to ``y`` where observed. No gradient flows through it.
    features : Tensor ``(B, 2 + C, T, H, W)``
        ``log1p`` of the distance to the previous and next observation, in steps, then the
        leave-one-out residual of every channel.
    """
    with torch.no_grad():
        b, _, t_len = y.shape[:3]
        obs = m > 0.5
        dev = y.device
        limit = t_len if reach is None else int(reach)
        cap = math.log1p(limit)
        idx = torch.arange(t_len, device=dev).view(1, 1, t_len, 1, 1)
        if times is None:
            tt = idx.to(torch.float32) * step
        else:
            # float32 offsets from the first frame: exact enough (1e-7 relative), and fast
            tt = times.to(device=dev, dtype=torch.float64)
            tt = (tt - tt[..., :1]).to(torch.float32)
            tt = tt.view(1, 1, t_len, 1, 1) if tt.dim() == 1 else tt.view(b, 1, t_len, 1, 1)

        keep = slice(None) if frames is None else frames
        prev_i = _observed_index(obs)
        if causal:
            next_i = torch.full_like(prev_i, -1)
        else:
            next_i = _observed_index(obs, forward=False)
        prior, has_prev, has_next, d_prev, d_next = _interpolate(
            y, tt, idx, prev_i[:, :, keep], next_i[:, :, keep], limit, keep)
        gap_prev = torch.where(has_prev, torch.log1p(d_prev / step), cap)
        gap_next = torch.where(has_next, torch.log1p(d_next / step), cap)
        # leave-one-out: the same interpolation from each pixel's other observations
        loo, lp, ln, _, _ = _interpolate(y, tt, idx, _shift(prev_i, 1, -1)[:, :, keep],
                                         _shift(next_i, -1, -1)[:, :, keep], limit, keep)
        here = y[:, :, keep]
        residual = torch.where(obs[:, :, keep] & (lp | ln), here - loo, torch.zeros_like(here))
        features = torch.cat([gap_prev.to(y.dtype), gap_next.to(y.dtype), residual], 1)
        return prior, features


def _gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """``x`` ``(N, C, H, W)`` convolved with a Gaussian of ``sigma`` pixels, zero outside."""
    radius = max(1, math.ceil(3.0 * sigma))
    pos = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    kernel = torch.exp(-0.5 * (pos / sigma) ** 2)
    kernel = kernel / kernel.sum()
    c = x.shape[1]
    rows = kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1)
    cols = kernel.view(1, 1, 1, -1).expand(c, 1, 1, -1)
    x = torch.nn.functional.conv2d(x, rows, padding=(radius, 0), groups=c)
    return torch.nn.functional.conv2d(x, cols, padding=(0, radius), groups=c)


def spatial_residual(residual: torch.Tensor, m: torch.Tensor,
                     scales: tuple[float, ...] = SPATIAL_SCALES,
                     shrink: float = 0.05) -> torch.Tensor:
    """The leave-one-out residuals spread in space, frame by frame, at several widths.

    Where a pixel is hidden for long, interpolation in time misses what happened in the
    meantime (a diurnal peak, an eddy passing by); the observed pixels around it in the
    same frame show it, as residuals. This is their normalised convolution with a
    Gaussian of each width in ``scales``: ``G*(r m) / (G*m + shrink)``, which tends to 0
    (no correction) where nothing is observed nearby. Frames are zero outside their edges,
    so a tile sees what it holds, as the network does.

    Parameters
    ----------
    residual : Tensor ``(B, C, T, H, W)``
        Leave-one-out residuals (0 where not observed), as in :func:`temporal_context`.
    m : Tensor ``(B, 1, T, H, W)``
        1 where observed.
    scales : tuple of float
        Gaussian widths in pixels.
    shrink : float
        Weight of the zero prior, in units of a fully observed neighbourhood.

    Returns
    -------
    Tensor ``(B, C * len(scales), T, H, W)``
    """
    with torch.no_grad():
        b, c, t, h, w = residual.shape
        dtype = residual.dtype
        mask = m.to(torch.float32).transpose(1, 2).reshape(b * t, 1, h, w)
        values = (residual.to(torch.float32) * m).transpose(1, 2).reshape(b * t, c, h, w)
        out = []
        for sigma in scales:
            weight = _gaussian_blur(mask, sigma)
            out.append(_gaussian_blur(values, sigma) / (weight + shrink))
        spread = torch.cat(out, 1).reshape(b, t, c * len(scales), h, w).transpose(1, 2)
        return spread.to(dtype)
