"""A trained inpainting model: generator weights, configuration and normalisation.

:class:`InpaintModel` is what :func:`seainpaint.train` returns and what
``da.inpaint.fill(model)`` / :func:`seainpaint.fill` use. On disk a model is a directory
holding ``weights.safetensors`` (the generator only) and ``config.json`` (architecture,
normalisation, occlusion process, a summary of the training data, package versions).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .errors import FieldError, OutputExistsError, SeainpaintError

WEIGHTS_FILE = "weights.safetensors"
CONFIG_FILE = "config.json"
FORMAT_VERSION = 1

FILL_WINDOW = 24  # smallest default window (frames) used by fill_field


class ModelError(SeainpaintError, ValueError):
    """A model cannot serve the given data, or a model directory is unreadable."""


def package_versions() -> dict[str, str]:
    """Versions of the packages a model depends on (recorded in its config)."""
    import numpy
    import torch
    import xarray

    from . import __version__

    return {
        "seainpaint": __version__,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "xarray": xarray.__version__,
    }


def data_summary(da: xr.DataArray) -> dict[str, Any]:
    """Summary of a training field: variable, units, grid, region and time range."""
    from .field import field_dims

    dims = field_dims(da)
    summary: dict[str, Any] = {
        "variable": None if da.name is None else str(da.name),
        "units": da.attrs.get("units"),
        "standard_name": da.attrs.get("standard_name"),
        "dims": list(dims.canonical),
        "grid_shape": [int(da.sizes[dims.y]), int(da.sizes[dims.x])],
        "n_time": int(da.sizes[dims.time]),
        "channels": int(da.sizes[dims.channel]) if dims.channel else 1,
    }
    bounds: dict[str, list[float]] = {}
    for name in (dims.y, dims.x):
        if name in da.coords and da[name].dtype.kind in "iuf" and da.sizes[name] > 0:
            values = np.asarray(da[name].values)
            bounds[name] = [float(values.min()), float(values.max())]
    summary["region_bounds"] = bounds
    if dims.time in da.coords and da.sizes[dims.time] > 0:
        times = da[dims.time].values
        summary["time_range"] = [str(times[0]), str(times[-1])]
    else:
        summary["time_range"] = None
    return summary


def _norm_units(units: Any) -> str | None:
    if units is None:
        return None
    text = str(units).strip().lower().replace("_", " ")
    aliases = {
        "degree celsius": "degc",
        "degrees celsius": "degc",
        "celsius": "degc",
        "°c": "degc",
        "deg c": "degc",
        "degc": "degc",
        "c": "degc",
        "k": "k",
        "kelvin": "k",
        "degree kelvin": "k",
        "degrees kelvin": "k",
    }
    return aliases.get(text, text)


class InpaintModel:
    """A trained generator with everything needed to fill a field.

    Parameters
    ----------
    generator : torch.nn.Module
        The network φ: ``(y (B,C,T,H,W), m (B,1,T,H,W)) -> φ (B,C,T,H,W)`` in normalised
        units.
    config : dict
        JSON-serialisable configuration with keys ``generator`` (the config given to
        :func:`seainpaint.nn.build_generator`), ``window``, ``fill_value``,
        ``normalization`` (``mean``, ``scale`` lists per channel, and ``std``),
        ``process`` (occlusion process config or None), ``data`` (see
        :func:`data_summary`), ``training`` and ``versions``.

    Attributes
    ----------
    label : str
        Short name used in the ``history`` attribute of filled fields.
    """

    def __init__(self, generator: Any, config: dict[str, Any]) -> None:
        for key in ("generator", "window", "fill_value", "normalization"):
            if key not in config:
                raise ModelError(f"model config is missing {key!r}")
        self.generator = generator
        self.config = config
        self.generator.eval()
        gen = config["generator"]
        self.label = config.get(
            "label", f"InpaintModel({gen.get('arch', '?')}, {gen.get('variant', '?')})"
        )

    # ------------------------------------------------------------------ properties
    @property
    def window(self) -> int:
        """Number of frames the generator sees at once."""
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
        """Per-channel divisor mapping the training range into the generator's (−1, 1)."""
        return np.asarray(self.config["normalization"]["scale"], dtype=np.float64)

    def normalize(self, values: np.ndarray) -> np.ndarray:
        """Physical units -> network units, on arrays ending with the channel axis."""
        return ((values - self.mean) / self.scale).astype(np.float32)

    def denormalize(self, values: np.ndarray) -> np.ndarray:
        """Network units -> physical units, on arrays ending with the channel axis."""
        return values.astype(np.float64) * self.scale + self.mean

    def __repr__(self) -> str:
        data = self.config.get("data", {})
        return (
            f"{self.label} for {data.get('variable')!r} [{data.get('units')}], "
            f"window={self.window}"
        )

    # ------------------------------------------------------------------ checks
    def check_field(self, da: xr.DataArray) -> None:
        """Refuse a field this model was not trained for.

        Raises
        ------
        ModelError
            If the variable name, the units, the standard name or the number of channels
            differ from the training data.
        """
        from .field import field_dims

        dims = field_dims(da)
        channels = int(da.sizes[dims.channel]) if dims.channel else 1
        if channels != self.channels:
            raise ModelError(
                f"the model was trained on {self.channels} channel(s); the field has {channels}"
            )
        data = self.config.get("data") or {}
        trained_var = data.get("variable")
        if trained_var is not None and da.name is not None and str(da.name) != trained_var:
            raise ModelError(
                f"the model was trained on variable {trained_var!r}, not {str(da.name)!r}; "
                "pass check=False to fill it anyway"
            )
        trained_units = data.get("units")
        units = da.attrs.get("units")
        if trained_units is not None and _norm_units(units) != _norm_units(trained_units):
            raise ModelError(
                f"the model was trained on data in {trained_units!r}; the field's units are "
                f"{units!r}; convert it or pass check=False"
            )
        trained_sn = data.get("standard_name")
        sn = da.attrs.get("standard_name")
        if trained_sn and sn and trained_sn != sn:
            raise ModelError(
                f"the model was trained on standard_name {trained_sn!r}, not {sn!r}; "
                "pass check=False to fill it anyway"
            )

    # ------------------------------------------------------------------ inference
    def predictor(self) -> Any:
        """A picklable callable ``(y, m) -> φ`` running the generator in eval mode.

        Spectral normalisation is folded into the weights of a copy
        (:class:`seainpaint.inference.GeneratorPredictor`), so it can travel to
        ``dask.distributed`` workers.
        """
        from .inference import GeneratorPredictor

        return GeneratorPredictor(self.generator)

    def fill_field(
        self,
        da: xr.DataArray,
        *,
        check: bool = True,
        device: Any = "auto",
        **options: Any,
    ) -> xr.DataArray:
        """Predict every pixel of ``da`` (the method :func:`seainpaint.fill` calls).

        Parameters
        ----------
        da : xarray.DataArray
            Observed field ``(time, y, x[, channel])``, NaN = missing; lazy on dask input.
        check : bool
            Refuse data whose variable name or units differ from the training data.
        device : str or torch.device
            ``"auto"`` (CUDA when present, else CPU), ``"cpu"``, ``"cuda"``, ...
        **options
            Passed to :func:`seainpaint.inference.predict_dataarray` (``overlap``,
            ``tile``, ``halo``, ``batch_size``, ``window``).

        Returns
        -------
        xarray.DataArray
            The prediction for every pixel (observed pixels are put back bit-for-bit and
            land set to NaN by :func:`seainpaint.fill`).
        """
        from .field import field_dims
        from .inference import predict_dataarray

        field_dims(da)
        if da.dtype.kind != "f":
            raise FieldError(f"field {da.name!r} has dtype {da.dtype}; a float field is needed")
        if check:
            self.check_field(da)
        # the networks are convolutional in time: fill with windows of at least a day of
        # hourly frames even when training used shorter ones, so long cloudy spells are
        # bridged by observations on both sides
        window = int(options.setdefault("window", max(self.window, FILL_WINDOW)))
        options.setdefault("overlap", min(8, window // 3))
        return predict_dataarray(
            self.predictor(),
            da,
            normalize=self.normalize,
            denormalize=self.denormalize,
            fill_value=self.fill_value,
            device=device,
            **options,
        )

    # ------------------------------------------------------------------ persistence
    def save(self, directory: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write ``weights.safetensors`` and ``config.json`` into ``directory``, atomically.

        The files are written into a temporary directory next to ``directory`` which is
        then renamed, so a reader never sees a half-written model.

        Raises
        ------
        OutputExistsError
            If ``directory`` exists and ``overwrite`` is False.
        """
        from safetensors.torch import save_file

        target = Path(directory)
        if target.exists() and not overwrite:
            raise OutputExistsError(f"model directory {str(target)!r} exists; pass overwrite=True")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            state = {
                k: v.detach().cpu().contiguous().clone()
                for k, v in self.generator.state_dict().items()
            }
            save_file(state, str(tmp / WEIGHTS_FILE), metadata={"format": "seainpaint"})
            config = dict(self.config)
            config["format_version"] = FORMAT_VERSION
            config["label"] = self.label
            (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=2, default=_json_default))
            if target.exists():
                old = target.parent / f".{target.name}.old-{os.getpid()}"
                os.replace(target, old)
                os.replace(tmp, target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return target

    @classmethod
    def load(cls, directory: str | os.PathLike[str], *, device: Any = "cpu") -> InpaintModel:
        """Read a model written by :meth:`save`.

        Raises
        ------
        ModelError
            If the directory does not hold a seainpaint model.
        """
        from safetensors.torch import load_file

        from .nn import build_generator

        path = Path(directory)
        config_path, weights_path = path / CONFIG_FILE, path / WEIGHTS_FILE
        if not config_path.is_file() or not weights_path.is_file():
            raise ModelError(
                f"{str(path)!r} is not a seainpaint model directory "
                f"(expected {CONFIG_FILE} and {WEIGHTS_FILE})"
            )
        try:
            config = json.loads(config_path.read_text())
        except json.JSONDecodeError as err:
            raise ModelError(f"{str(config_path)!r} is not valid JSON: {err}") from None
        generator = build_generator(config["generator"])
        state = load_file(str(weights_path), device=str(device))
        try:
            generator.load_state_dict(state)
        except RuntimeError as err:
            raise ModelError(
                f"weights in {str(weights_path)!r} do not fit the config: {err}"
            ) from None
        return cls(generator, config)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, tuple):
        return list(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
