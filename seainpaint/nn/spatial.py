"""The spatial prior: each frame filled from its own observed pixels.

Interpolation in time (:func:`~.context.temporal_context`) is the better guess where a
pixel was observed an hour ago; a smooth fill of the frame from the pixels observed in it
now is better where the pixel has been hidden for days, or where frames are a month apart
(monthly analyses, short records). :func:`spatial_fill` is that fill: a harmonic
(membrane) interpolation solved coarse to fine on a pyramid, a few Jacobi sweeps per
level, in torch (tens of milliseconds for a training batch, on tiles of any size): a
cheaper, slightly rougher cousin of the ``biharmonic`` baseline.

A generator with ``space_prior`` gets it as an input channel, and as its prior where no
observation lies within ``reach`` frames (:func:`with_space_prior`), where interpolation
in time has nothing to offer but the mean.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as nnf

#: sweeps per pyramid level of :func:`spatial_fill`
SWEEPS = 10


def _pool(values: torch.Tensor, weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sums of ``values`` and ``weight`` over 2x2 blocks (odd sides padded with zeros)."""
    h, w = values.shape[-2:]
    pad = (0, w % 2, 0, h % 2)
    return (nnf.avg_pool2d(nnf.pad(values, pad), 2) * 4,
            nnf.avg_pool2d(nnf.pad(weight, pad), 2) * 4)


def _neighbour_mean(u: torch.Tensor) -> torch.Tensor:
    """Mean of the four neighbours (edges replicated): one Jacobi sweep of Laplace."""
    p = nnf.pad(u, (1, 1, 1, 1), mode="replicate")
    return 0.25 * (p[..., :-2, 1:-1] + p[..., 2:, 1:-1] + p[..., 1:-1, :-2] + p[..., 1:-1, 2:])


def spatial_fill(y: torch.Tensor, m: torch.Tensor, sweeps: int = SWEEPS) -> torch.Tensor:
    """Fill every frame from its own observed pixels (harmonic interpolation).

    Observed pixels keep their values; the others solve Laplace's equation with the
    observed ones as boundary values, approximately: the frame's observations are summed
    into a pyramid of 2x2 blocks, the coarsest level takes its blocks' means (the frame
    mean where a block holds none), and each finer level starts from the coarser one
    (bilinear) and relaxes with ``sweeps`` Jacobi sweeps. A frame with no observation is
    0 (the normalised mean). It sees only the frame it is given: a tile is filled from
    what the tile holds.

    Parameters
    ----------
    y : Tensor ``(B, C, T, H, W)``
        Normalised values (anything where not observed).
    m : Tensor ``(B, 1, T, H, W)``
        1 where observed.
    sweeps : int
        Jacobi sweeps per pyramid level.

    Returns
    -------
    Tensor ``(B, C, T, H, W)``, float32, no gradient.
    """
    with torch.no_grad():
        b, c, t, h, w = y.shape
        obs = (m > 0.5).to(torch.float32).transpose(1, 2).reshape(b * t, 1, h, w)
        vals = torch.nan_to_num(y.to(torch.float32)).transpose(1, 2).reshape(b * t, c, h, w)
        pyramid = [(vals * obs, obs.expand(-1, c, -1, -1))]
        while max(pyramid[-1][0].shape[-2:]) > 4:
            pyramid.append(_pool(*pyramid[-1]))
        coarsest_values, coarsest_weight = pyramid[-1]
        total = coarsest_values.sum((-2, -1), keepdim=True)
        count = coarsest_weight.sum((-2, -1), keepdim=True)
        u = torch.where(count > 0, total / count.clamp_min(1e-12), torch.zeros_like(total))
        for level_values, level_weight in reversed(pyramid):
            u = nnf.interpolate(u, size=level_values.shape[-2:], mode="bilinear",
                                align_corners=False)
            known = level_weight > 0
            value = level_values / level_weight.clamp_min(1e-12)
            u = torch.where(known, value, u)
            for _ in range(sweeps):
                u = torch.where(known, value, _neighbour_mean(u))
        return u.reshape(b, t, c, h, w).transpose(1, 2)


def unobserved_within_reach(gaps: torch.Tensor, reach: int | None) -> torch.Tensor:
    """Where the nearest observation in time is ``reach`` steps away or more (none within
    ``reach`` frames gives exactly that), from the context's gap channels.

    The gap channels hold distances in nominal time steps, so on an irregular record a
    pixel whose nearest observation lies within ``reach`` frames but ``reach`` steps or
    more away in time counts too: its interpolation in time is as stale.

    Parameters
    ----------
    gaps : Tensor ``(B, 2, T, H, W)``
        ``log1p`` of the distance (in steps) to the previous and the next observation, as
        :func:`~.context.temporal_context` returns them (``log1p(reach)`` where none).
    reach : int or None
        The context's reach; None: nowhere (the reach is the frames given).

    Returns
    -------
    Tensor ``(B, 1, T, H, W)`` of bool.
    """
    nearest = torch.minimum(gaps[:, :1], gaps[:, 1:2])
    if reach is None:
        return torch.zeros_like(nearest, dtype=torch.bool)
    return nearest >= math.log1p(reach) - 1e-6


def with_space_prior(time_prior: torch.Tensor, space_prior: torch.Tensor,
                     gaps: torch.Tensor, reach: int | None) -> torch.Tensor:
    """The temporal prior, and the spatial one where no observation lies within reach.

    Parameters
    ----------
    time_prior, space_prior : Tensor ``(B, C, T, H, W)``
    gaps : Tensor ``(B, 2, T, H, W)``
        The context's gap channels (see :func:`unobserved_within_reach`).
    reach : int or None

    Returns
    -------
    Tensor ``(B, C, T, H, W)``
    """
    none = unobserved_within_reach(gaps, reach)
    return torch.where(none, space_prior.to(time_prior.dtype), time_prior)
