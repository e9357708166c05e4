"""One entry point for every filling method, enforcing the data model.

Whatever fills the gaps — a baseline named by a string or a trained model — the result
keeps every observed value bit-for-bit (per channel), keeps land NaN, has a finite value
at every pixel it flags as filled (checked, not assumed), keeps coordinates and
attributes, and gets a ``history`` line. Enforcement uses xarray/dask operations, so it
stays lazy on dask-backed input: the checks then run when the result is computed.
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import xarray as xr

from .baselines import BASELINES, complete_frames
from .conventions import (
    FLAG_FILLED,
    FLAG_FILLED_NEVER_OBSERVED,
    FLAG_LAND,
    FLAG_MEANINGS,
    FLAG_NAME,
    FLAG_OBSERVED,
    FLAG_VALUES,
    METHOD_ATTR,
    PACKING_KEYS,
    SE_SUFFIX,
    append_history,
)
from .errors import FieldError, MethodError, SeainpaintWarning
from .field import FieldDims, FieldInfo, describe, has_land, prepare_for_fill

if TYPE_CHECKING:  # the ensemble module imports the inference package (torch): on demand
    from .inference.ensemble import NoiseModel

COMPLETION = "biharmonic"
_BAD_OUTPUT, _NOTHING_OBSERVED = 1, 2


@runtime_checkable
class FieldFiller(Protocol):
    """Anything that can fill a field: a trained model implements ``fill_field``.

    A filler may also say, in one call, what :func:`fill` asks of it: ``fill_profile()``
    returning an object with ``label``, ``method``, ``has_uncertainty``, ``land`` and
    ``grid`` (:class:`seainpaint.model.FillProfile`); it is then also handed the field's
    description, ``fill_field(da, info, **options)``. Without it, ``fill`` reads the
    attributes ``label``, ``method``, ``has_uncertainty`` and the method ``land_mask(da)``
    when present.
    """

    def fill_field(self, da: xr.DataArray, **options: Any) -> xr.DataArray:
        """Return ``da`` with every pixel predicted (observed pixels may be changed)."""


@dataclass(frozen=True)
class _Method:
    """How one fill is made: the function, its labels, its options and its land."""

    fill: Any
    label: str  # the history's name of it
    name: str  # the seainpaint_method attribute
    options: dict[str, Any]
    grid_land: tuple[Any, Any] | None = None  # a model's training land and grid
    takes_info: bool = False  # called as fill(da, info, **options)
    noise: NoiseModel | None = None  # how ensemble members vary (members= only)


def _baseline(name: str):
    try:
        return BASELINES[name]
    except KeyError:
        raise MethodError(
            f"unknown filling method {name!r}; choose one of {sorted(BASELINES)} or pass a "
            "trained seainpaint model"
        ) from None


def _refuse_unknown_options(func: Any, options: dict[str, Any], label: str) -> None:
    """Refuse options the method's signature does not take, listing the ones it does."""
    try:
        params = list(inspect.signature(func).parameters.values())[1:]  # after the field
    except (TypeError, ValueError):  # no signature to read: let the method decide
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return
    accepted = [
        p.name
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    ]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise MethodError(
            f"method {label!r} has no option {', '.join(map(repr, unknown))}; its options are "
            f"{', '.join(accepted) or '(none)'}"
        )


def _method(method: str | FieldFiller, options: dict[str, Any], uncertainty: bool,
            members: int | None = None, member_seed: int = 0) -> _Method:
    """The function that fills, its labels and its options (checked against it)."""
    correlation = None
    if isinstance(method, str):
        label = method.lower()
        filler = _baseline(label)
        _refuse_unknown_options(filler, options, label)
        name, has_uncertainty, profile = label, False, None
    elif isinstance(method, FieldFiller):
        filler = method.fill_field
        ask = getattr(method, "fill_profile", None)
        profile = ask() if callable(ask) else None  # a model answers in one call
        if profile is not None:
            label, name = str(profile.label), str(profile.method)
            has_uncertainty = bool(profile.has_uncertainty)
            correlation = profile.error_correlation
        else:
            label = str(getattr(method, "label", type(method).__name__))
            name = str(getattr(method, "method", label))
            # read only when asked for, as a plain filler may not have it
            wanted = uncertainty or members is not None
            has_uncertainty = wanted and bool(getattr(method, "has_uncertainty", False))
            if members is not None:
                correlation = getattr(method, "error_correlation", None)
        _refuse_unknown_options(filler, options, label)
    else:
        raise MethodError(
            f"method must be a baseline name or a trained model, got {type(method).__name__}"
        )
    if uncertainty or members is not None:
        what = "uncertainty=True" if uncertainty else "members="
        if isinstance(method, str) or not has_uncertainty:
            raise MethodError(
                f"{what} needs a trained model with an uncertainty head; {label!r} "
                "gives no standard error"
            )
        options = {**options, "uncertainty": True}
    noise = None
    if members is not None:
        from .inference.ensemble import NoiseModel, check_members

        check_members(members, member_seed)
        if not correlation:
            raise MethodError(
                f"members= needs the model's error correlation, which {label!r} does not "
                "record (it was saved before seainpaint measured it, or its validation had "
                "too few pixels to measure it): retrain it with "
                "seainpaint.train, or fill with uncertainty=True for a standard error"
            )
        noise = NoiseModel.from_config(correlation)
    if profile is not None:
        return _Method(filler, label, name, options, (profile.land, profile.grid), True, noise)
    return _Method(filler, label, name, options, noise=noise)


