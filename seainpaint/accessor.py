"""The ``.inpaint`` accessor on xarray DataArrays and Datasets (thin: it only delegates).

Both accessors share one base (as cf_xarray's do): each finds its field
(:meth:`_InpaintAccessor._field`: the DataArray itself, or one variable of the Dataset
with the dataset's land/sea mask attached) and hands it to the modules that do the work.
A DataArray's masks are properties (``da.inpaint.land``); a Dataset's take the variable
(``ds.inpaint.land("thetao")``).
"""

from __future__ import annotations

from typing import Any

import xarray as xr

from . import field, filling, occlusion
from .conventions import FLAG_NAME
from .errors import FieldError


class _InpaintAccessor:
    """What the DataArray and Dataset accessors share: their object and its field."""

    def __init__(self, obj: xr.DataArray | xr.Dataset) -> None:
        self._obj = obj

    def _field(self, var: str | None = None) -> xr.DataArray:
        raise NotImplementedError

    def _observed(self, var: str | None = None) -> xr.DataArray:
        return field.observed_mask(self._field(var))

    def _land(self, var: str | None = None) -> xr.DataArray:
        return field.land_mask(self._field(var))

    def _occluded(self, process: occlusion.OcclusionProcess, seed: int | None,
                  var: str | None = None) -> xr.DataArray:
        return occlusion.occlude(self._field(var), process, seed=seed)

    def _filled(self, method: Any, var: str | None, land: Any,
                options: dict[str, Any]) -> xr.DataArray:
        return filling.fill(self._field(var), method, land=land, **options)


@xr.register_dataarray_accessor("inpaint")
class InpaintDataArrayAccessor(_InpaintAccessor):
    """``da.inpaint``: occlude, inspect and fill a field ``(time, y, x[, channel])``."""

    def _field(self, var: str | None = None) -> xr.DataArray:
        return self._obj

    @property
    def observed(self) -> xr.DataArray:
        """Boolean mask ``(time, y, x)``, ``True`` where observed."""
        return self._observed()

    @property
    def land(self) -> xr.DataArray:
        """Boolean mask ``(y, x)``, ``True`` = land (see :func:`seainpaint.field.land_mask`)."""
        return self._land()

    def occlude(self, process: occlusion.OcclusionProcess, seed: int | None = None) -> xr.DataArray:
        """Hide pixels with masks drawn from ``process`` (see :func:`seainpaint.occlude`)."""
        return self._occluded(process, seed)

    def fill(self, method: Any = "dineof", *, land: Any = None, **options: Any) -> xr.DataArray:
        """Fill missing non-land pixels (see :func:`seainpaint.fill`; ``land``: a mask)."""
        return self._filled(method, None, land, options)


@xr.register_dataset_accessor("inpaint")
class InpaintDatasetAccessor(_InpaintAccessor):
    """``ds.inpaint``: the DataArray accessor applied to one variable of a Dataset."""

    def _field(self, var: str | None = None) -> xr.DataArray:
        ds = self._obj
        if var is None:
            fields = [
                v for v in ds.data_vars
                if "time" in ds[v].dims and not field.is_land_variable(ds[v])
            ]
            if len(fields) != 1:
                raise FieldError(f"name the variable to use: var= one of {list(ds.data_vars)}")
            var = fields[0]
        if var not in ds.data_vars:
            raise FieldError(f"variable {var!r} not in the dataset; it has {list(ds.data_vars)}")
        return field.land_from_dataset(ds, ds[var])

    def observed(self, var: str | None = None) -> xr.DataArray:
        """Observation mask of variable ``var``."""
        return self._observed(var)

    def land(self, var: str | None = None) -> xr.DataArray:
        """Land mask of variable ``var``."""
        return self._land(var)

    def occlude(
        self, process: occlusion.OcclusionProcess, seed: int | None = None, var: str | None = None
    ) -> xr.Dataset:
        """Dataset with variable ``var`` occluded."""
        occluded = self._occluded(process, seed, var)
        return self._obj.assign({occluded.name: occluded})

    def fill(
        self, method: Any = "dineof", var: str | None = None, *, land: Any = None, **options: Any
    ) -> xr.Dataset:
        """Dataset with variable ``var`` filled (and its ``inpaint_flag``).

        The land mask is ``land`` when given, else a land/sea mask variable of the dataset
        (see :func:`seainpaint.field.land_from_dataset`), else the never-observed pixels.
        """
        filled = self._filled(method, var, land, options)
        flag = filled.coords[FLAG_NAME]
        return self._obj.assign({filled.name: filled.drop_vars(FLAG_NAME)}).assign_coords(
            {FLAG_NAME: flag}
        )
