"""The public :func:`train`: options, data, the loop, the model.

:func:`train_config` reads the options into a :class:`TrainConfig`, :func:`prepare_run`
builds the data, networks and measurement process (a :class:`Run`), ``_run`` steps until a
stopping rule fires, and :meth:`Run.model` hands the result to
:meth:`InpaintModel.from_training`, which writes the model's configuration.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr
from tqdm.auto import tqdm

from ..checks import first_not_int_at_least
from ..errors import ProcessNeededError, SeainpaintError, SeainpaintWarning
from ..field import FieldInfo, describe
from ..inference import select_device
from ..io.stores import open_field
from ..model import InpaintModel
from ..nn.generator import VARIANTS, generator_config
from ..occlusion import FieldClouds, OcclusionProcess
from .data import FieldSource, Normalization, WindowSampler, time_axis, training_data
from .loop import CHECKPOINT_FILE, TrainConfig, Trainer, TrainingError, load_checkpoint

SUPERVISION = (None, "unpaired", "paired")
#: Options only an adversarial game reads (refused when the loss has none).
ADVERSARIAL_OPTIONS = ("d_lr", "d_betas", "discriminator_options")
DEFAULT_MINUTES = 30.0  # the budget when no stopping rule is given

#: Loss presets: what ``loss=`` sets before the explicit options are applied.
LOSSES: dict[str, dict[str, Any]] = {
    # re-hidden observations scored with L1 + a Laplace likelihood for the error scale
    "self-supervised": dict(recon_weight=1.0, adv_weight=0.0, uncertainty=True,
                            lr=2e-3, betas=(0.9, 0.999)),
    # the same plus the paper's adversarial game (Df, Ds, hinge loss)
    "hybrid": dict(recon_weight=1.0, adv_weight=0.01, uncertainty=True,
                   lr=2e-3, betas=(0.9, 0.999), d_lr=1e-4, d_betas=(0.0, 0.999)),
    # the paper's loss (eq. 4, hinge) and its settings (§3.4): Adam 1e-4, betas (0, 0.999)
    "paper": dict(recon_weight=0.0, adv_weight=1.0, uncertainty=False,
                  lr=1e-4, betas=(0.0, 0.999), d_lr=1e-4, d_betas=(0.0, 0.999)),
}


def resolve_process(
    process: OcclusionProcess | dict[str, Any] | str | None, obs: xr.DataArray,
    observed: xr.DataArray | None = None,
) -> OcclusionProcess:
    """The measurement process to train with.

    Given, or rebuilt from ``obs.attrs["seainpaint_occlusion"]``; otherwise — real data
    never record one — the field's own clouds (:class:`~seainpaint.occlusion.FieldClouds`),
    taken from ``observed`` (the field's boolean ``(time, y, x)`` observed mask,
    :attr:`FieldInfo.observed`) when given, else from ``obs``.
    """
    clouds = obs if observed is None else observed
    if isinstance(process, OcclusionProcess):
        return process
    if isinstance(process, str):
        try:
            process = json.loads(process)
        except json.JSONDecodeError as err:
            raise TrainingError(f"process is not valid JSON: {err}") from None
    if process is None:
        text = obs.attrs.get("seainpaint_occlusion")
        if not text:
            return FieldClouds(clouds)
        try:
            process = json.loads(text)
        except json.JSONDecodeError:
            return FieldClouds(clouds)
    if not isinstance(process, dict):
        raise TrainingError(f"process must be an OcclusionProcess, got {type(process).__name__}")
    if process.get("name") == "FieldClouds":
        return FieldClouds(clouds, shift=process.get("shift", True), flip=process.get("flip", True))
    try:
        return OcclusionProcess.from_config(process)
    except SeainpaintError:
        # e.g. a Cloud built on an in-memory LWP: its masks made the field's gaps, so the
        # field's own clouds are draws of the same kind (the model records which was used)
        return FieldClouds(clouds)


def train_config(loss: str = "self-supervised", **options: Any) -> TrainConfig:
    """The options of a run: the ``loss`` preset (:data:`LOSSES`), then ``options``.

    Parameters
    ----------
    loss : {"self-supervised", "hybrid", "paper"}
        The preset applied first.
    **options
        Any field of :class:`TrainConfig` (see :func:`train`).

    Returns
    -------
    TrainConfig

    Raises
    ------
    TrainingError
        Unknown loss or option, a bad value, or an option this loss would never read.
    """
    if loss not in LOSSES:
        raise TrainingError(f"loss={loss!r}; choose one of {sorted(LOSSES)}")
    known = {f.name for f in dataclasses.fields(TrainConfig)} - {"loss"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise TrainingError(f"unknown training option(s) {unknown}; known: {sorted(known)}")
    values = {**LOSSES[loss], **options, "loss": loss}
    if "patch" in values:
        patch = values["patch"]
        values["patch"] = (patch, patch) if isinstance(patch, int) else tuple(patch)
    for key in ("betas", "d_betas"):
        if key in values:
            values[key] = tuple(float(b) for b in values[key])
    cfg = TrainConfig(**values)
    if cfg.variant not in VARIANTS:
        raise TrainingError(f"variant={cfg.variant!r}; choose one of {VARIANTS}")
    if cfg.supervised not in SUPERVISION:
        raise TrainingError(f"supervised={cfg.supervised!r}; choose None, 'unpaired' or 'paired'")
    bad = first_not_int_at_least(
        [(key, getattr(cfg, key), 1) for key in ("window", "fill_window", "batch_size",
                                                 "eval_every", "checkpoint_every", "n_val",
                                                 "reach")])
    if bad is not None:
        raise TrainingError(f"{bad[0]}={bad[1]!r} must be a positive int")
    if cfg.uncertainty and not cfg.rehide:
        raise TrainingError("uncertainty=True needs re-hidden observations (recon_weight > 0)")
    if cfg.recon_weight == 0 and cfg.adv_weight == 0 and cfg.supervised is None:
        raise TrainingError("recon_weight and adv_weight are both 0: nothing to learn")
    _refuse_unused(cfg, options)
    return cfg


def _refuse_unused(cfg: TrainConfig, options: dict[str, Any]) -> None:
    """Refuse options given explicitly that this run would never read."""
    unused = []
    if cfg.adv_weight == 0 and cfg.supervised is None:
        unused += [k for k in ADVERSARIAL_OPTIONS if k in options]
    if cfg.supervised != "paired" and "paired_weight" in options:
        unused.append("paired_weight")
    if unused:
        raise TrainingError(
            f"option(s) {unused} do nothing with loss={cfg.loss!r} "
            f"(adv_weight={cfg.adv_weight:g}, supervised={cfg.supervised!r}): the run has no "
            "discriminator to use them; drop them, or choose loss='paper' or 'hybrid'"
        )


@dataclasses.dataclass
class Run:
    """What one training run is made of (:func:`prepare_run`)."""

    trainer: Trainer
    cfg: TrainConfig
    source: FieldSource
    process: OcclusionProcess
    norm: Normalization
    land: np.ndarray
    info: FieldInfo | None = None  # the training field's description

    def kept_generator(self) -> torch.nn.Module:
        """The weight-averaged generator, with the weights that validated best loaded."""
        generator = self.trainer.ema.module
        if self.trainer.best_state is not None:
            generator.load_state_dict(self.trainer.best_state)
        return generator

    def model(self, generator: torch.nn.Module, da: xr.DataArray, *,
              stopped_by: str | None = None,
              wall_seconds: float | None = None) -> InpaintModel:
        """An :class:`InpaintModel` of ``generator`` (a copy) with this run's record.

        ``generator`` is usually :meth:`kept_generator`; ``da`` is the training field.
        The configuration is written by :meth:`InpaintModel.from_training`.
        """
        trainer = self.trainer
        dev = trainer.device
        return InpaintModel.from_training(
            generator, da,
            info=self.info,
            generator_config=trainer.gen_config,
            train_config=self.cfg.to_json(),
            normalization=self.norm.to_json(),
            process=self.process,
            time_step=self.source.step,
            land=self.land,
            uncertainty_scale=trainer.best_calibration,
            error_correlation=trainer.error_correlation(generator),
            steps=trainer.step,
            best_step=trainer.best_step,
            best_val_mae=trainer.best_mae,
            history=trainer.history,
            device=str(dev),
            threads=torch.get_num_threads() if dev.type == "cpu" else None,
            stopped_by=stopped_by,
            wall_seconds=wall_seconds,
            validation_frames=trainer.val_sampler.t_range,
            held_out=self.held_out,
        )

    @property
    def held_out(self) -> bool:
        """Whether the validation frames are kept out of training (not on short records)."""
        train, val = self.trainer.sampler.t_range, self.trainer.val_sampler.t_range
        return train[1] <= val[0]


def prepare_run(da: xr.DataArray, cfg: TrainConfig,
                process: OcclusionProcess | dict[str, Any] | str | None, device: Any, *,
                clean: xr.DataArray | str | os.PathLike[str] | None = None,
                variable: str | None = None, info: FieldInfo | None = None) -> Run:
    """The networks, data and measurement process of a run on field ``da``.

    Window and patch are clipped to the field; the last tenth of the record (at least
    one fill window, when the record holds five) is kept for validation
    (:func:`~seainpaint.training.data.training_data`). ``info`` is the field's
    description (:func:`seainpaint.field.describe`), made here when not given.
    """
    info = describe(da, check="dtype") if info is None else info
    n_t, n_y, n_x = info.shape
    window = min(cfg.window, n_t)
    if window < 2 and cfg.variant != "static":
        raise TrainingError(f"the field has {n_t} time step(s); a sequence model needs >= 2")
    patch = (min(cfg.patch[0], n_y), min(cfg.patch[1], n_x))
    cfg = dataclasses.replace(cfg, window=window, patch=patch,
                              fill_window=min(cfg.fill_window, n_t))
    gen_config = _generator_config(cfg, info.channels, time_axis(da, info.hours)[1])
    proc = resolve_process(process, da, info.observed)
    if isinstance(proc, FieldClouds) and proc.cover == 0:
        raise ProcessNeededError(
            f"field {da.name!r} has no missing sea pixel: there are no clouds of its own to "
            "learn from"
        )
    data = training_data(da, info, window=cfg.window, fill_window=cfg.fill_window,
                         patch=patch, reach=cfg.reach, bounded=gen_config["prior"] == "none")
    clean_sampler = None
    if clean is not None:
        clean_sampler = _clean_sampler(clean, variable, info, cfg, data.norm, data.land)
    trainer = Trainer(data.sampler, data.val_sampler, proc, cfg, gen_config, proc.fill_value,
                      data.norm.scale, device, clean=clean_sampler)
    return Run(trainer, cfg, data.source, proc, data.norm, data.land, info)


#: frames this far apart (hours) or more get the spline as their spatial fill
SPLINE_STEP_HOURS = 24.0


def space_fill_for(step_hours: float | None) -> str:
    """The spatial fill a new model gets for frames ``step_hours`` apart.

    Where frames are a day or more apart, interpolation in time has little to offer and
    the spatial fill carries the gaps: there the spline in tension (``"spline"``) measured
    better than the harmonic fill (``benchmarks/bench_accuracy.py --skip-sst
    --skip-video``, monthly OSTIA: 0.1686 K against 0.1851 with ``--space-fill
    harmonic``). On hourly records (and on frames without a time step, such as video,
    taken as hourly) it was not clearly better in short runs and costs more per fill:
    ``"harmonic"``. ``generator_options={"space_fill": ...}`` overrides it.
    """
    if step_hours is not None and step_hours >= SPLINE_STEP_HOURS:
        return "spline"
    return "harmonic"


def _generator_config(cfg: TrainConfig, channels: int, step_hours: float) -> dict[str, Any]:
    """The generator's complete configuration for a run's options on ``channels``, for
    frames ``step_hours`` apart (:func:`~seainpaint.training.data.time_axis`)."""
    config: dict[str, Any] = {
        "arch": cfg.arch, "variant": cfg.variant, "channels": channels,
        "uncertainty": cfg.uncertainty, "reach": cfg.reach,
        "spectral_norm": cfg.game_alone,
        **cfg.generator_options,
    }
    if cfg.base is not None:
        config["base"] = int(cfg.base)
    full = generator_config(config)
    if "spatial" not in cfg.generator_options and full["prior"] != "none" and full["residual"]:
        # new models also see the residuals spread in space; the key's own default stays
        # False so that models saved before it existed build as they were trained
        full = generator_config({**full, "spatial": True})
    if "space_prior" not in cfg.generator_options and full["prior"] != "none":
        # and a spatial fill of each frame (the prior where time has no observation)
        full = generator_config({**full, "space_prior": True})
    if "space_fill" not in cfg.generator_options and full["space_prior"]:
        full = generator_config({**full, "space_fill": space_fill_for(step_hours)})
    return full


def _clean_sampler(clean: xr.DataArray | str | os.PathLike[str], variable: str | None,
                   info: FieldInfo, cfg: TrainConfig,
                   norm: Normalization, land: np.ndarray) -> WindowSampler:
    """Windows of the clean field of the supervised variants (checked against the
    observations, described by ``info``)."""
    clean_da = open_field(clean, variable if not isinstance(clean, xr.DataArray) else None)
    cinfo = describe(clean_da, check="none")
    cshape = cinfo.shape + ((cinfo.channels,) if cinfo.dims.channel else ())
    oshape = info.shape + ((info.channels,) if info.dims.channel else ())
    if cshape[1:] != oshape[1:] or (cfg.supervised == "paired" and cshape[0] != oshape[0]):
        raise TrainingError(
            f"the clean field's shape {cshape} does not match the observations' {oshape}"
        )
    clean_source = FieldSource(clean_da, norm, land, info=cinfo)
    return WindowSampler(clean_source, cfg.window, cfg.patch, cfg.reach,
                         (0, clean_source.shape[0]))


def _stop_after(source: FieldSource, cfg: TrainConfig, epochs: float | None,
                steps: int | None) -> int | None:
    """The step count at which the run stops (None: only the time budget stops it)."""
    total = steps
    if epochs is not None:
        n_t, n_y, n_x = source.shape
        per_epoch = max(n_t // cfg.window, 1) * math.ceil(n_y / cfg.patch[0]) * math.ceil(
            n_x / cfg.patch[1])
        from_epochs = max(1, math.ceil(epochs * per_epoch / cfg.batch_size))
        total = from_epochs if total is None else min(total, from_epochs)
    return total


def train(
    obs: xr.DataArray | str | os.PathLike[str],
    *,
    variable: str | None = None,
    process: OcclusionProcess | dict[str, Any] | str | None = None,
    loss: str = "self-supervised",
    steps: int | None = None,
    epochs: float | None = None,
    max_minutes: float | None = None,
    clean: xr.DataArray | str | os.PathLike[str] | None = None,
    device: Any = "auto",
    threads: int | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
    progress: bool = True,
    **options: Any,
) -> InpaintModel:
    """Learn to fill a cloudy field from the field alone (no cloud-free truth).

    With no option, ``train(obs)`` learns from ``obs``'s own gaps: observed pixels are
    hidden again with cloud masks taken from other times of the same field (shifted,
    flipped), and the generator learns to predict them — and how wrong it is likely to
    be — from everything else. See the README's accuracy table for what this gives.

    Parameters
    ----------
    obs : xarray.DataArray or path
        Observed field ``(time, y, x[, channel])``, NaN where missing, in memory or
        dask-backed, or a Zarr store / NetCDF file holding it (see ``variable``). Land
        comes from its ``land`` coordinate when it has one, else from the pixels never
        observed in the whole field.
    variable : str, optional
        Variable to read from a store.
    process : OcclusionProcess, dict or JSON str, optional
        The measurement process whose draws hide pixels in training (the paper's ``m'``).
        Default: the one recorded in ``obs.attrs["seainpaint_occlusion"]`` by
        :func:`seainpaint.occlude` when it can be rebuilt (not a ``Cloud`` on an in-memory
        LWP array), else the field's own clouds (:class:`FieldClouds`). The model's
        ``config["process"]`` says which was used.
    loss : {"self-supervised", "hybrid", "paper"}
        ``"self-supervised"`` (default, measured best per CPU minute): L1 on re-hidden
        observations plus a Laplace likelihood for the error scale. ``"hybrid"``: the
        same plus the paper's adversarial game (weight ``adv_weight``). ``"paper"``: the
        paper's pure adversarial game (hinge loss, frame and sequence discriminators,
        Adam 1e-4, betas (0, 0.999)) with no uncertainty.
    steps, epochs, max_minutes : optional
        Stop after ``steps`` optimiser steps (counting a resumed run's), after ``epochs``
        passes over the field's windows, or when ``max_minutes`` are spent, whichever
        comes first. With none of them: ``max_minutes = 30``.
    clean : xarray.DataArray or path, optional
        Clean field on the same grid (only with ``supervised="unpaired"/"paired"``).
    device : str or torch.device
        ``"auto"`` (CUDA when present, else the CPU), ``"cpu"``, ``"cuda"``, ...
    threads : int, optional
        Torch threads on the CPU (default: ``OMP_NUM_THREADS`` when set, else every core
        this process may use).
    checkpoint_dir : path, optional
        Where ``checkpoint.pt`` is written every ``checkpoint_every`` steps and at the end.
    resume : bool
        Continue from ``checkpoint_dir/checkpoint.pt`` when it exists.
    progress : bool
        Show a progress bar (steps, or the time budget) with an ETA and the losses.
    **options
        Any field of :class:`TrainConfig`, e.g. ``window`` (frames per training window,
        24), ``fill_window`` (frames per window when filling and validating, 24),
        ``patch`` (32), ``batch_size`` (8), ``reach`` (frames of context each way, 96),
        ``arch`` ("fast" | "paper"), ``variant`` ("spatiotemporal" | "static" |
        "recurrent"), ``base`` (generator channels: 8 "fast", 32 "paper"),
        ``recon_weight``, ``adv_weight``, ``uncertainty``,
        ``lr``, ``betas``, ``d_lr``, ``d_betas``, ``ema``, ``seed``, ``eval_every``,
        ``checkpoint_every``, ``n_val``, ``supervised``, ``paired_weight``,
        ``generator_options``, ``discriminator_options``.

    Returns
    -------
    InpaintModel
        The (weight-averaged) generator that predicted the validation pixels best.

    Raises
    ------
    TrainingError
        Bad options, too little data, or a checkpoint that cannot be resumed.
    FieldError
        A field that does not follow the data model.
    """
    started = time.monotonic()
    da = open_field(obs, variable)
    # one call refuses a field that does not follow the data model and describes it
    info = describe(da, check="dtype")
    cfg = train_config(loss, **options)
    max_minutes = _stopping_rules(cfg, clean, steps, epochs, max_minutes, resume,
                                  checkpoint_dir)
    run = prepare_run(da, cfg, process, select_device(device, threads), clean=clean,
                      variable=variable, info=info)
    stopped_by = _run(run, steps=steps, epochs=epochs, max_minutes=max_minutes, started=started,
                      checkpoint_dir=checkpoint_dir, resume=resume, progress=progress)
    _warn_if_nothing_learned(run)
    _warn_if_not_held_out(run)
    return run.model(run.kept_generator(), da, stopped_by=stopped_by,
                     wall_seconds=round(time.monotonic() - started, 2))


def _warn_if_not_held_out(run: Run) -> None:
    """Say so when the record is too short to keep validation frames out of training."""
    if run.held_out:
        return
    n_t = run.trainer.val_sampler.t_range[1]
    warnings.warn(
        f"the record holds {n_t} frames, fewer than five fill windows "
        f"({5 * run.cfg.fill_window}): no frames were held out, so the model trained on "
        "the whole record and validated (and was selected) on re-hidden pixels of those "
        "same frames. Its validation MAE is optimistic"
        + ("; the network was given a spatial fill of each frame (generator option "
           "space_prior), which short, coarse records need"
           if run.trainer.G.space_prior else "")
        + ", and on such a record a spatial fill alone can do better: compare the model "
        "with fill(obs, 'biharmonic') using seainpaint.evaluate on pixels you hide "
        "yourself before relying on it",
        SeainpaintWarning, stacklevel=3,
    )


def _prior_words(generator: torch.nn.Module) -> str:
    """What the step-0 generator is, in words, for the warnings."""
    if generator.prior == "none":
        return ""
    if generator.space_prior:
        return (" (interpolation in time, and a spatial fill of the frame where no "
                "observation lies within reach)")
    return " (interpolation in time)"


def _warn_if_nothing_learned(run: Run) -> None:
    """Say so when no trained weights beat the step-0 generator on validation: the model
    returned is then the untrained one (for the fast generator, interpolation in time)."""
    trainer = run.trainer
    if trainer.step > 0 and trainer.best_step == 0:
        start = trainer.history[0]["val_mae"] if trainer.history else math.nan
        warnings.warn(
            f"training with loss={run.cfg.loss!r} did not improve on the step-0 generator in "
            f"{trainer.step} steps (validation MAE {start:.4g} at step 0, never lower): the "
            "model returned is the step-0 generator"
            + _prior_words(trainer.G)
            + "; its history (model.config['training']['history']) shows the run"
            + ("; the paper's game measured worse than its step 0 for its first ~2000 steps "
               "on hourly SST (README, 'The paper's GAN'): train longer, e.g. with a "
               "checkpoint_dir and resume=True" if run.cfg.game_alone else ""),
            SeainpaintWarning, stacklevel=3,
        )


def _stopping_rules(cfg: TrainConfig, clean: xr.DataArray | str | os.PathLike[str] | None,
                    steps: int | None, epochs: float | None, max_minutes: float | None,
                    resume: bool, checkpoint_dir: str | os.PathLike[str] | None
                    ) -> float | None:
    """Check the run's data and stopping options; return the time budget in minutes.

    The budget is ``DEFAULT_MINUTES`` when no stopping rule is given.
    """
    if cfg.supervised is not None and clean is None:
        raise TrainingError(f"supervised={cfg.supervised!r} needs the clean field: pass clean=")
    if cfg.supervised is None and clean is not None:
        raise TrainingError("clean= is only used by the supervised variants; pass supervised=")
    for name, value in (("steps", steps), ("epochs", epochs), ("max_minutes", max_minutes)):
        if value is not None and value <= 0:
            raise TrainingError(f"{name}={value!r} must be positive")
    if resume and checkpoint_dir is None:
        raise TrainingError("resume=True needs checkpoint_dir=")
    if steps is None and epochs is None and max_minutes is None:
        return DEFAULT_MINUTES
    return max_minutes


def _run(run: Run, *, steps: int | None, epochs: float | None, max_minutes: float | None,
         started: float, checkpoint_dir: str | os.PathLike[str] | None, resume: bool,
         progress: bool) -> str:
    """The loop: steps until a stopping rule fires; returns which one.

    Resumes from ``checkpoint_dir`` when asked and checkpoints there; the time budget
    counts from ``started``.
    """
    trainer, cfg = run.trainer, run.cfg
    ckpt_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
    if resume and ckpt_dir is not None and (ckpt_dir / CHECKPOINT_FILE).exists():
        path = ckpt_dir / CHECKPOINT_FILE
        trainer.load_state(load_checkpoint(path, trainer.device), path)
    total = _stop_after(run.source, cfg, epochs, steps)
    deadline = started + 60.0 * max_minutes if max_minutes is not None else math.inf
    by_time = total is None
    bar = _progress_bar(run, total, max_minutes, progress)
    start = time.monotonic()
    if trainer.best_state is None:
        trainer.evaluate_and_keep()
    mae = trainer.best_mae
    stopped_by = "steps"
    try:
        while total is None or trainer.step < total:
            if time.monotonic() >= deadline:
                stopped_by = "max_minutes"
                break
            losses = trainer.train_step()
            trainer.record(losses)
            if trainer.step % cfg.eval_every == 0:
                mae = trainer.evaluate_and_keep()
            if ckpt_dir is not None and trainer.step % cfg.checkpoint_every == 0:
                trainer.save_checkpoint(ckpt_dir)
            if by_time:
                bar.n = min(round(time.monotonic() - start), bar.total or 0)
            else:
                bar.update(1)
            bar.set_postfix({"step": trainer.step}
                            | {k: f"{v:.3f}" for k, v in losses.items()}
                            | {"val_mae": f"{mae:.4g}"}, refresh=True)
    finally:
        bar.close()
    if not trainer.history or trainer.history[-1]["step"] != trainer.step:
        trainer.evaluate_and_keep()
    if ckpt_dir is not None:
        trainer.save_checkpoint(ckpt_dir)
    return stopped_by


def _progress_bar(run: Run, total: int | None, max_minutes: float | None,
                  progress: bool) -> Any:
    """A bar of the steps to ``total``, or of the budget's seconds when there is none."""
    by_time = total is None
    budget = 60.0 * max_minutes if max_minutes is not None else None
    cfg = run.cfg
    return tqdm(
        total=round(budget) if by_time and budget else total,
        initial=0 if by_time else run.trainer.step,
        disable=not progress,
        desc=f"train {cfg.arch}/{cfg.variant} ({cfg.loss})",
        unit="s" if by_time else "step",
        bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}{postfix}]",
    )
