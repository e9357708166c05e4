"""A trained inpainting model: generator weights, configuration and normalisation.

:class:`InpaintModel` is what :func:`seainpaint.train` returns and what
``da.inpaint.fill(model)`` / :func:`seainpaint.fill` use. On disk a model is a directory
holding ``weights.safetensors`` (the generator only) and ``config.json`` (architecture,
normalisation, occlusion process, a summary of the training data, package versions).

The model owns that format in one place: :meth:`InpaintModel.from_training` writes the
configuration a training run ends with, :meth:`InpaintModel._check_config` checks it,
:meth:`InpaintModel.save` and :meth:`InpaintModel.load` store and read it
(``FORMAT_VERSION``).
"""

from __future__ import annotations

import copy
import functools
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import xarray as xr
from safetensors.torch import load_file, save_file

from .errors import ModelError, ModelMismatchError, OutputExistsError, SeainpaintError
from .field import FieldInfo, check_float_dtype, describe, field_dims, land_on_grid
from .inference import FILL_DEFAULTS, GeneratorPredictor, affine, predict_dataarray
from .io.atomic import atomic_dir, follow_umask
from .nn import build_generator
from .units import same_units

if TYPE_CHECKING:
    from .occlusion import OcclusionProcess

WEIGHTS_FILE = "weights.safetensors"
CONFIG_FILE = "config.json"
FORMAT_VERSION = 2
META_PREFIX = "meta."  # non-network tensors stored in the weights file (land, grid)
LAPLACE_STD = 2.0**0.5  # standard deviation of a Laplace distribution of unit scale


def package_versions() -> dict[str, str]:
    """Versions of the packages a model depends on (recorded in its config)."""
    from . import __version__  # the package root: imported on use, it loads lazily

    return {
        "seainpaint": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "xarray": xr.__version__,
    }


def data_summary(da: xr.DataArray, info: FieldInfo | None = None) -> dict[str, Any]:
    """Summary of a training field: variable, units, grid shape and time range.

    Parameters
    ----------
    da : xarray.DataArray
        The training field.
    info : FieldInfo, optional
        Its description (:func:`seainpaint.field.describe`), when the caller has it.
    """
    info = describe(da, check="none") if info is None else info
    dims = info.dims
    summary: dict[str, Any] = {
        "variable": None if da.name is None else str(da.name),
        "units": da.attrs.get("units"),
        "standard_name": da.attrs.get("standard_name"),
        "dims": list(info.canonical),
        "grid_shape": [info.shape[1], info.shape[2]],
        "n_time": info.shape[0],
        "channels": info.channels,
    }
    if dims.time in da.coords and da.sizes[dims.time] > 0:
        times = da[dims.time].values
        summary["time_range"] = [str(times[0]), str(times[-1])]
    else:
        summary["time_range"] = None
    return summary


def method_name(config: dict[str, Any]) -> str:
    """The name of the method a model configuration records, by what trained it.

    "GAN" only for a generator trained with an adversarial term: ``"GAN (paper loss)"``
    (the paper's adversarial loss alone), ``"GAN (hybrid loss)"`` (self-supervised terms
    plus the adversarial one), ``"GAN (supervised, paired|unpaired)"`` (the paper's
    supervised variants); ``"learned (self-supervised)"`` for the default (re-hidden
    observations, L1 + likelihood, no discriminator).
    """
    training = config.get("training") or {}
    if training.get("supervised"):
        return f"GAN (supervised, {training['supervised']})"
    if float(training.get("adv_weight") or 0.0) > 0:
        recon = float(training.get("recon_weight") or 0.0)
        return "GAN (hybrid loss)" if recon > 0 else "GAN (paper loss)"
    return "learned (self-supervised)"