def flags(obs: xr.DataArray) -> xr.DataArray:
    """Per-pixel flag, dims ``(time, y, x)``.

    0 = observed (every channel), 1 = filled, 2 = land, 3 = filled, a sea pixel never
    observed in the field given (possible only with an explicit land mask: without one,
    never-observed pixels are land).
    """
    return _flags(obs, describe(obs, check="none"))


def _flags(obs: xr.DataArray, info: FieldInfo) -> xr.DataArray:
    """:func:`flags` of a field already described."""
    filled = xr.where(info.never, FLAG_FILLED_NEVER_OBSERVED, FLAG_FILLED)
    flag = xr.where(info.observed, FLAG_OBSERVED, filled)
    flag = xr.where(info.land, FLAG_LAND, flag).astype(np.int8)
    flag = flag.transpose(*[d for d in obs.dims if d != info.dims.channel])
    flag.name = FLAG_NAME
    flag.attrs = {
        "long_name": "inpainting status flag",
        "flag_values": np.array(FLAG_VALUES, dtype=np.int8),
        "flag_meanings": FLAG_MEANINGS,
    }
    return flag


def _verify_block(
    values: np.ndarray, status: np.ndarray, label: str, field: str, where: str = ""
) -> np.ndarray:
    """Raise if a block holds a non-finite filled value, or the field had no observation."""
    if (status == _NOTHING_OBSERVED).any():
        raise FieldError(f"field {field!r} has nothing observed: every value is NaN")
    bad = int((status == _BAD_OUTPUT).sum())
    if bad:
        raise MethodError(
            f"method {label!r} returned {bad} non-finite value(s) (NaN or inf) at pixels it "
            f"fills{where} of field {field!r}; the fill is refused"
        )
    return values


def _verify(out: xr.DataArray, flag: xr.DataArray, never: xr.DataArray, label: str,
            field: str) -> xr.DataArray:
    """Check that every value at a pixel flagged filled is finite (lazily on dask)."""
    filled = (flag == FLAG_FILLED) | (flag == FLAG_FILLED_NEVER_OBSERVED)
    status = (filled & ~np.isfinite(out)).astype(np.int8)
    if out.chunks is None:
        if bool(never.all()):
            raise FieldError(f"field {field!r} has nothing observed: every value is NaN")
        _verify_block(np.asarray(out.values), np.asarray(status.values), label, field)
        return out
    status = xr.where(never.all(), _NOTHING_OBSERVED, status).astype(np.int8)
    status = status.transpose(*out.dims)
    data = out.data.map_blocks(
        _verify_block,
        status.data.rechunk(out.data.chunks),
        label=label,
        field=field,
        where=" in one dask chunk",
        dtype=out.dtype,
        meta=np.empty((0,) * out.ndim, dtype=out.dtype),
    )
    return out.copy(data=data)


def _complete(
    predicted: xr.DataArray, clean: xr.DataArray, dims: FieldDims, land: xr.DataArray
) -> tuple[xr.DataArray, str]:
    """Complete never-observed sea values the method left empty; history note."""
    finite = np.isfinite(clean)
    target = ~finite.any(dims.time) & ~land  # per (y, x[, channel])
    if clean.chunks is None:
        holes = target & ~np.isfinite(predicted)
        n = int(holes.any(dims.time).sum())
        if not n:
            return predicted, ""
        note = f"; {n} never-observed sea value(s) completed by {COMPLETION} spatial fill"
    else:
        note = (
            f"; never-observed sea pixels the method left empty (if any) completed by "
            f"{COMPLETION} spatial fill"
        )
    return complete_frames(predicted, target), note


