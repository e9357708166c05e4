"""DINEOF: Data Interpolating Empirical Orthogonal Functions.

Beckers & Rixen (2003), Alvera-Azcárate et al. (2005). The field is arranged as a
matrix (time × sea pixels·channels), the temporal mean of each column is removed, missing
entries start at zero anomaly, and the missing entries are iteratively replaced by their
reconstruction from a truncated SVD with a growing number of modes k = 1, 2, ... The
number of modes is chosen by cross-validation on a random set of observed entries held
aside; the search stops when the cross-validation error has not improved for a few
modes. The held-aside entries are then put back and the reconstruction is redone with the
chosen number of modes. Land (never-observed) pixels are excluded from the matrix.

The truncated SVD at each iteration is computed by subspace (block power) iteration warm
started from the previous iteration's basis, so each iteration costs two matrix products
with a thin matrix; this is what makes a 1440×64×64 series fill in seconds.

This implementation has no temporal filter (no smoothing of the temporal EOFs, unlike
the filtered DINEOF of Alvera-Azcárate et al. 2009): the rows are exchangeable, so the
spacing of the time coordinate plays no role. Land comes from
:func:`seainpaint.field.land_mask` (the field's explicit ``land`` coordinate when it has
one); sea pixels never observed in the field cannot be reconstructed by EOFs and are left
NaN (:func:`seainpaint.fill` completes them from spatial context).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from ..field import canonical, land_mask, validate_field

SMALL_MATRIX = 4_000_000  # entries below which DINEOF runs BLAS on one thread


def _orthonormal(a: np.ndarray) -> np.ndarray:
    q, _ = np.linalg.qr(a)
    return q


def _iterate(
    x: np.ndarray,
    missing: np.ndarray,
    basis: np.ndarray,
    *,
    tol: float,
    max_iter: int,
    min_iter: int = 5,
) -> tuple[np.ndarray, int]:
    """Replace ``x[missing]`` by its rank-k reconstruction until it converges.

    ``basis`` (n_cols × k) spans the current estimate of the dominant right singular
    subspace; it is refined by one block power step per iteration.
    """
    n_iter = 0
    scale = float(np.sqrt(np.mean(x[~missing] ** 2))) or 1.0
    for n_iter in range(1, max_iter + 1):
        u = _orthonormal(x @ basis)  # (T, k)
        w = x.T @ u  # (P, k): x ≈ u @ w.T
        basis = _orthonormal(w)
        recon = u @ w.T
        new = recon[missing]
        change = float(np.sqrt(np.mean((new - x[missing]) ** 2))) / scale
        x[missing] = new
        # a new mode starts from a random direction: give it a few steps before judging
        if change < tol and n_iter >= min_iter:
            break
    return basis, n_iter


def _mode_schedule(limit: int) -> list[int]:
    """Numbers of modes tried: every k up to 10, then steps growing by ~15 %."""
    ks: list[int] = []
    k = 1
    while k <= limit:
        ks.append(k)
        k = k + 1 if k < 10 else max(k + 1, int(round(k * 1.15)))
    return ks


def _cross_validation_mask(
    observed: np.ndarray, fraction: float, rng: np.random.Generator
) -> np.ndarray:
    """Observed entries to hold aside, shaped like the gaps (Beckers & Rixen 2003).

    The gaps of randomly chosen other time steps are laid over observed frames, so the
    cross-validation points form cloud-like patches rather than isolated pixels (which
    would be much easier to fill than real gaps). Falls back to random entries when the
    data have no gaps to borrow.
    """
    n_t = observed.shape[0]
    target = int(round(fraction * observed.sum()))
    target = min(max(target, min(30, int(observed.sum()) // 10)), int(observed.sum()) // 2)
    cv = np.zeros_like(observed)
    if target <= 0:
        return cv
    donors = rng.permutation(n_t)
    for t in rng.permutation(n_t):
        if cv.sum() >= target:
            break
        borrowed = observed[t] & ~observed[donors[t]]
        # keep every row at least half observed
        if borrowed.sum() <= 0.5 * observed[t].sum():
            cv[t] |= borrowed
    if cv.sum() < min(target, 30):
        idx = np.flatnonzero(observed.ravel() & ~cv.ravel())
        pick = rng.choice(idx, size=min(target, idx.size), replace=False)
        cv.ravel()[pick] = True
    return cv


def dineof_matrix(
    matrix: np.ndarray,
    *,
    max_modes: int | None = None,
    cv_fraction: float = 0.03,
    patience: int = 2,
    tol: float = 1e-3,
    max_iter: int = 100,
    search_iter: int = 25,
    min_gain: float = 0.005,
    seed: int = 0,
    progress: bool = False,
) -> tuple[np.ndarray, dict[str, object]]:
    """DINEOF on a (time × space) matrix with NaN for missing entries.

    Parameters
    ----------
    matrix : numpy.ndarray
        2-D array, rows = time steps, columns = pixels; every column must have at least one
        finite value.
    max_modes : int, optional
        Largest number of EOF modes tried (default: min(T, P) // 2, at most 100).
    cv_fraction : float
        Fraction of observed entries held aside for cross-validation, in the shape of
        the gaps of other time steps.
    patience : int
        Stop the mode search after this many tried mode counts without improvement
        (counts go 1..10, then grow by ~15 %).
    tol : float
        Convergence threshold on the RMS change of the missing entries, relative to the
        RMS of the observed anomalies.
    max_iter : int
        Largest number of iterations of the final reconstruction.
    search_iter : int
        Largest number of iterations per number of modes during the mode search.
    min_gain : float
        Relative decrease of the cross-validation error that counts as an improvement
        (the state keeps converging between mode counts, so tiny gains are not modes');
        a decrease must also exceed 1e-3 of the RMS anomaly.
    seed : int
        Seed of the cross-validation draw.
    progress : bool
        Show a progress bar over the mode counts tried (its total assumes every count is
        tried: the search usually stops earlier, and the bar then jumps to the end).

    Returns
    -------
    filled : numpy.ndarray
        The matrix with every entry reconstructed (observed entries are their
        reconstruction too; callers keep the observations).
    info : dict
        ``modes`` (chosen k), ``cv_rms`` per k, ``iterations``.
    """
    x = np.array(matrix, dtype=np.float32)
    n_t, n_p = x.shape
    observed = np.isfinite(x)
    if not observed.any(axis=0).all():
        raise ValueError("every column needs at least one observation")
    mean = np.nanmean(x, axis=0)
    x -= mean
    rng = np.random.default_rng(seed)
    cv_mask = _cross_validation_mask(observed, cv_fraction, rng)
    n_cv = int(cv_mask.sum())
    cv_truth = x[cv_mask]
    data_scale = float(np.sqrt(np.mean(x[observed] ** 2))) or 1.0
    missing = ~observed | cv_mask
    x[missing] = 0.0
    limit = max_modes or max(1, min(100, min(n_t, n_p) // 2))
    limit = max(1, min(limit, min(n_t, n_p) - 1 if min(n_t, n_p) > 1 else 1))
    basis = _orthonormal(rng.standard_normal((n_p, 1)).astype(x.dtype))
    best_err, best_k, best_state, best_basis = np.inf, 1, x.copy(), basis
    cv_rms: list[float] = []
    iterations = 0
    since_best = 0
    schedule = list(_mode_schedule(limit))
    bar = tqdm(total=len(schedule) + 1, desc="DINEOF", unit="mode count", disable=not progress)
    for k in schedule:
        bar.update(1)
        if k > basis.shape[1]:
            extra = rng.standard_normal((n_p, k - basis.shape[1])).astype(x.dtype)
            extra -= basis @ (basis.T @ extra)
            basis = _orthonormal(np.hstack([basis, extra]))
        # the state carries over from k to k + 1, so the search needs no full convergence
        basis, n_iter = _iterate(x, missing, basis, tol=tol, max_iter=search_iter)
        iterations += n_iter
        err = float(np.sqrt(np.mean((x[cv_mask] - cv_truth) ** 2))) if n_cv else 0.0
        cv_rms.append(err)
        if not np.isfinite(best_err) or best_err - err > max(
            min_gain * best_err, 1e-3 * data_scale
        ):
            best_err, best_k, best_state, best_basis = err, k, x.copy(), basis.copy()
            since_best = 0
            bar.set_postfix(modes=best_k, cv_rms=f"{best_err:.4g}")
        else:
            since_best += 1
            if since_best >= patience:
                break
        if n_cv == 0:
            break
    # put the cross-validation points back as observations and refine with best_k modes
    x = best_state
    x[cv_mask] = cv_truth
    missing = ~observed
    bar.set_description(f"DINEOF ({best_k} modes, final pass)")
    _, n_iter = _iterate(x, missing, best_basis, tol=tol, max_iter=max_iter)
    iterations += n_iter
    bar.n = bar.total
    bar.close()
    u = _orthonormal(x @ best_basis)
    recon = u @ (x.T @ u).T
    filled = recon.astype(np.float64) + mean
    return filled, {"modes": best_k, "cv_rms": cv_rms, "iterations": iterations}


# dineof passes its options on to dineof_matrix, with the same defaults: set once, there
_MATRIX_DEFAULTS = dineof_matrix.__kwdefaults__


def dineof(
    obs: xr.DataArray,
    *,
    max_modes: int | None = _MATRIX_DEFAULTS["max_modes"],
    cv_fraction: float = _MATRIX_DEFAULTS["cv_fraction"],
    patience: int = _MATRIX_DEFAULTS["patience"],
    tol: float = _MATRIX_DEFAULTS["tol"],
    max_iter: int = _MATRIX_DEFAULTS["max_iter"],
    search_iter: int = _MATRIX_DEFAULTS["search_iter"],
    min_gain: float = _MATRIX_DEFAULTS["min_gain"],
    seed: int = _MATRIX_DEFAULTS["seed"],
    progress: bool = _MATRIX_DEFAULTS["progress"],
) -> xr.DataArray:
    """Fill a field with DINEOF.

    Parameters
    ----------
    obs : xarray.DataArray
        Field ``(time, y, x[, channel])`` with NaN where missing. Channels are stacked
        into the spatial dimension of the matrix so that they share EOFs.
    max_modes, cv_fraction, patience, tol, max_iter, search_iter, min_gain, seed, progress
        See :func:`dineof_matrix`.

    Returns
    -------
    xarray.DataArray
        Prediction for every pixel (NaN on land). The result's ``attrs`` hold
        ``dineof_modes``, the number of EOF modes chosen.
    """
    validate_field(obs, min_time=2)
    tyx, dims = canonical(obs)
    # small matrices: BLAS threads cost more in synchronisation than they gain (50× slower
    # on a loaded 2-core machine); large ones use every core
    threads = 1 if tyx.size < SMALL_MATRIX else None
    values = np.asarray(tyx.values)
    shape = values.shape
    flat = values.reshape(shape[0], -1).astype(np.float64)
    flat[np.isinf(flat)] = np.nan  # infinite values are missing
    land = np.asarray(land_mask(tyx.copy(data=values)).values)  # values already in memory
    if dims.channel is not None:
        land = np.repeat(land[..., None], shape[-1], axis=-1)
    sea = np.isfinite(flat).any(axis=0) & ~land.ravel()
    out = np.full_like(flat, np.nan)
    if not sea.any():  # everything is land: nothing to fill
        result = tyx.copy(data=out.reshape(shape).astype(values.dtype))
        return result.assign_attrs(dineof_modes=0).transpose(*obs.dims)
    with threadpool_limits(limits=threads, user_api="blas"):
        filled_sea, info = dineof_matrix(
            flat[:, sea],
            max_modes=max_modes,
            cv_fraction=cv_fraction,
            patience=patience,
            tol=tol,
            max_iter=max_iter,
            search_iter=search_iter,
            min_gain=min_gain,
            seed=seed,
            progress=progress,
        )
    out[:, sea] = filled_sea
    result = tyx.copy(data=out.reshape(shape).astype(values.dtype))
    result.attrs = {**obs.attrs, "dineof_modes": int(info["modes"])}
    return result.transpose(*obs.dims)
