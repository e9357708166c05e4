"""The spatial prior: each frame filled from its own observed pixels.

Interpolation in time (:func:`~.context.temporal_context`) is the better guess where a
pixel was observed an hour ago; a smooth fill of the frame from the pixels observed in it
now is better where the pixel has been hidden for days, or where frames are a month apart
(monthly analyses, short records). Two such fills, in torch, on tiles of any size:
:func:`spatial_fill`, a harmonic (membrane) interpolation solved coarse to fine on a
pyramid with a few Jacobi sweeps per level, and :func:`spline_fill`, a spline in tension
(between the harmonic fill and the ``biharmonic`` baseline) solved by conjugate gradients
from it, which keeps the gradients that the harmonic fill flattens in a gap.

A generator with ``space_prior`` gets one of them (its ``space_fill``) as an input
channel, and as its prior where no observation lies within ``reach`` frames
(:func:`with_space_prior`), where interpolation in time has nothing to offer but the mean.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as nnf

#: sweeps per pyramid level of :func:`spatial_fill`
SWEEPS = 10
#: tension of :func:`spline_fill` (0: biharmonic, 1: harmonic)
TENSION = 0.25
#: conjugate-gradient steps of :func:`spline_fill`
SPLINE_ITERATIONS = 40


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


def _laplacian(u: torch.Tensor) -> torch.Tensor:
    """Five-point Laplacian with zero normal gradient at the edges (replicated)."""
    p = nnf.pad(u, (1, 1, 1, 1), mode="replicate")
    return p[..., :-2, 1:-1] + p[..., 2:, 1:-1] + p[..., 1:-1, :-2] + p[..., 1:-1, 2:] - 4 * u


def spline_fill(y: torch.Tensor, m: torch.Tensor, tension: float = TENSION,
                iterations: int = SPLINE_ITERATIONS) -> torch.Tensor:
    """Fill every frame with a spline in tension through its observed pixels.

    The missing pixels minimise ``(1 - tension) |∇²u|² + tension |∇u|²`` with the observed
    ones fixed (Smith & Wessel 1990, GMT's ``surface``): 0 is the biharmonic (minimum
    curvature) spline, which extends gradients into a gap and can overshoot in large ones;
    1 the harmonic fill of :func:`spatial_fill`, which flattens towards the gap's middle. A
    little tension keeps the first and avoids the second. Solved by ``iterations`` steps of
    conjugate gradients from the harmonic fill, every frame at once; observed pixels keep
    their values. Like :func:`spatial_fill` it sees only the frames it is given.

    Parameters
    ----------
    y, m : Tensor
        As for :func:`spatial_fill`.
    tension : float
        In [0, 1].
    iterations : int
        Conjugate-gradient steps.

    Returns
    -------
    Tensor ``(B, C, T, H, W)``, float32, no gradient.
    """
    start = spatial_fill(y, m)
    with torch.no_grad():
        b, c, t, h, w = start.shape
        u = start.transpose(1, 2).reshape(b * t * c, 1, h, w)
        known = (m > 0.5).transpose(1, 2).expand(b, t, c, h, w).reshape(b * t * c, 1, h, w)
        free = (~known).to(u.dtype)

        def operator(x: torch.Tensor) -> torch.Tensor:  # symmetric, positive on free pixels
            lap = _laplacian(x)
            return ((1.0 - tension) * _laplacian(lap) - tension * lap) * free

        residual = -operator(u)
        direction = residual
        norm = (residual * residual).sum((-2, -1), keepdim=True)
        for _ in range(iterations):
            image = operator(direction)
            curvature = (direction * image).sum((-2, -1), keepdim=True)
            alpha = torch.where(curvature > 0, norm / curvature.clamp_min(1e-30),
                                torch.zeros_like(norm))
            u = u + alpha * direction
            residual = residual - alpha * image
            new_norm = (residual * residual).sum((-2, -1), keepdim=True)
            beta = torch.where(norm > 0, new_norm / norm.clamp_min(1e-30), torch.zeros_like(norm))
            direction = residual + beta * direction
            norm = new_norm
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


#: the spatial fills a generator's ``space_fill`` names
SPACE_FILLS = {"harmonic": spatial_fill, "spline": spline_fill}
