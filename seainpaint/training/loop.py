"""One training run: networks, optimisers, the step, validation, EMA and checkpoints.

The step (see :mod:`seainpaint.training` for the choice of losses):

1. read ``B`` windows with their context frames (:class:`~.data.WindowSampler`);
2. *self-supervision*: hide more of their observed pixels with a fresh draw ``m'`` of the
   measurement process (by default the field's own clouds), give the generator what is
   left, and score its prediction of the re-hidden pixels: an L1 term on the value and a
   Laplace negative log-likelihood on the predicted error scale (the uncertainty head);
3. *adversarial game* (paper eq. 4, hinge loss): the discriminators Df (frames) and Ds
   (sequences, or their frame differences for a time-dependent process) tell observed
   sequences ``y`` from ``ŷ = F(G(y), m″)``. ``m″`` is the field's own observed mask at
   the same place at another random time (:meth:`WindowSampler.observed_masks`): real
   and fake then share the mask distribution exactly — land (never observed, so c in
   both), orientation, position and the clouds' motion — and only the pixel values
   can tell them apart. Neither real windows nor ``m″`` are augmented. Unsupervised
   games re-hide the generator's input as the self-supervised loss does, so the
   generator trains on the same kind of input it is validated on;
4. the generator's weights are averaged (EMA); validation scores both the average and
   the current weights (only the average for a game alone), and the better of the two
   at the best validation is returned (:meth:`Trainer.evaluate_and_keep`).

Validation hides observed pixels of windows from the last part of the record (never
trained on) with fixed draws of the process, fills them with windows as long as the
fill's, and measures the MAE in physical units: no truth is used anywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as nnf
from torch.optim.swa_utils import AveragedModel

from ..errors import SeainpaintError, TrainingError
from ..metrics.correlation import MIN_PAIRS, error_correlation
from ..model import LAPLACE_STD
from ..nn import (
    build_frame_discriminator,
    build_generator,
    build_sequence_discriminator,
    compose,
)
from ..nn.context import temporal_context
from ..nn.discriminators import discriminator_base
from ..nn.layers import fold_time, refresh_spectral_norm
from ..occlusion import OcclusionProcess, apply_measurement
from .data import Batch, WindowSampler

CHECKPOINT_FILE = "checkpoint.pt"
ONE_SIGMA = 0.6827  # share of a Gaussian within one standard deviation


@dataclass
class TrainConfig:
    """Every option of one training run (recorded in checkpoints and in the model)."""

    window: int = 24
    fill_window: int = 24
    patch: tuple[int, int] = (32, 32)
    batch_size: int = 8
    reach: int = 96
    arch: str = "fast"
    variant: str = "spatiotemporal"
    base: int | None = None
    loss: str = "self-supervised"
    recon_weight: float = 1.0
    adv_weight: float = 0.0
    uncertainty: bool = True
    supervised: str | None = None
    paired_weight: float = 100.0
    lr: float = 2e-3
    betas: tuple[float, float] = (0.9, 0.999)
    d_lr: float = 1e-4
    d_betas: tuple[float, float] = (0.0, 0.999)
    ema: float = 0.995
    amp: bool | None = None
    seed: int = 0
    eval_every: int = 50
    checkpoint_every: int = 200
    n_val: int = 8
    generator_options: dict[str, Any] = field(default_factory=dict)
    discriminator_options: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON types."""
        out = dict(self.__dict__)
        for key in ("patch", "betas", "d_betas"):
            out[key] = list(out[key])
        return out

    @property
    def rehide(self) -> bool:
        """Whether the generator's input has observed pixels re-hidden by ``m'``.

        Always, except for the supervised variants (which see ``y`` as it is): the
        self-supervised terms score those pixels, and validation scores them for every
        loss, so an adversarial-only run trains on the same kind of input it is
        validated (and selected) on.
        """
        return self.recon_weight > 0 or self.uncertainty or self.supervised is None

    @property
    def game_alone(self) -> bool:
        """Whether the generator learns from the adversarial term only (the paper's loss):
        spectral norm on the generator too, only its weight average kept, and a longer
        run advised when it does not beat its step 0."""
        return self.adv_weight > 0 and self.recon_weight == 0


