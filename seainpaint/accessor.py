"""The ``.inpaint`` accessor on xarray DataArrays and Datasets (thin: it only delegates)."""

from __future__ import annotations

from typing import Any

import xarray as xr

from . import field, filling, occlusion
from .errors import FieldError


@xr.register_dataarray_accessor("inpaint")
class InpaintDataArrayAccessor:
    """``da.inpaint``: occlude, inspect and fill a field ``(time, y, x[, channel])``."""

    def __init__(self, da: xr.DataArray) -> None:
        self._da = da

    @property
    def observed(self) -> xr.DataArray:
        """Boolean mask ``(time, y, x)``, ``True`` where observed."""
        return field.observed_mask(self._da)

    @property
    def land(self) -> xr.DataArray:
        """Boolean mask ``(y, x)``, ``True`` = land (see :func:`seainpaint.field.land_mask`)."""
        return field.land_mask(self._da)

    def occlude(self, process: occlusion.OcclusionProcess, seed: int | None = None) -> xr.DataArray:
        """Hide pixels with masks drawn from ``process`` (see :func:`seainpaint.occlude`)."""
        return occlusion.occlude(self._da, process, seed=seed)

    def fill(self, method: Any = "dineof", *, land: Any = None, **options: Any) -> xr.DataArray:
        """Fill missing non-land pixels (see :func:`seainpaint.fill`; ``land``: a mask)."""
        return filling.fill(self._da, method, land=land, **options)


@xr.register_dataset_accessor("inpaint")
class InpaintDatasetAccessor:
    """``ds.inpaint``: the DataArray accessor applied to one variable of a Dataset."""

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    def _var(self, var: str | None) -> xr.DataArray:
        if var is None:
            fields = [
                v
                for v in self._ds.data_vars
                if "time" in self._ds[v].dims and not field.is_land_variable(self._ds[v])
            ]
            if len(fields) != 1:
                raise FieldError(
                    f"name the variable to use: var= one of {list(self._ds.data_vars)}"
                )
            var = fields[0]
        if var not in self._ds.data_vars:
            raise FieldError(
                f"variable {var!r} not in the dataset; it has {list(self._ds.data_vars)}"
            )
        return field.land_from_dataset(self._ds, self._ds[var])

    def observed(self, var: str | None = None) -> xr.DataArray:
        """Observation mask of variable ``var``."""
        return field.observed_mask(self._var(var))

    def land(self, var: str | None = None) -> xr.DataArray:
        """Land mask of variable ``var``."""
        return field.land_mask(self._var(var))

    def occlude(
        self, process: occlusion.OcclusionProcess, seed: int | None = None, var: str | None = None
    ) -> xr.Dataset:
        """Dataset with variable ``var`` occluded."""
        da = self._var(var)
        return self._ds.assign({da.name: occlusion.occlude(da, process, seed=seed)})

    def fill(
        self, method: Any = "dineof", var: str | None = None, *, land: Any = None, **options: Any
    ) -> xr.Dataset:
        """Dataset with variable ``var`` filled (and its ``inpaint_flag``).

        The land mask is ``land`` when given, else a land/sea mask variable of the dataset
        (see :func:`seainpaint.field.land_from_dataset`), else the never-observed pixels.
        """
        da = self._var(var)
        filled = filling.fill(da, method, land=land, **options)
        flag = filled.coords[filling.FLAG_NAME]
        return self._ds.assign({da.name: filled.drop_vars(filling.FLAG_NAME)}).assign_coords(
            {filling.FLAG_NAME: flag}
        )
