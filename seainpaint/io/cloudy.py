"""``seainpaint occlude``: hide a complete field under clouds and write the cloudy store.

The cloudy store is what ``seainpaint train`` and ``seainpaint fill`` read next: a Zarr
store holding the field with NaN under the clouds and, in its ``seainpaint_occlusion``
attribute, the cloud process (rebuildable, because its LWP is a store on disk: the one
given, or the synthetic LWP written next to the output).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import xarray as xr

from .. import synthetic
from ..errors import OutputExistsError, SeainpaintError
from ..occlusion import Cloud, occlude
from ._zarr import atomic_zarr
from .pycles import write_lwp_zarr
from .stores import open_field

#: LWP threshold (g m-2) used when neither a threshold nor a cover is given (the paper's).
DEFAULT_THRESHOLD = 70.0


@dataclass
class OccludeResult:
    """What :func:`occlude_store` wrote."""

    store: Path
    lwp_store: Path
    variable: str
    sizes: dict[str, int]
    hidden: float
    threshold: float


def synthetic_lwp_path(output: Path) -> Path:
    """Where the synthetic LWP of ``output`` is written: ``<stem>_lwp.zarr`` next to it."""
    return output.with_name(f"{output.stem}_lwp.zarr")


def occlude_store(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    variable: str | None = None,
    lwp: str | os.PathLike[str] | None = None,
    threshold: float | None = None,
    cover: float | None = None,
    seed: int = 0,
    overwrite: bool = False,
) -> OccludeResult:
    """Hide the field of ``source`` under clouds and write it to the Zarr store ``output``.

    Parameters
    ----------
    source : path
        NetCDF file or Zarr store holding the complete field (e.g. from ``fetch-sst``).
    output : path
        Zarr store to write (``.nc`` is refused: NetCDF products do not keep the cloud
        process that ``seainpaint train`` rebuilds).
    variable : str, optional
        Variable of ``source`` (by default its only field).
    lwp : path, optional
        LWP store from ``seainpaint fetch-lwp`` (or any store holding ``lwp`` in g m-2).
        By default synthetic LWP (:func:`seainpaint.synthetic.lwp`, seeded by ``seed``) is
        written to ``<output stem>_lwp.zarr`` and used.
    threshold, cover : float, optional
        Cloudy where LWP > ``threshold`` (g m-2), or the LWP quantile giving a mean cloud
        cover ``cover`` in ]0, 1[. Default: threshold 70 g m-2.
    seed : int
        Seed of the cloud draw (and of the synthetic LWP).
    overwrite : bool
        Replace ``output`` (and the synthetic LWP store) if they exist.

    Returns
    -------
    OccludeResult
    """
    out = Path(output).expanduser()
    if out.suffix == ".nc":
        raise SeainpaintError(
            f"{out}: write the cloudy field as a Zarr store (e.g. cloudy.zarr); it keeps the "
            "cloud process that `seainpaint train` rebuilds"
        )
    lwp_store = Path(lwp).expanduser() if lwp is not None else synthetic_lwp_path(out)
    targets = [out] if lwp is not None else [out, lwp_store]
    for path in targets:
        if path.exists() and not overwrite:
            raise OutputExistsError(f"{path} exists; pass --overwrite to replace it")
    if threshold is not None and cover is not None:
        raise SeainpaintError("give either a threshold (g m-2) or a cloud cover, not both")
    if threshold is None and cover is None:
        threshold = DEFAULT_THRESHOLD
    truth = open_field(source, variable)
    if lwp is None:
        n_lwp = min(max(truth.sizes["time"], 24), 240)
        write_lwp_zarr(synthetic.lwp(n_lwp, 64, seed=seed + 1), lwp_store, overwrite=overwrite)
    clouds = Cloud(lwp_store, threshold=threshold, cover=cover)
    cloudy = occlude(truth, clouds, seed=seed)
    ds = cloudy.to_dataset()
    for name in ds.variables:
        ds[name].encoding = {}
    atomic_zarr(ds, out, overwrite)
    return OccludeResult(
        store=out,
        lwp_store=lwp_store,
        variable=str(cloudy.name),
        sizes=dict(cloudy.sizes),
        hidden=_hidden_fraction(truth, cloudy),
        threshold=clouds.threshold,
    )


def _hidden_fraction(truth: xr.DataArray, cloudy: xr.DataArray) -> float:
    """Fraction of the pixels valid in ``truth`` that ``cloudy`` hides."""
    valid = truth.notnull()
    n_valid = int(valid.sum())
    if n_valid == 0:
        return 0.0
    return float((valid & cloudy.isnull()).sum()) / n_valid