def fill(
    obs: xr.DataArray,
    method: str | FieldFiller = "dineof",
    *,
    land: xr.DataArray | np.ndarray | None = None,
    uncertainty: bool = False,
    members: int | None = None,
    member_seed: int = 0,
    **options: Any,
) -> xr.DataArray:
    """Fill the missing, non-land pixels of a field.

    Parameters
    ----------
    obs : xarray.DataArray
        Observed field ``(time, y, x[, channel])`` with NaN where missing. Time must be
        unique; unsorted time is sorted (with a :class:`~seainpaint.errors.SeainpaintWarning`)
        and the result is in time order. **±inf are treated as missing** (filled, flag 1)
        with a :class:`~seainpaint.errors.SeainpaintWarning` that counts them (on
        dask-backed input each chunk warns when it is computed).
    method : str or model
        A baseline name (``"dineof"``, ``"climatology"``, ``"linear"``, ...) or a trained
        model (anything with a ``fill_field`` method, e.g. :class:`seainpaint.InpaintModel`).
    land : xarray.DataArray or numpy.ndarray, optional
        Explicit land mask, boolean, ``True`` = land: a DataArray over the field's two
        spatial dims or a ``(Y, X)`` array (see :func:`seainpaint.field.set_land`). Default:
        the field's ``land`` coordinate if it has one (e.g. from
        :func:`seainpaint.open_field`), else the pixels never observed in the field. With an
        explicit mask, sea pixels never observed in the field are filled (flag 3): by the
        method when it can (spatial baselines, models), otherwise from the method's own
        output around them by biharmonic inpainting, frame by frame (the history says so).
        A trained model filling a field on its training grid uses the training land mask
        (so a short field's persistent clouds are filled, not taken for land).
    uncertainty : bool
        Also return the standard error of every filled pixel (trained models with an
        uncertainty head, the default of :func:`seainpaint.train`), as the coordinate
        ``<name>_standard_error`` (NaN where observed or land), which
        :func:`seainpaint.to_netcdf` writes as a variable linked through
        ``ancillary_variables``.
    members : int, optional
        Draw an ensemble of this many fills (trained models with an uncertainty head):
        member ``k`` is the fill plus ``σ z_k`` at the pixels the model filled, where
        ``z_k`` is Gaussian noise with unit variance correlated in space, time and across
        channels as the model's own errors were on its validation windows
        (:mod:`seainpaint.inference.ensemble`). The result then has a first dimension
        ``member`` (a coordinate with ``standard_name = "realization"``) that
        :func:`seainpaint.to_netcdf` writes; observed values and land are the same in
        every member. Members are as rough as the truth where the fill is smooth, and
        their spread is σ; their mean converges to the fill.
    member_seed : int
        Seed of the ensemble: the same seed gives the same members, whatever the chunking.
    **options
        Passed to the method; an option the method does not take raises
        :class:`~seainpaint.errors.MethodError` listing the ones it does.

    Returns
    -------
    xarray.DataArray
        The filled field: every finite input value bit-for-bit unchanged (per channel),
        land NaN, every other value finite, same dims, coordinates and attributes,
        ``history`` appended, and a non-index coordinate ``inpaint_flag`` (0 observed,
        1 filled, 2 land, 3 filled but never observed in the field) that
        :func:`seainpaint.to_netcdf` writes as a CF flag variable.

    Raises
    ------
    FieldError
        The field breaks the data model (dims, dtype, duplicated time, nothing observed;
        on dask input "nothing observed" is raised when the result is computed).
    MaskError
        A land mask of the wrong shape, dims or dtype.
    MethodError
        Unknown method or option, or the method returned a non-finite value at a pixel
        it fills (on dask input: when the result is computed).
    """
    how = _method(method, options, uncertainty, members, member_seed)
    options = how.options
    if (land is None and how.grid_land is None and hasattr(method, "land_mask")
            and not has_land(obs)):
        land = method.land_mask(obs)  # a filler on its training grid: its training land
    # one call checks and describes the field: land attached, time sorted, ±inf -> NaN
    clean, info = prepare_for_fill(obs, land=land, grid_land=how.grid_land)
    # the result keeps the prepared field's dims, coordinates, attributes and encoding
    obs = clean
    # the method's own non-index coordinates (maybe dask-backed copies) are not used
    result = how.fill(clean, info, **options) if how.takes_info else how.fill(clean, **options)
    sigma = None
    if isinstance(result, xr.Dataset):
        result, sigma = result["prediction"], result["standard_error"]
    predicted = result.transpose(*obs.dims).reset_coords(drop=True)
    land2d = info.land
    note = ""
    if info.explicit_land:
        _warn_observed_land(clean, land2d, info.dims)
        predicted, note = _complete(predicted, clean, info.dims, land2d)
    # every finite input value comes straight from the input: bit-for-bit, per channel
    out = xr.where(np.isfinite(clean), clean, predicted, keep_attrs=False)
    out = out.where(~land2d)
    out = out.astype(obs.dtype).transpose(*obs.dims)
    flag = _flags(clean, info)
    label = how.label
    out = _verify(out, flag, info.never, label, str(obs.name))
    # arithmetic drops coordinate attributes: put the caller's coordinates back
    out = out.assign_coords({name: obs.coords[name] for name in obs.coords})
    out.attrs = dict(obs.attrs)
    out.name = obs.name
    # keep the input's packing (int16 + scale_factor...) for to_netcdf to reuse
    out.encoding = {k: v for k, v in obs.encoding.items() if k in PACKING_KEYS}
    opts = ", ".join(f"{k}={v!r}" for k, v in options.items())
    out.attrs["history"] = append_history(
        obs.attrs.get("history"), f"filled with {label}({opts}){note}"
    )
    # what filled it, by name (a model's method: "GAN" only for adversarial training)
    out.attrs[METHOD_ATTR] = how.name
    # assign the bare variable: its own coords (without attributes) must not replace ours
    out = out.assign_coords({FLAG_NAME: flag.variable})
    if sigma is not None:
        se = _standard_error(sigma, out, flag)
        if how.noise is not None:
            out = _ensemble(out, xr.DataArray(se), how.noise, int(members or 0), member_seed,
                            info.dims)
        if uncertainty:
            out = out.assign_coords({f"{obs.name}{SE_SUFFIX}": se})
    return out


