"""Register the ``.inpaint`` accessor without importing xarray at ``import seainpaint``.

``import seainpaint`` stays light (``seainpaint --help`` answers at once): the accessor is
registered on xarray's DataArray and Dataset as soon as both seainpaint and xarray are
imported, in either order. What is registered first is a small placeholder; the first use
of ``.inpaint`` imports :mod:`seainpaint.accessor`, which registers the real accessor
classes in its place.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
import warnings
from types import ModuleType
from typing import Any

NAME = "inpaint"


def _real(kind: str) -> Any:
    from xarray.core.extensions import AccessorRegistrationWarning

    with warnings.catch_warnings():
        # seainpaint.accessor replaces the placeholders registered below: expected
        warnings.simplefilter("ignore", AccessorRegistrationWarning)
        from . import accessor
    return getattr(accessor, kind)


def _dataarray_accessor(obj: Any) -> Any:
    """``da.inpaint``: see :class:`seainpaint.accessor.InpaintDataArrayAccessor`."""
    return _real("InpaintDataArrayAccessor")(obj)


def _dataset_accessor(obj: Any) -> Any:
    """``ds.inpaint``: see :class:`seainpaint.accessor.InpaintDatasetAccessor`."""
    return _real("InpaintDatasetAccessor")(obj)


def _register(xr: ModuleType) -> None:
    if "seainpaint.accessor" in sys.modules:  # the real classes are registered already
        return
    for cls, factory in ((xr.DataArray, _dataarray_accessor), (xr.Dataset, _dataset_accessor)):
        if NAME not in cls.__dict__:
            register = (
                xr.register_dataarray_accessor
                if cls is xr.DataArray
                else xr.register_dataset_accessor
            )
            register(NAME)(factory)


class _XarrayImportHook(importlib.abc.MetaPathFinder):
    """Registers the accessor right after xarray's own ``__init__`` has run."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != "xarray":
            return None
        uninstall()
        spec = importlib.util.find_spec(fullname)
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        original = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            original(module)
            _register(module)

        loader.exec_module = exec_module
        return spec


_HOOK = _XarrayImportHook()


def uninstall() -> None:
    """Remove the import hook (after it fired)."""
    while _HOOK in sys.meta_path:
        sys.meta_path.remove(_HOOK)


def install() -> None:
    """Register the accessor now if xarray is imported, else when it is."""
    xr = sys.modules.get("xarray")
    if xr is not None and hasattr(xr, "register_dataarray_accessor"):
        _register(xr)
    elif _HOOK not in sys.meta_path:
        sys.meta_path.insert(0, _HOOK)
