"""Test helper: fail when dask computes more often than allowed.

cf_xarray's ``raise_if_dask_computes`` pattern (``cf_xarray/tests/__init__.py``): a
dask scheduler that counts how often it is asked to compute and raises beyond a limit.
"""

from __future__ import annotations

from typing import Any

import dask


class CountingScheduler:
    """A synchronous dask scheduler that counts its computes and raises past a limit."""

    def __init__(self, max_computes: int = 0) -> None:
        self.total_computes = 0
        self.max_computes = max_computes

    def __call__(self, dsk: Any, keys: Any, **kwargs: Any) -> Any:
        self.total_computes += 1
        if self.total_computes > self.max_computes:
            raise RuntimeError(
                f"too many dask computations: {self.total_computes} > {self.max_computes}"
            )
        return dask.get(dsk, keys, **kwargs)


def raise_if_dask_computes(max_computes: int = 0) -> Any:
    """Context manager: raise ``RuntimeError`` if dask computes more than ``max_computes``."""
    return dask.config.set(scheduler=CountingScheduler(max_computes))