def _ensemble(out: xr.DataArray, se: xr.DataArray, noise: NoiseModel, members: int,
              seed: int, dims: FieldDims) -> xr.DataArray:
    """``members`` draws around the fill ``out`` (:func:`~seainpaint.inference.draw_members`)."""
    from .inference.ensemble import draw_members

    drawn = draw_members(out, se, noise, int(members), dims=dims, seed=int(seed))
    drawn.attrs["history"] = append_history(
        out.attrs.get("history"),
        f"{members} ensemble members drawn around the fill, seed {seed}: fill + standard "
        f"error x Gaussian noise with the model's {noise.describe()}",
    )
    return drawn


def _standard_error(sigma: xr.DataArray, out: xr.DataArray, flag: xr.DataArray) -> xr.Variable:
    """The model's standard error where it filled (flags 1 and 3), NaN elsewhere."""
    filled = (flag == FLAG_FILLED) | (flag == FLAG_FILLED_NEVER_OBSERVED)
    se = sigma.transpose(*out.dims).reset_coords(drop=True).where(filled)
    se = se.astype(out.dtype)
    se.attrs = {
        "long_name": f"standard error of the filled {out.name or 'field'}",
        "comment": "predicted by the model's uncertainty head, calibrated on re-hidden "
        "observations; NaN where observed or land",
    }
    if "units" in out.attrs:
        se.attrs["units"] = out.attrs["units"]
    return se.variable


def _warn_observed_land(clean: xr.DataArray, land2d: xr.DataArray, dims: FieldDims) -> None:
    """Warn (in-memory fields) when the explicit land mask hides observed values."""
    if clean.chunks is not None:
        return
    finite = np.isfinite(clean)
    if dims.channel:
        finite = finite.any(dims.channel)
    n = int((finite & land2d).sum())
    if n:
        warnings.warn(
            f"{n} observed value(s) of field {clean.name!r} lie on land according to the land "
            "mask: they are set to NaN like all land (check that the mask is on the field's "
            "grid and not flipped)",
            SeainpaintWarning,
            stacklevel=3,
        )


__all__ = ["FieldFiller", "fill", "flags"]  # the flag constants live in conventions.py
