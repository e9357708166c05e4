"""Atomic Zarr writes shared by the data loaders (build under a temporary name, rename)."""

from __future__ import annotations

import os
import shutil
import uuid
import warnings
from pathlib import Path

import xarray as xr

from ..errors import OutputExistsError


def temp_sibling(path: Path, tag: str = "tmp") -> Path:
    """A fresh hidden name next to ``path`` (same folder, so a rename is atomic)."""
    return path.parent / f".{path.name}.{tag}-{uuid.uuid4().hex[:8]}"


def remove(path: Path) -> None:
    """Delete a file or a folder tree if it exists."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


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
    if path.exists():
        if not overwrite:
            raise OutputExistsError(f"{path} exists; pass overwrite=True to replace it")
        old = temp_sibling(path, "old")
        os.replace(path, old)
        os.replace(tmp, path)
        remove(old)
    else:
        os.replace(tmp, path)


def atomic_zarr(ds: xr.Dataset, path: Path, overwrite: bool = False) -> None:
    """Write ``ds`` to the Zarr store ``path`` atomically.

    The store is written under a hidden temporary name in the same folder, then renamed;
    on any failure the temporary store is removed and ``path`` is left as it was.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} exists; pass overwrite=True to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(path)
    try:
        to_zarr(ds, tmp, mode="w")
        replace_into(tmp, path, overwrite)
    finally:
        if tmp.exists():
            remove(tmp)