@dataclass(frozen=True)
class FillProfile:
    """What :func:`seainpaint.fill` needs to know about a model, in one answer
    (:meth:`InpaintModel.fill_profile`).

    Attributes
    ----------
    label : str
        The method and the generator (the ``history`` of filled fields).
    method : str
        What trained it (the ``seainpaint_method`` attribute of filled fields).
    has_uncertainty : bool
        Whether it predicts a standard error.
    land : numpy.ndarray or None
        Boolean ``(Y, X)`` land mask of the training field.
    grid : mapping of str to numpy.ndarray
        The training field's spatial coordinates (a field on this grid is filled with
        ``land``).
    error_correlation : mapping or None
        How its normalised errors correlate (for ensembles), when recorded.
    """

    label: str
    method: str
    has_uncertainty: bool
    land: np.ndarray | None
    grid: Mapping[str, np.ndarray]
    error_correlation: Mapping[str, Any] | None = None


class InpaintModel:
    """A trained generator with everything needed to fill a field.

    Parameters
    ----------
    generator : torch.nn.Module
        The network φ: ``(y (B,C,T,H,W), m (B,1,T,H,W)[, context]) -> φ (B,C,T,H,W)`` in
        normalised units.
    config : dict
        JSON-serialisable configuration with keys ``generator`` (the config given to
        :func:`seainpaint.nn.build_generator`), ``window`` (frames per fill window),
        ``fill_value``, ``normalization`` (``mean``, ``std``, ``scale`` lists per
        channel), ``time_step`` (hours), ``uncertainty_scale`` (calibration of the
        predicted error scale), ``error_correlation`` (how its normalised validation
        errors correlate in space, time and across channels; for ensembles), ``process``
        (the measurement process trained with), ``data`` (see :func:`data_summary`),
        ``training`` (the run's options and record)
        and ``versions``; :meth:`from_training` writes it.
    land : numpy.ndarray, optional
        Boolean ``(Y, X)`` land mask of the training field.
    grid : dict, optional
        The training field's spatial coordinates (name -> values): a field on the same
        grid is filled with the training land mask, so sea pixels that happen to be
        cloudy during a whole short field are filled (flag 3), not taken for land.

    Attributes
    ----------
    method : str
        What trained it (``"learned (self-supervised)"``, ``"GAN (paper loss)"``, ...).
    label : str
        The method and the generator, used in the ``history`` of filled fields.
    """

    def __init__(self, generator: Any, config: dict[str, Any], *,
                 land: np.ndarray | None = None,
                 grid: dict[str, np.ndarray] | None = None) -> None:
        self.config = self._check_config(config, "model")
        self.generator = generator
        self.generator.eval()
        self.land = None if land is None else np.asarray(land, dtype=bool)
        self.grid = {k: np.asarray(v) for k, v in (grid or {}).items()}

    @property
    def method(self) -> str:
        """What trained the model, for tables and products (:func:`method_name`)."""
        return method_name(self.config)

    @property
    def label(self) -> str:
        """The method with its generator, e.g. ``"learned (self-supervised), fast"``."""
        gen = self.config["generator"]
        variant = gen.get("variant", "spatiotemporal")
        return f"{self.method}, {gen.get('arch', '?')}" + (
            f" {variant}" if variant != "spatiotemporal" else "")

    # ------------------------------------------------------------------ properties
    @property
    def window(self) -> int:
        """Number of frames per fill window."""
        return int(self.config["window"])

    @property
    def fill_value(self) -> float:
        """The constant c written into occluded pixels of the generator's input."""
        return float(self.config["fill_value"])

    @property
    def channels(self) -> int:
        """Number of channels of the field."""
        return int(self.config["generator"].get("channels", 1))

    @property
    def mean(self) -> np.ndarray:
        """Per-channel mean of the observed training pixels."""
        return np.asarray(self.config["normalization"]["mean"], dtype=np.float64)

    @property
    def std(self) -> np.ndarray:
        """Per-channel standard deviation of the observed training pixels."""
        return np.asarray(self.config["normalization"]["std"], dtype=np.float64)

    @property
    def scale(self) -> np.ndarray:
        """Per-channel divisor mapping physical units to the network's."""
        return np.asarray(self.config["normalization"]["scale"], dtype=np.float64)

    @property
    def has_uncertainty(self) -> bool:
        """Whether the model predicts a standard error for every filled pixel."""
        return bool(self.config["generator"].get("uncertainty")) and (
            self.config.get("uncertainty_scale") is not None
        )

    @property
    def error_correlation(self) -> dict[str, Any] | None:
        """How the normalised errors correlate (``space``/``time`` ρ by lag, ``channel``),
        measured on the validation windows at the end of training; None when not recorded
        (models without an uncertainty head, or saved before seainpaint recorded it)."""
        if not self.has_uncertainty:
            return None
        return self.config.get("error_correlation")

    def normalize(self, values: np.ndarray) -> np.ndarray:
        """Physical units -> network units (float32), on arrays ending with the channel axis."""
        return affine(values, mean=self.mean, scale=self.scale)

    def denormalize(self, values: np.ndarray) -> np.ndarray:
        """Network units -> physical units (float32), on arrays ending with the channel axis."""
        return affine(values, mean=self.mean, scale=self.scale, inverse=True)

    def __repr__(self) -> str:
        data = self.config.get("data", {})
        return (
            f"{self.label} for {data.get('variable')!r} [{data.get('units')}], "
            f"window={self.window}"
        )

    def fill_profile(self) -> FillProfile:
        """Everything :func:`seainpaint.fill` asks a model before filling, at once."""
        return FillProfile(label=self.label, method=self.method,
                           has_uncertainty=self.has_uncertainty, land=self.land,
                           grid=self.grid, error_correlation=self.error_correlation)

    # ------------------------------------------------------------------ checks
    def check_field(self, da: xr.DataArray, info: FieldInfo | None = None) -> None:
        """Refuse a field this model was not trained for.

        Parameters
        ----------
        da : xarray.DataArray
            The field.
        info : FieldInfo, optional
            Its description, when the caller has it.

        Raises
        ------
        ModelError
            If the variable name, the units, the standard name or the number of channels
            differ from the training data.
        """
        if info is None:
            dims = field_dims(da)
            channels = int(da.sizes[dims.channel]) if dims.channel else 1
        else:
            channels = info.channels
        if channels != self.channels:
            raise ModelError(
                f"the model was trained on {self.channels} channel(s); the field has {channels}"
            )
        data = self.config.get("data") or {}
        trained_var = data.get("variable")
        if trained_var is not None and da.name is not None and str(da.name) != trained_var:
            raise ModelMismatchError(
                f"the model was trained on variable {trained_var!r}, not {str(da.name)!r}"
            )
        trained_units = data.get("units")
        units = da.attrs.get("units")
        if trained_units is not None and not same_units(units, trained_units):
            raise ModelMismatchError(
                f"the model was trained on data in {trained_units!r}; the field's units are "
                f"{units!r}", remedy="convert it"
            )
        trained_sn = data.get("standard_name")
        sn = da.attrs.get("standard_name")
        if trained_sn and sn and trained_sn != sn:
            raise ModelMismatchError(
                f"the model was trained on standard_name {trained_sn!r}, not {sn!r}"
            )

    def land_mask(self, da: xr.DataArray) -> xr.DataArray | None:
        """The training land mask when ``da`` lies on the training grid, else None."""
        if self.land is None or not self.grid:
            return None
        return land_on_grid(da, field_dims(da), self.land, self.grid)

    # ------------------------------------------------------------------ inference
    def predictor(self) -> Any:
        """A picklable callable ``(y, m[, context]) -> φ`` running the generator.

        Spectral normalisation is folded into the weights of a copy
        (:class:`seainpaint.inference.GeneratorPredictor`), so it can travel to
        ``dask.distributed`` workers.
        """
        return GeneratorPredictor(self.generator, step=float(self.config.get("time_step", 1.0)))

    def fill_field(
        self,
        da: xr.DataArray,
        info: FieldInfo | None = None,
        /,
        *,
        check: bool = True,
        device: Any = "auto",
        uncertainty: bool = False,
        **options: Any,
    ) -> xr.DataArray | xr.Dataset:
        """Predict every pixel of ``da`` (the method :func:`seainpaint.fill` calls).

        Parameters
        ----------
        da : xarray.DataArray
            Observed field ``(time, y, x[, channel])``, NaN = missing; lazy on dask input.
        info : FieldInfo, optional
            Its description (positional only), when the caller has checked and described
            it (:func:`seainpaint.fill` does); otherwise its dims and dtype are checked
            here.
        check : bool
            Refuse data whose variable name or units differ from the training data.
        device : str or torch.device
            ``"auto"`` (CUDA when present, else CPU), ``"cpu"``, ``"cuda"``, ...
        uncertainty : bool
            Also predict the standard error of every pixel (models trained with the
            uncertainty head, the default).
        **options
            Passed to :func:`seainpaint.inference.predict_dataarray` (``overlap``,
            ``tile``, ``halo``, ``batch_size``, ``window``, ``threads``, ``progress``).

        Returns
        -------
        xarray.DataArray, or xarray.Dataset with ``prediction`` and ``standard_error``
            The prediction for every pixel (observed pixels are put back bit-for-bit and
            land set to NaN by :func:`seainpaint.fill`).
        """
        if info is None:  # not checked by seainpaint.fill: the dims and the dtype here
            field_dims(da)
            check_float_dtype(da)
        if check:
            self.check_field(da, info)
        if uncertainty and not self.has_uncertainty:
            raise ModelError(
                "this model has no uncertainty head (trained with loss='paper' or "
                "uncertainty=False): fill without uncertainty=True"
            )
        window = int(options.setdefault("window", self.window))
        options.setdefault("overlap", min(FILL_DEFAULTS.overlap, window // 3))
        scale_out = None
        if uncertainty:
            factor = LAPLACE_STD * float(self.config["uncertainty_scale"])
            scale_out = functools.partial(affine, mean=np.zeros_like(self.scale),
                                          scale=factor * self.scale, inverse=True)
        result = predict_dataarray(
            self.predictor(),
            da,
            normalize=functools.partial(affine, mean=self.mean, scale=self.scale),
            denormalize=functools.partial(affine, mean=self.mean, scale=self.scale,
                                          inverse=True),
            fill_value=self.fill_value,
            scale_out=scale_out,
            device=device,
            info=info,
            **options,
        )
        if not uncertainty:
            return result
        prediction, sigma = result
        return xr.Dataset({"prediction": prediction, "standard_error": sigma})

    # ------------------------------------------------------------------ configuration
    @classmethod
    def from_training(
        cls,
        generator: torch.nn.Module,
        field: xr.DataArray,
        *,
        info: FieldInfo | None = None,
        generator_config: dict[str, Any],
        train_config: dict[str, Any],
        normalization: dict[str, list[float]],
        process: OcclusionProcess,
        time_step: float,
        land: np.ndarray,
        uncertainty_scale: float | None,
        steps: int,
        error_correlation: dict[str, Any] | None = None,
        best_step: int,
        best_val_mae: float,
        history: Sequence[dict[str, Any]],
        device: str,
        threads: int | None,
        stopped_by: str | None = None,
        wall_seconds: float | None = None,
        validation_frames: tuple[int, int] | None = None,
        held_out: bool | None = None,
    ) -> InpaintModel:
        """The model a training run ends with: its generator and its whole record.

        This is where a model's configuration is written (the keys of ``config.json``,
        see the class docstring); :meth:`_check_config` checks it, :meth:`save` and
        :meth:`load` store and read it.

        Parameters
        ----------
        generator : torch.nn.Module
            The trained generator; the model holds a copy of it, on the CPU, in eval mode.
        field : xarray.DataArray
            The training field (recorded as a :func:`data_summary` and as its grid).
        info : FieldInfo, optional
            Its description, when the caller has it.
        generator_config : dict
            The generator's complete configuration (:func:`seainpaint.nn.generator_config`).
        train_config : dict
            The run's options (``TrainConfig.to_json()``): recorded under ``training``;
            ``fill_window`` and ``reach`` become the model's ``window`` and ``reach``.
        normalization : dict
            Per-channel ``mean``, ``std`` and ``scale`` lists.
        process : OcclusionProcess
            The measurement process trained with (its config and constant c are recorded).
        time_step : float
            The field's time step in hours.
        land : numpy.ndarray
            Boolean ``(Y, X)`` land mask of the training field.
        uncertainty_scale : float or None
            Calibration of the predicted error scale; recorded only when
            ``train_config["uncertainty"]``.
        steps, best_step : int
            Optimiser steps run, and the step of the kept weights.
        error_correlation : dict, optional
            How the kept generator's normalised validation errors correlate
            (:func:`seainpaint.metrics.error_correlation`); recorded only with
            ``uncertainty_scale``. Ensembles (``fill(..., members=N)``) draw noise with it.
        best_val_mae : float
            Their validation MAE (non-finite: recorded as null).
        history : sequence of dict
            One record per validation (a non-finite ``val_mae`` is recorded as null).
        device : str
            Where it trained.
        threads : int or None
            Torch threads on the CPU (None on another device).
        stopped_by : str, optional
            The stopping rule that ended the run.
        wall_seconds : float, optional
            How long the run took.
        validation_frames : (int, int), optional
            The frames validation windows were drawn from.
        held_out : bool, optional
            Whether training windows never used those frames (False on short records).

        Returns
        -------
        InpaintModel
        """
        info = describe(field, check="none") if info is None else info
        dims = info.dims
        training: dict[str, Any] = {**train_config, "steps": steps}
        if stopped_by is not None:
            training["stopped_by"] = stopped_by
        training["best_step"] = best_step
        training["best_val_mae"] = _finite_or_none(best_val_mae)
        training["history"] = [
            {**h, **{k: _finite_or_none(h[k]) for k in ("val_mae", "val_mae_ema") if k in h}}
            for h in history
        ]
        if validation_frames is not None:
            training["validation_frames"] = [int(v) for v in validation_frames]
        if held_out is not None:
            training["validation_held_out"] = bool(held_out)
        if wall_seconds is not None:
            training["wall_seconds"] = wall_seconds
        training["device"] = device
        training["threads"] = threads
        config = {
            "generator": generator_config,
            "window": train_config["fill_window"],
            "reach": train_config["reach"],
            "time_step": time_step,
            "fill_value": float(process.fill_value),
            "normalization": normalization,
            "uncertainty_scale": uncertainty_scale if train_config["uncertainty"] else None,
            "error_correlation": (error_correlation if train_config["uncertainty"]
                                  and uncertainty_scale is not None else None),
            "process": process.to_config(),
            "data": data_summary(field, info),
            "training": training,
            "versions": package_versions(),
        }
        grid = {name: np.asarray(field[name].values) for name in (dims.y, dims.x)
                if name in field.coords}
        return cls(copy.deepcopy(generator).cpu().eval(), copy.deepcopy(config), land=land,
                   grid=grid)

    @staticmethod
    def _check_config(config: Any, where: str) -> dict[str, Any]:
        """A model config, checked for the keys and types a fill needs.

        ``where`` names the config in the errors (``"model"``, or the file it came from).
        """
        if not isinstance(config, dict):
            raise ModelError(f"{where}: the model config must be a JSON object, got "
                             f"{type(config).__name__}")
        for key in ("generator", "window", "fill_value", "normalization"):
            if key not in config:
                raise ModelError(f"{where}: the model config is missing {key!r}")
        if not isinstance(config["generator"], dict):
            raise ModelError(f"{where}: 'generator' must be an object")
        norm = config["normalization"]
        try:
            float(config["fill_value"])
            int(config["window"])
            arrays = [np.asarray(norm[k], dtype=np.float64) for k in ("mean", "scale")]
        except (TypeError, ValueError, KeyError) as err:
            raise ModelError(f"{where}: bad value in the model config ({type(err).__name__}: "
                             f"{err})") from None
        mean, scale = arrays
        if mean.ndim != 1 or scale.shape != mean.shape or not (
            np.isfinite(mean).all() and np.isfinite(scale).all() and (scale > 0).all()
        ):
            raise ModelError(f"{where}: the normalisation must be finite per-channel lists with "
                             f"a positive scale, got mean={mean.tolist()} scale={scale.tolist()}")
        return config

    # ------------------------------------------------------------------ persistence
    def _tensors(self) -> dict[str, Any]:
        state = {k: v.detach().cpu().contiguous().clone()
                 for k, v in self.generator.state_dict().items()}
        if self.land is not None:
            state[META_PREFIX + "land"] = torch.from_numpy(self.land.astype(np.uint8))
        for name, values in self.grid.items():
            if values.dtype.kind in "iuf":
                state[f"{META_PREFIX}grid.{name}"] = torch.from_numpy(
                    np.array(values, dtype=np.float64, copy=True))
        return state

    def save(self, directory: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write ``weights.safetensors`` and ``config.json`` into ``directory``, atomically.

        The files are written into a temporary directory next to ``directory`` which is
        then renamed, so a reader never sees a half-written model.

        Raises
        ------
        OutputExistsError
            If ``directory`` exists and ``overwrite`` is False.
        """
        target = Path(directory)
        if target.exists() and not overwrite:
            raise OutputExistsError(f"model directory {str(target)!r} exists; pass overwrite=True")
        with atomic_dir(target, overwrite=overwrite) as tmp:
            save_file(self._tensors(), str(tmp / WEIGHTS_FILE), metadata={"format": "seainpaint"})
            follow_umask(tmp / WEIGHTS_FILE)  # safetensors creates it 0600 whatever the umask
            config = dict(self.config)
            config["format_version"] = FORMAT_VERSION
            config["label"] = self.label
            (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=2, default=_json_default))
        return target

    @classmethod
    def load(cls, directory: str | os.PathLike[str], *, device: Any = "cpu") -> InpaintModel:
        """Read a model written by :meth:`save`.

        Raises
        ------
        ModelError
            If the directory does not hold a readable seainpaint model (missing, truncated
            or corrupt files, a config that does not fit the weights).
        """
        path = Path(directory)
        config_path, weights_path = path / CONFIG_FILE, path / WEIGHTS_FILE
        if not config_path.is_file() or not weights_path.is_file():
            raise ModelError(
                f"{str(path)!r} is not a seainpaint model directory "
                f"(expected {CONFIG_FILE} and {WEIGHTS_FILE})"
            )
        try:
            config = json.loads(config_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ModelError(f"{str(config_path)!r} is not valid JSON: {err}") from None
        config = cls._check_config(config, repr(str(config_path)))
        version = config.get("format_version", 1)
        if version != FORMAT_VERSION:
            raise ModelError(
                f"{str(path)!r} is a model of format {version}; this seainpaint reads "
                f"format {FORMAT_VERSION}: train it again with this version"
            )
        try:
            generator = build_generator(config["generator"])
        except SeainpaintError as err:
            raise ModelError(f"{str(config_path)!r}: {err}") from None
        try:
            state = load_file(str(weights_path), device=str(device))
        except Exception as err:  # noqa: BLE001 - safetensors raises its own error types
            raise ModelError(
                f"cannot read {str(weights_path)!r}: {err} (truncated or not a safetensors "
                "file)"
            ) from None
        meta = {k[len(META_PREFIX):]: v for k, v in state.items() if k.startswith(META_PREFIX)}
        weights = {k: v for k, v in state.items() if not k.startswith(META_PREFIX)}
        try:
            generator.load_state_dict(weights)
        except RuntimeError as err:
            raise ModelError(
                f"weights in {str(weights_path)!r} do not fit the config: {err}"
            ) from None
        land = meta["land"].cpu().numpy().astype(bool) if "land" in meta else None
        grid = {k[len("grid."):]: v.cpu().numpy() for k, v in meta.items()
                if k.startswith("grid.")}
        return cls(generator, config, land=land, grid=grid)


def _finite_or_none(value: float) -> float | None:
    """``value``, or None (JSON null) when it is not finite."""
    return value if math.isfinite(value) else None


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, tuple):
        return list(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