def hinge_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The discriminators' hinge loss on real and fake patch logits (paper eq. 4)."""
    return nnf.relu(1.0 - real).mean() + nnf.relu(1.0 + fake).mean()


def patch_accuracy(real: torch.Tensor, fake: torch.Tensor) -> float:
    """Share of a discriminator's patch logits on the right side of 0 (0.5: chance)."""
    right = (real > 0).float().mean() + (fake < 0).float().mean()
    return float(right.detach()) / 2.0


def seq_feature(seq: torch.Tensor, diff: bool) -> torch.Tensor:
    """What Ds sees: the sequence, or its frame differences (§3.4)."""
    return seq[:, :, 1:] - seq[:, :, :-1] if diff else seq


class Trainer:
    """State of one training run.

    Parameters
    ----------
    sampler, val_sampler : WindowSampler
        Training windows, and validation windows (``fill_window`` frames).
    process : OcclusionProcess
        Draws the masks ``m'`` and ``m″``.
    cfg : TrainConfig
    gen_config : dict
        Generator configuration (:func:`seainpaint.nn.build_generator`).
    fill_value : float
        The constant c of F.
    scale : numpy.ndarray
        Per-channel normalisation divisor (to report errors in physical units).
    device : torch.device
    clean : WindowSampler, optional
        Clean windows for the supervised variants.
    """

    def __init__(self, sampler: WindowSampler, val_sampler: WindowSampler,
                 process: OcclusionProcess, cfg: TrainConfig, gen_config: dict[str, Any],
                 fill_value: float, scale: np.ndarray, device: torch.device,
                 clean: WindowSampler | None = None) -> None:
        self.sampler, self.val_sampler, self.clean = sampler, val_sampler, clean
        self.process, self.cfg, self.device = process, cfg, device
        self.c = float(fill_value)
        self.scale = np.asarray(scale, np.float64)
        self.step_hours = sampler.source.step
        torch.manual_seed(cfg.seed)
        self.G = build_generator(gen_config).to(device)
        self.gen_config = self.G.config
        self.uses_context = self.G.prior != "none"
        # bf16 autocast: on by default on CUDA (measured: no gain on a 2-core CPU)
        self.amp = device.type == "cuda" if cfg.amp is None else bool(cfg.amp)
        self.adversarial = cfg.adv_weight > 0 or cfg.supervised is not None
        self.Df = self.Ds = None
        self.opt_d = None
        if self.adversarial:
            # sized against the generator unless the options say otherwise
            d_config = {"channels": self.G.config["channels"], "arch": cfg.arch,
                        "base": discriminator_base(self.G.config), **cfg.discriminator_options}
            self.Df = build_frame_discriminator(d_config).to(device)
            if cfg.variant != "static":
                self.Ds = build_sequence_discriminator(d_config).to(device)
            self.opt_d = torch.optim.Adam(self._d_params(), lr=cfg.d_lr, betas=cfg.d_betas)
        self.diff = bool(process.time_dependent) and cfg.window > 1
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=cfg.lr, betas=cfg.betas)
        decay = float(cfg.ema)

        def ema_avg(avg: torch.Tensor, new: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
            d = min(decay, (1.0 + float(n)) / (10.0 + float(n)))
            return d * avg + (1.0 - d) * new

        self.ema = AveragedModel(self.G, avg_fn=ema_avg, use_buffers=True)
        self.rng = np.random.default_rng(cfg.seed)
        self.step = 0
        self.best_mae = math.inf
        self.best_step = -1
        self.best_state: dict[str, torch.Tensor] | None = None
        self.best_calibration = 1.0
        self.history: list[dict[str, float]] = []
        self._since_eval: dict[str, tuple[float, int]] = {}
        self._build_validation()

    # ------------------------------------------------------------------ tensors
    def _draw_masks(self, rng: np.random.Generator, n: int, length: int,
                    sea: np.ndarray) -> np.ndarray:
        """``n`` mask sequences ``(n, length, h, w)`` of the process, land counted observed."""
        ph, pw = sea.shape[1:]
        out = np.empty((n, length, ph, pw), dtype=bool)
        for i in range(n):
            out[i] = self.process.sample((length, ph, pw), rng)
        return out | ~sea[:, None]

    def _inputs(self, batch: Batch, keep: np.ndarray) -> dict[str, torch.Tensor]:
        """Generator inputs for the window proper, with ``keep`` (B, L, h, w) observed."""
        dev = self.device
        vals = apply_measurement(batch.values, keep[..., None], self.c).astype(np.float32)
        y = torch.from_numpy(np.ascontiguousarray(vals.transpose(0, 4, 1, 2, 3))).to(dev)
        m = torch.from_numpy(keep[:, None].astype(np.float32)).to(dev)
        sl = slice(batch.lead, batch.lead + batch.length)
        out = {"y": y[:, :, sl], "m": m[:, :, sl]}
        if self.uses_context:
            hours = torch.from_numpy(batch.hours).to(dev)
            out["context"] = temporal_context(y, m, hours, reach=self.cfg.reach,
                                              step=self.step_hours,
                                              causal=self.G.prior == "causal", frames=sl)
        return out

    def _generate(self, net: torch.nn.Module, inputs: dict[str, torch.Tensor],
                  scale: bool) -> Any:
        ctx = inputs.get("context")
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
            if scale:
                return net(inputs["y"], inputs["m"], ctx, return_scale=True)
            return net(inputs["y"], inputs["m"], ctx)

    # ------------------------------------------------------------------ validation
    def _build_validation(self) -> None:
        """Fixed validation windows with observed pixels re-hidden by fixed mask draws."""
        rng = np.random.default_rng([self.cfg.seed, 7919])
        sampler = self.val_sampler
        batch = sampler.read(sampler.positions(rng, self.cfg.n_val))
        length = batch.values.shape[1]
        extra = self._draw_masks(rng, len(batch.values), length, batch.sea)
        keep = batch.observed & extra
        sl = slice(batch.lead, batch.lead + batch.length)
        self.val_inputs = self._inputs(batch, keep)
        self.val_target = np.nan_to_num(batch.values[:, sl]).transpose(0, 4, 1, 2, 3)
        self.val_hidden = (batch.observed & ~extra)[:, None, sl]
        self.val_count = int(self.val_hidden.sum())

    def _predict_validation(self, net: torch.nn.Module) -> tuple[np.ndarray, np.ndarray | None]:
        """``net``'s prediction of the validation windows and its Laplace scale (or None),
        network units, ``(n, C, L, h, w)``."""
        was_training = net.training
        net.eval()
        mus, scales = [], []
        n = self.val_inputs["y"].shape[0]
        bs = self.cfg.batch_size
        with torch.inference_mode():
            for i in range(0, n, bs):
                part = {k: (tuple(t[i:i + bs] for t in v) if isinstance(v, tuple) else v[i:i + bs])
                        for k, v in self.val_inputs.items()}
                out = self._generate(net, part, scale=self.G.uncertainty)
                mu, log_b = out if self.G.uncertainty else (out, None)
                mus.append(mu.float().cpu().numpy())
                if log_b is not None:
                    scales.append(torch.exp(log_b.float()).cpu().numpy())
        net.train(was_training)
        return np.concatenate(mus), (np.concatenate(scales) if scales else None)

    def validate(self, net: torch.nn.Module | None = None) -> tuple[float, float]:
        """MAE (physical units) on the validation set's re-hidden pixels, and the factor
        that calibrates the predicted error scale there (``net``: the EMA generator)."""
        if self.val_count == 0:
            return math.nan, 1.0
        net = self.ema.module if net is None else net
        mu, scale = self._predict_validation(net)
        err = np.abs(mu - self.val_target)
        hidden = np.broadcast_to(self.val_hidden, err.shape)
        phys = err * self.scale[None, :, None, None, None]
        mae = float(phys[hidden].mean())
        calibration = 1.0
        if scale is not None:
            sigma = LAPLACE_STD * scale
            ratio = err[hidden] / np.maximum(sigma[hidden], 1e-12)
            calibration = float(np.quantile(ratio, ONE_SIGMA)) if ratio.size else 1.0
        return mae, calibration

    def error_correlation(self, net: torch.nn.Module) -> dict[str, Any] | None:
        """How ``net``'s normalised errors on the re-hidden validation pixels correlate in
        space, time and across channels (:func:`seainpaint.metrics.error_correlation`);
        None without an uncertainty head or with too few validation pixels."""
        if not self.G.uncertainty or self.val_count < MIN_PAIRS:
            return None
        mu, scale = self._predict_validation(net)
        try:
            return error_correlation(mu - self.val_target, scale, self.val_hidden)
        except SeainpaintError:
            return None

    def record(self, losses: dict[str, float]) -> None:
        """Add one step's losses to the running sums reported with the next validation."""
        for key, value in losses.items():
            total, count = self._since_eval.get(key, (0.0, 0))
            self._since_eval[key] = (total + value, count + 1)

    @property
    def candidates(self) -> tuple[torch.nn.Module, ...]:
        """The generators validation may keep: the weight average (EMA), and the current
        weights unless the loss is a game alone.

        The average is smoother, the current weights are ahead of it while a regression
        loss still falls fast. A game with no regression term moves the current weights
        around its equilibrium from one step to the next, so it keeps only the average,
        as BigGAN and SAGAN evaluate theirs (the 45-minute run of
        ``benchmarks/bench_paper_gan.py`` in the README was made so).
        """
        if self.cfg.game_alone:
            return (self.ema.module,)
        return (self.ema.module, self.G)

    def evaluate_and_keep(self) -> float:
        """Validate the :attr:`candidates`; keep the best so far.

        The history records the better one's error (``val_mae``) and the weight
        average's (``val_mae_ema``).
        """
        best_here = None
        ema_mae = math.nan
        for net in self.candidates:
            mae, calibration = self.validate(net)
            if net is self.ema.module:
                ema_mae = mae
            if best_here is None or (math.isfinite(mae) and mae < best_here[0]):
                best_here = (mae, calibration, net)
        mae, calibration, net = best_here
        means = {k: round(total / count, 6) for k, (total, count) in self._since_eval.items()}
        self._since_eval = {}
        self.history.append({"step": self.step, "val_mae": mae, "val_mae_ema": ema_mae,
                             **means})
        if self.best_state is None or (math.isfinite(mae) and mae < self.best_mae):
            self.best_mae = mae if math.isfinite(mae) else self.best_mae
            self.best_step = self.step
            self.best_calibration = calibration
            self.best_state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
        return mae

    # ------------------------------------------------------------------ one step
    def train_step(self) -> dict[str, float]:
        """One optimisation step of the generator (and of the discriminators)."""
        cfg, rng = self.cfg, self.rng
        sampler = self.sampler
        positions = sampler.positions(rng, cfg.batch_size)
        batch = sampler.read(positions)
        length = batch.values.shape[1]
        sl = slice(batch.lead, batch.lead + batch.length)
        if cfg.rehide:
            extra = self._draw_masks(rng, cfg.batch_size, length, batch.sea)
            keep = batch.observed & extra
        else:
            keep = batch.observed
        inputs = self._inputs(batch, keep)
        self.G.train()
        out = self._generate(self.G, inputs, scale=self.G.uncertainty)
        mu, log_b = out if self.G.uncertainty else (out, None)

        dev = self.device
        target_np = np.nan_to_num(batch.values[:, sl]).transpose(0, 4, 1, 2, 3)
        target = torch.from_numpy(np.ascontiguousarray(target_np)).to(dev)
        losses: dict[str, float] = {}
        loss_g = torch.zeros((), device=dev)
        if cfg.rehide:
            hidden_np = (batch.observed & ~keep)[:, None, sl]
            hidden = torch.from_numpy(hidden_np.astype(np.float32)).to(dev)
            count = hidden.sum().clamp_min(1.0) * mu.shape[1]
            err = (mu - target).abs()
            recon = (err * hidden).sum() / count
            losses["l1"] = float(recon.detach())
            if cfg.recon_weight > 0:
                loss_g = loss_g + cfg.recon_weight * recon
            if log_b is not None:
                nll = ((err.detach() * torch.exp(-log_b) + log_b) * hidden).sum() / count
                loss_g = loss_g + nll
                losses["nll"] = float(nll.detach())
        if self.adversarial:
            loss_g = loss_g + self._adversarial(batch, positions, inputs, mu, losses)
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        if self.adversarial:
            # evidence for the game: how much gradient reaches the generator
            grads = [p.grad.detach().norm() for p in self.G.parameters() if p.grad is not None]
            losses["g_grad"] = float(torch.stack(grads).norm()) if grads else 0.0
        self.opt_g.step()
        self.ema.update_parameters(self.G)
        if self.gen_config["spectral_norm"]:
            refresh_spectral_norm(self.ema.module)  # the averaged u, v misjudge sigma
        self.step += 1
        return losses

    def _adversarial(self, batch: Batch, positions: list[tuple[int, int, int]],
                     inputs: dict[str, torch.Tensor], mu: torch.Tensor,
                     losses: dict[str, float]) -> torch.Tensor:
        """The discriminators' step, and the generator's adversarial loss."""
        cfg, dev = self.cfg, self.device
        sl = slice(batch.lead, batch.lead + batch.length)
        obs = batch.observed[:, sl]
        sea_t = torch.from_numpy(batch.sea[:, None, None].astype(np.float32)).to(dev)
        real_np = apply_measurement(batch.values[:, sl], obs[..., None], self.c).astype(np.float32)
        real = torch.from_numpy(np.ascontiguousarray(real_np.transpose(0, 4, 1, 2, 3))).to(dev)
        x_hat = compose(mu, inputs["y"], inputs["m"])  # G(y): kept pixels exactly
        if cfg.supervised is not None:
            assert self.clean is not None
            cpos = positions if cfg.supervised == "paired" else self.clean.positions(
                self.rng, cfg.batch_size)
            clean = self.clean.read(cpos)
            cvals = clean.values[:, sl]
            cobs = clean.observed[:, sl]
            real_np = apply_measurement(cvals, cobs[..., None], self.c).astype(np.float32)
            real = torch.from_numpy(np.ascontiguousarray(real_np.transpose(0, 4, 1, 2, 3))
                                    ).to(dev)
            fake = apply_measurement(x_hat, sea_t, self.c)
        else:
            fake = self.fake_observations(x_hat, positions)

        params = self._d_params()
        for p in params:
            p.requires_grad_(True)
        self.opt_d.zero_grad(set_to_none=True)
        fake_d = fake.detach()
        f_real, f_fake = self.Df(fold_time(real)), self.Df(fold_time(fake_d))
        loss_d = hinge_d(f_real, f_fake)
        losses["df_acc"] = patch_accuracy(f_real, f_fake)
        if self.Ds is not None:
            s_real = self.Ds(seq_feature(real, self.diff))
            s_fake = self.Ds(seq_feature(fake_d, self.diff))
            loss_d = loss_d + hinge_d(s_real, s_fake)
            losses["ds_acc"] = patch_accuracy(s_real, s_fake)
        loss_d.backward()
        self.opt_d.step()
        for p in params:
            p.requires_grad_(False)
        adv = -self.Df(fold_time(fake)).mean()
        if self.Ds is not None:
            adv = adv - self.Ds(seq_feature(fake, self.diff)).mean()
        losses["d"] = float(loss_d.detach())
        losses["adv"] = float(adv.detach())
        loss = cfg.adv_weight * adv
        if cfg.supervised == "paired":
            hidden = (1.0 - inputs["m"]) * sea_t
            l1 = ((mu - real).abs() * hidden).sum() / hidden.sum().clamp_min(1.0)
            losses["paired_l1"] = float(l1.detach())
            loss = loss + cfg.paired_weight * l1
        return loss

    def fake_observations(self, x_hat: torch.Tensor,
                          positions: list[tuple[int, int, int]]) -> torch.Tensor:
        """``ŷ = F(G(y), m″)`` for windows of ``x_hat`` ``(B, C, T, h, w)`` at ``positions``.

        ``m″`` is the field's own observed mask at each window's place at another random
        time of the training range: land (never observed) shows c as in the real
        windows, and the clouds keep the field's orientation, position and motion.
        """
        masks = self.sampler.observed_masks(self.rng, positions)
        m_fake = torch.from_numpy(masks[:, None].astype(np.float32)).to(x_hat.device)
        return apply_measurement(x_hat, m_fake, self.c)

    def _d_params(self) -> list[torch.nn.Parameter]:
        params: list[torch.nn.Parameter] = []
        for net in (self.Df, self.Ds):
            if net is not None:
                params += list(net.parameters())
        return params

    # ------------------------------------------------------------------ checkpoints
    def state(self) -> dict[str, Any]:
        """Everything needed to continue exactly: networks, optimisers, random states."""
        nets = {"G": self.G, "ema": self.ema, "Df": self.Df, "Ds": self.Ds}
        return {
            **{k: (v.state_dict() if v is not None else None) for k, v in nets.items()},
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict() if self.opt_d is not None else None,
            "step": self.step,
            "rng": self.rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
            "best_mae": self.best_mae,
            "best_step": self.best_step,
            "best_state": self.best_state,
            "best_calibration": self.best_calibration,
            "history": self.history,
            "config": self.cfg.to_json(),
        }

    def load_state(self, state: dict[str, Any], path: Path) -> None:
        """Continue from a :meth:`state` (refused when the options differ)."""
        try:
            saved = state["config"]
            mine = self.cfg.to_json()
            for key in ("arch", "variant", "base", "window", "patch", "batch_size", "reach",
                        "loss", "supervised", "generator_options"):
                if saved.get(key) != mine[key]:
                    raise TrainingError(
                        f"the checkpoint {str(path)!r} was made with {key}={saved.get(key)!r}, "
                        f"not {mine[key]!r}; use the same options to resume, or another "
                        "checkpoint_dir"
                    )
            self.G.load_state_dict(state["G"])
            self.ema.load_state_dict(state["ema"])
            for net, key in ((self.Df, "Df"), (self.Ds, "Ds")):
                if net is not None:
                    net.load_state_dict(state[key])
            self.opt_g.load_state_dict(state["opt_g"])
            if self.opt_d is not None:
                self.opt_d.load_state_dict(state["opt_d"])
            self.step = int(state["step"])
            self.rng.bit_generator.state = state["rng"]
            torch.set_rng_state(state["torch_rng"])
            self.best_mae = float(state["best_mae"])
            self.best_step = int(state["best_step"])
            self.best_state = state["best_state"]
            self.best_calibration = float(state["best_calibration"])
            self.history = list(state["history"])
        except TrainingError:
            raise
        except (KeyError, TypeError, ValueError, RuntimeError) as err:
            raise TrainingError(
                f"checkpoint {str(path)!r} does not fit this run ({type(err).__name__}: {err}); "
                "remove it or use another checkpoint_dir"
            ) from None

    def save_checkpoint(self, directory: Path) -> Path:
        """Write ``checkpoint.pt`` atomically (tensors and plain values only)."""
        from ..io.atomic import atomic_file

        path = directory / CHECKPOINT_FILE
        with atomic_file(path, overwrite=True) as tmp:
            torch.save(self.state(), tmp)
        return path


def load_checkpoint(path: Path, device: torch.device) -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True``: tensors and plain values, no code.

    Raises
    ------
    TrainingError
        The file is corrupt, truncated, or holds anything else (e.g. a pickled object
        that would run code).
    """
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as err:  # noqa: BLE001 - any failure to read is the same user error
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise TrainingError(
            f"cannot read checkpoint {str(path)!r}: {first[:200]}; it is corrupt or not a "
            "seainpaint checkpoint (only tensors and plain values are loaded)"
        ) from None
    if not isinstance(state, dict):
        raise TrainingError(f"checkpoint {str(path)!r} does not hold a training state")
    return state
