"""Atomic Zarr writes shared by the data loaders (build under a temporary name, rename).

The temporary names, umask handling and stale-temporary cleaning are those of
:mod:`seainpaint.io.atomic`; this module adds what is Zarr-specific.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import xarray as xr

from .atomic import atomic_dir, clean_stale, publish, remove, temp_path

__all__ = ["atomic_zarr", "remove", "replace_into", "temp_sibling", "to_zarr"]


def temp_sibling(path: Path, tag: str = "tmp") -> Path:
    """A fresh hidden name next to ``path`` (same folder, so a rename is atomic).

    Stale temporaries of ``path`` left by dead processes are removed first; the name
    carries this process's id (see :func:`seainpaint.io.atomic.temp_path`) and ends with
    ``path``'s suffix.
    """
    clean_stale(path)
    return temp_path(path, "old" if tag == "old" else "tmp")


def to_zarr(ds: xr.Dataset, store: Path, **kwargs) -> None:
    """``ds.to_zarr`` with consolidated metadata (quiet about Zarr v3 consolidation).

    Fixed-width string variables are stored as variable-length strings, which the Zarr v3
    format specifies (fixed-width unicode has no v3 specification yet).
    """
    for name, var in ds.variables.items():
        if var.dtype.kind == "U":
            ds = (
                ds.assign_coords({name: var.astype(object)})
                if name in ds.coords
                else (ds.assign({name: var.astype(object)}))
            )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Cc]onsolidated metadata.*")
        ds.to_zarr(store, consolidated=True, **kwargs)


def replace_into(tmp: Path, path: Path, overwrite: bool) -> None:
    """Move the finished store ``tmp`` to ``path``, replacing ``path`` only if allowed."""
    publish(tmp, path, overwrite=overwrite)


def atomic_zarr(ds: xr.Dataset, path: str | os.PathLike[str], overwrite: bool = False) -> None:
    """Write ``ds`` to the Zarr store ``path`` atomically.

    The store is written under a hidden temporary name in the same folder, then renamed;
    on any failure the temporary store is removed and ``path`` is left as it was.

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``overwrite`` is false, or ``path`` is a file.
    """
    with atomic_dir(path, overwrite=overwrite) as tmp:
        to_zarr(ds, tmp, mode="w")
