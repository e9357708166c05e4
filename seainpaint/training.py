"""The adversarial training loop of the unsupervised spatiotemporal inpainting GAN.

The game of the paper's eq. 4 with the hinge loss: real samples are observed sequences
``y``; fake samples are ``ŷ = F(G(y), m′)`` where ``G(y) = φ(y)·(1−m) + y·m`` and ``m′`` is
a fresh draw of the known occlusion process. A frame discriminator Df judges frames and a
sequence discriminator Ds judges whole sequences — or their frame differences when the
occlusion process is time dependent (§3.4). Land pixels (never observed) are masked in
both ``y`` and ``ŷ``.

Windows of ``window`` frames and ``patch``×``patch`` pixels are read lazily from the
field (a DataArray, dask-backed or not, or a Zarr/NetCDF store), so a year of data is never
loaded at once. Model selection uses no truth: a fixed set of observed pixels is hidden by
an extra draw of the occlusion process and the generator that reconstructs them best is
kept.
"""

from __future__ import annotations

import copy
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .errors import FieldError, SeainpaintError
from .field import canonical, field_dims
from .io.stores import open_field
from .occlusion import OcclusionProcess

CHECKPOINT_FILE = "checkpoint.pt"
VARIANTS = ("spatiotemporal", "static", "recurrent")
SUPERVISION = (None, "unpaired", "paired")


class TrainingError(SeainpaintError, ValueError):
    """Bad training options or data that cannot be trained on."""


# ---------------------------------------------------------------------------- data


def resolve_process(
    process: OcclusionProcess | dict[str, Any] | str | None, obs: xr.DataArray
) -> OcclusionProcess:
    """The occlusion process: given, or rebuilt from ``obs.attrs["seainpaint_occlusion"]``."""
    if isinstance(process, OcclusionProcess):
        return process
    if isinstance(process, str):
        process = json.loads(process)
    if isinstance(process, dict):
        return OcclusionProcess.from_config(process)
    if process is not None:
        raise TrainingError(f"process must be an OcclusionProcess, got {type(process).__name__}")
    text = obs.attrs.get("seainpaint_occlusion")
    if not text:
        raise TrainingError(
            f"field {obs.name!r} does not record its occlusion process (no "
            "'seainpaint_occlusion' attribute); pass process=, e.g. "
            "seainpaint.Cloud(lwp, threshold=70)"
        )
    try:
        return OcclusionProcess.from_config(json.loads(text))
    except SeainpaintError as err:
        raise TrainingError(
            f"cannot rebuild the occlusion process recorded in {obs.name!r}: {err}; pass "
            "process= (e.g. seainpaint.Cloud(lwp, threshold=70))"
        ) from None


def _stats(values: Any, channel_axis: bool) -> tuple[np.ndarray, ...]:
    """Per-channel mean, std, min, max of finite values and the land mask, in one pass."""
    import dask
    import dask.array as dsa

    arr = values if channel_axis else values[..., None]
    lib = dsa if isinstance(arr, dsa.Array) else np
    axes = (0, 1, 2)
    finite = lib.isfinite(arr)
    count = finite.sum(axis=axes)
    zero = lib.where(finite, arr, 0.0).astype(np.float64)
    total = zero.sum(axis=axes)
    total2 = (zero * zero).sum(axis=axes)
    vmin = lib.where(finite, arr, np.inf).min(axis=axes)
    vmax = lib.where(finite, arr, -np.inf).max(axis=axes)
    land = ~finite.all(axis=-1).any(axis=0)
    if lib is dsa:
        count, total, total2, vmin, vmax, land = dask.compute(
            count, total, total2, vmin, vmax, land
        )
    count = np.asarray(count, dtype=np.float64)
    if (count == 0).any():
        raise FieldError("the field has nothing observed in at least one channel")
    mean = np.asarray(total) / count
    var = np.maximum(np.asarray(total2) / count - mean**2, 0.0)
    vmin, vmax = np.asarray(vmin, np.float64), np.asarray(vmax, np.float64)
    return mean, np.sqrt(var), vmin, vmax, np.asarray(land)


class WindowSource:
    """Random windows ``(T, h, w, C)`` read lazily from a field.

    Parameters
    ----------
    da : xarray.DataArray
        The field (any backend); it is transposed to ``(time, y, x[, channel])``.
    window : int
        Frames per window.
    patch : (int, int)
        Patch height and width.
    land : numpy.ndarray, optional
        Boolean ``(Y, X)`` land mask (computed from the data when omitted).
    """

    def __init__(
        self,
        da: xr.DataArray,
        window: int,
        patch: tuple[int, int],
        land: np.ndarray | None = None,
    ) -> None:
        can, dims = canonical(da)
        self.dims = dims
        self.data = can.data  # numpy or dask: sliced per window, never loaded whole
        self.has_channel = dims.channel is not None
        self.shape = tuple(int(s) for s in can.shape[:3])
        self.window = int(window)
        self.patch = (int(patch[0]), int(patch[1]))
        self.land = land
        self.sea_weight: np.ndarray | None = None

    def read(self, t0: int, y0: int, x0: int, length: int | None = None) -> np.ndarray:
        """One window as float32 ``(T, h, w, C)`` with NaN where missing."""
        length = self.window if length is None else length
        ph, pw = self.patch
        block = self.data[t0 : t0 + length, y0 : y0 + ph, x0 : x0 + pw]
        block = np.asarray(block.compute() if hasattr(block, "compute") else block)
        block = block.astype(np.float32, copy=False)
        return block if self.has_channel else block[..., None]

    def draw_position(
        self, rng: np.random.Generator, t_range: tuple[int, int], min_sea: float = 0.25
    ) -> tuple[int, int, int]:
        """A random window position ``(t0, y0, x0)`` whose patch is mostly sea."""
        t_lo, t_hi = t_range
        n_t, n_y, n_x = self.shape
        ph, pw = self.patch
        best = None
        for _ in range(20):
            t0 = int(rng.integers(t_lo, t_hi - self.window + 1))
            y0 = int(rng.integers(0, n_y - ph + 1))
            x0 = int(rng.integers(0, n_x - pw + 1))
            if self.land is None:
                return t0, y0, x0
            sea = 1.0 - float(self.land[y0 : y0 + ph, x0 : x0 + pw].mean())
            if sea >= min_sea:
                return t0, y0, x0
            if best is None or sea > best[0]:
                best = (sea, (t0, y0, x0))
        return best[1]  # type: ignore[index]


# ---------------------------------------------------------------------------- options


@dataclass
class TrainConfig:
    """All the options of :func:`train` (stored in checkpoints and in the model)."""

    window: int = 24
    patch: tuple[int, int] = (64, 64)
    batch_size: int = 4
    arch: str = "fast"
    variant: str = "spatiotemporal"
    base: int | None = None
    recon_weight: float = 0.0
    paired_weight: float = 100.0
    supervised: str | None = None
    lr: float = 1e-4
    betas: tuple[float, float] = (0.0, 0.999)
    seed: int = 0
    eval_every: int = 50
    checkpoint_every: int = 200
    n_val: int = 8
    generator_options: dict[str, Any] = field(default_factory=dict)
    discriminator_options: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["patch"] = list(self.patch)
        out["betas"] = list(self.betas)
        return out


def _default_steps(source: WindowSource, cfg: TrainConfig, epochs: float | None) -> int | None:
    if epochs is None:
        return None
    n_t, n_y, n_x = source.shape
    per_epoch = max(n_t // cfg.window, 1) * math.ceil(n_y / cfg.patch[0]) * math.ceil(
        n_x / cfg.patch[1]
    )
    return max(1, math.ceil(epochs * per_epoch / cfg.batch_size))


# ---------------------------------------------------------------------------- the loop


def _hinge_d(real: Any, fake: Any) -> Any:
    import torch.nn.functional as fn

    return fn.relu(1.0 - real).mean() + fn.relu(1.0 + fake).mean()


def _frames(seq: Any) -> Any:
    """``(B, C, T, H, W)`` -> ``(B·T, C, H, W)`` for the frame discriminator."""
    b, c, t, h, w = seq.shape
    return seq.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)


def _seq_feature(seq: Any, diff: bool) -> Any:
    """What Ds sees: the sequence, or its frame differences (§3.4)."""
    return seq[:, :, 1:] - seq[:, :, :-1] if diff else seq


class _Trainer:
    """State of one training run (networks, optimizers, data, validation set)."""

    def __init__(
        self,
        source: WindowSource,
        clean: WindowSource | None,
        process: OcclusionProcess,
        cfg: TrainConfig,
        norm: dict[str, Any],
        device: Any,
        t_train: tuple[int, int],
        t_val: tuple[int, int],
    ) -> None:
        import torch

        from .nn import build_frame_discriminator, build_generator, build_sequence_discriminator

        self.torch = torch
        self.source, self.clean, self.process, self.cfg = source, clean, process, cfg
        self.device = device
        self.t_train, self.t_val = t_train, t_val
        self.mean = np.asarray(norm["mean"], np.float32)
        self.scale = np.asarray(norm["scale"], np.float32)
        self.c = float(process.fill_value)
        self.channels = int(len(norm["mean"]))
        self.diff = bool(process.time_dependent) and cfg.window > 1
        self.use_ds = cfg.variant != "static"
        self.sea = ~source.land
        torch.manual_seed(cfg.seed)
        self.gen_config: dict[str, Any] = {
            "arch": cfg.arch,
            "variant": cfg.variant,
            "channels": self.channels,
            **cfg.generator_options,
        }
        if cfg.base is not None:
            self.gen_config["base"] = int(cfg.base)
        d_config = {"channels": self.channels, "arch": cfg.arch, **cfg.discriminator_options}
        self.G = build_generator(self.gen_config).to(device)
        self.Df = build_frame_discriminator(d_config).to(device)
        self.Ds = build_sequence_discriminator(d_config).to(device) if self.use_ds else None
        adam = dict(lr=cfg.lr, betas=tuple(cfg.betas))
        self.opt_g = torch.optim.Adam(self.G.parameters(), **adam)
        d_params = list(self.Df.parameters()) + (
            list(self.Ds.parameters()) if self.Ds is not None else []
        )
        self.opt_d = torch.optim.Adam(d_params, **adam)
        self.rng = np.random.default_rng(cfg.seed)
        self.step = 0
        self.best_mae = math.inf
        self.best_step = -1
        self.best_state: dict[str, Any] | None = None
        self.history: list[dict[str, float]] = []
        self._mask_shape = self._choose_mask_shape()
        self._build_validation()

    # ------------------------------------------------------------------ sampling
    def _choose_mask_shape(self) -> tuple[int, int]:
        _, n_y, n_x = self.source.shape
        ph, pw = self.cfg.patch
        # masks are drawn on the whole grid (their spatial scale then matches the data's)
        # unless the grid is much larger than a patch
        if n_y * n_x <= 16 * ph * pw:
            return (n_y, n_x)
        return (ph, pw)

    def _draw_masks(self, rng: np.random.Generator, n: int, sea: np.ndarray) -> np.ndarray:
        """``n`` mask sequences ``(n, T, h, w)`` from the process, land masked."""
        t = self.cfg.window
        ph, pw = self.cfg.patch
        my, mx = self._mask_shape
        out = np.empty((n, t, ph, pw), dtype=bool)
        for i in range(n):
            full = self.process.sample((t, my, mx), rng)
            y0 = int(rng.integers(0, my - ph + 1))
            x0 = int(rng.integers(0, mx - pw + 1))
            out[i] = full[:, y0 : y0 + ph, x0 : x0 + pw]
        return out & sea[:, None]

    def _read_batch(
        self, source: WindowSource, positions: list[tuple[int, int, int]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Normalised values ``(B,T,h,w,C)`` (NaN missing), observed ``(B,T,h,w)``, sea."""
        ph, pw = self.cfg.patch
        vals = np.stack([source.read(t0, y0, x0) for t0, y0, x0 in positions])
        vals = (vals - self.mean) / self.scale
        sea = np.stack([self.sea[y0 : y0 + ph, x0 : x0 + pw] for _, y0, x0 in positions])
        observed = np.isfinite(vals).all(axis=-1) & sea[:, None]
        return vals, observed, sea

    def _to_torch(self, vals: np.ndarray, mask: np.ndarray) -> tuple[Any, Any]:
        """``y = F(x, m)`` and ``m`` as tensors ``(B,C,T,H,W)`` and ``(B,1,T,H,W)``."""
        torch = self.torch
        y = np.where(mask[..., None], vals, self.c).astype(np.float32)
        y_t = torch.from_numpy(np.ascontiguousarray(y.transpose(0, 4, 1, 2, 3))).to(self.device)
        m_t = torch.from_numpy(mask[:, None].astype(np.float32)).to(self.device)
        return y_t, m_t

    # ------------------------------------------------------------------ validation
    def _build_validation(self) -> None:
        """A fixed set of observed pixels hidden by an extra draw of the process."""
        rng = np.random.default_rng([self.cfg.seed, 7919])
        positions = [
            self.source.draw_position(rng, self.t_val) for _ in range(self.cfg.n_val)
        ]
        vals, observed, sea = self._read_batch(self.source, positions)
        extra = self._draw_masks(rng, len(positions), sea)
        self.val_input = self._to_torch(vals, observed & extra)
        self.val_target = np.nan_to_num(vals).transpose(0, 4, 1, 2, 3)  # (B,C,T,H,W)
        self.val_hidden = (observed & ~extra)[:, None]  # (B,1,T,H,W)
        self.val_count = int(self.val_hidden.sum())

    def validate(self) -> float:
        """MAE (physical units) on the re-hidden observed pixels of the validation set."""
        if self.val_count == 0:
            return math.nan
        torch = self.torch
        self.G.eval()
        errors = []
        with torch.inference_mode():
            y, m = self.val_input
            for i in range(0, y.shape[0], self.cfg.batch_size):
                phi = self.G(y[i : i + self.cfg.batch_size], m[i : i + self.cfg.batch_size])
                errors.append(phi.float().cpu().numpy())
        self.G.train()
        phi = np.concatenate(errors)
        err = np.abs(phi - self.val_target) * self.scale[None, :, None, None, None]
        hidden = np.broadcast_to(self.val_hidden, err.shape)
        return float(err[hidden].mean())

    # ------------------------------------------------------------------ one step
    def train_step(self) -> dict[str, float]:
        torch = self.torch
        from .nn import compose

        cfg = self.cfg
        rng = self.rng
        positions = [self.source.draw_position(rng, self.t_train) for _ in range(cfg.batch_size)]
        vals, observed, sea = self._read_batch(self.source, positions)
        y, m = self._to_torch(vals, observed)
        sea_t = torch.from_numpy(sea[:, None, None].astype(np.float32)).to(self.device)

        # the generator's input: with recon_weight, half of the batch has extra observed
        # pixels hidden by another draw of the process (self-supervised targets)
        y_in, m_in = y, m
        rehidden = None
        if cfg.recon_weight > 0:
            extra = self._draw_masks(rng, cfg.batch_size, sea)
            extra[: cfg.batch_size // 2] = True
            m_in_np = observed & extra
            y_in, m_in = self._to_torch(vals, m_in_np)
            rehidden = torch.from_numpy((observed & ~m_in_np)[:, None].astype(np.float32)).to(
                self.device
            )

        # real samples for the discriminators, and the masks of the fake observations
        clean_t = None
        if cfg.supervised is not None:
            cpos = positions if cfg.supervised == "paired" else [
                self.clean.draw_position(rng, self.t_train) for _ in range(cfg.batch_size)
            ]
            clean_vals, clean_observed, _ = self._read_batch(self.clean, cpos)
            real, _ = self._to_torch(clean_vals, clean_observed)
            clean_t = real
        else:
            real = y
            m_fake_np = self._draw_masks(rng, cfg.batch_size, sea)
            m_fake = torch.from_numpy(m_fake_np[:, None].astype(np.float32)).to(self.device)

        phi = self.G(y_in, m_in)
        x_hat = compose(phi, y, m)  # G(y): observed pixels of y kept exactly
        if cfg.supervised is None:
            fake = x_hat * m_fake + self.c * (1.0 - m_fake)  # ŷ = F(G(y), m′ ∧ sea)
        else:
            fake = x_hat * sea_t + self.c * (1.0 - sea_t)  # land masked as in the clean data

        # ---- discriminators
        for p in self._d_params():
            p.requires_grad_(True)
        self.opt_d.zero_grad(set_to_none=True)
        fake_d = fake.detach()
        loss_df = _hinge_d(self.Df(_frames(real)), self.Df(_frames(fake_d)))
        loss_d = loss_df
        loss_ds = torch.zeros((), device=self.device)
        if self.Ds is not None:
            loss_ds = _hinge_d(
                self.Ds(_seq_feature(real, self.diff)), self.Ds(_seq_feature(fake_d, self.diff))
            )
            loss_d = loss_d + loss_ds
        loss_d.backward()
        self.opt_d.step()

        # ---- generator
        for p in self._d_params():
            p.requires_grad_(False)
        self.opt_g.zero_grad(set_to_none=True)
        loss_adv = -self.Df(_frames(fake)).mean()
        if self.Ds is not None:
            loss_adv = loss_adv - self.Ds(_seq_feature(fake, self.diff)).mean()
        loss_g = loss_adv
        out = {"d": float(loss_d.detach()), "g_adv": float(loss_adv.detach())}
        if rehidden is not None:
            n = rehidden.sum().clamp_min(1.0)
            recon = ((phi - y).abs() * rehidden).sum() / (n * self.channels)
            loss_g = loss_g + cfg.recon_weight * recon
            out["recon"] = float(recon.detach())
        if cfg.supervised == "paired":
            hidden = (1.0 - m) * sea_t
            n = hidden.sum().clamp_min(1.0)
            l1 = ((phi - clean_t).abs() * hidden).sum() / (n * self.channels)
            loss_g = loss_g + cfg.paired_weight * l1
            out["l1"] = float(l1.detach())
        loss_g.backward()
        self.opt_g.step()
        self.step += 1
        return out

    def _d_params(self) -> list[Any]:
        params = list(self.Df.parameters())
        if self.Ds is not None:
            params += list(self.Ds.parameters())
        return params

    # ------------------------------------------------------------------ selection
    def evaluate_and_keep(self) -> float:
        mae = self.validate()
        self.history.append({"step": self.step, "val_mae": mae})
        if self.best_state is None or (math.isfinite(mae) and mae < self.best_mae) or (
            not math.isfinite(mae)
        ):
            self.best_mae = mae if math.isfinite(mae) else self.best_mae
            self.best_step = self.step
            self.best_state = {k: v.detach().cpu().clone() for k, v in self.G.state_dict().items()}
        return mae

    # ------------------------------------------------------------------ checkpoints
    def state(self) -> dict[str, Any]:
        torch = self.torch
        return {
            "G": self.G.state_dict(),
            "Df": self.Df.state_dict(),
            "Ds": self.Ds.state_dict() if self.Ds is not None else None,
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "step": self.step,
            "rng": self.rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
            "best_mae": self.best_mae,
            "best_step": self.best_step,
            "best_state": self.best_state,
            "history": self.history,
            "config": self.cfg.to_json(),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        torch = self.torch
        saved = state["config"]
        for key in ("arch", "variant", "base", "window", "patch", "batch_size", "supervised"):
            mine = self.cfg.to_json()[key]
            if saved.get(key) != mine:
                raise TrainingError(
                    f"the checkpoint was made with {key}={saved.get(key)!r}, not {mine!r}; "
                    "use the same options to resume, or another checkpoint_dir"
                )
        self.G.load_state_dict(state["G"])
        self.Df.load_state_dict(state["Df"])
        if self.Ds is not None:
            self.Ds.load_state_dict(state["Ds"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.step = int(state["step"])
        self.rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])
        self.best_mae = float(state["best_mae"])
        self.best_step = int(state["best_step"])
        self.best_state = state["best_state"]
        self.history = list(state["history"])

    def save_checkpoint(self, directory: Path) -> Path:
        torch = self.torch
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / CHECKPOINT_FILE
        tmp = directory / f".{CHECKPOINT_FILE}.tmp-{os.getpid()}"
        torch.save(self.state(), tmp)
        os.replace(tmp, path)
        return path


# ---------------------------------------------------------------------------- public API


def train(
    obs: xr.DataArray | str | os.PathLike[str],
    *,
    variable: str | None = None,
    process: OcclusionProcess | dict[str, Any] | str | None = None,
    epochs: float | None = None,
    steps: int | None = None,
    max_minutes: float | None = None,
    window: int = 24,
    patch: int | tuple[int, int] = 64,
    batch_size: int = 4,
    arch: str = "fast",
    variant: str = "spatiotemporal",
    base: int | None = None,
    recon_weight: float = 0.0,
    supervised: str | None = None,
    clean: xr.DataArray | str | os.PathLike[str] | None = None,
    paired_weight: float = 100.0,
    lr: float = 1e-4,
    betas: tuple[float, float] = (0.0, 0.999),
    seed: int = 0,
    device: Any = "auto",
    checkpoint_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
    progress: bool = True,
    eval_every: int = 50,
    checkpoint_every: int = 200,
    n_val: int = 8,
    generator_options: dict[str, Any] | None = None,
    discriminator_options: dict[str, Any] | None = None,
) -> Any:
    """Train the unsupervised spatiotemporal inpainting GAN on cloudy observations.

    Parameters
    ----------
    obs : xarray.DataArray or path
        Observed field ``(time, y, x[, channel])`` with NaN where missing (in memory or
        dask-backed), or a Zarr store / NetCDF file holding it (see ``variable``).
    variable : str, optional
        Variable to read from a store.
    process : OcclusionProcess, dict or JSON str, optional
        The known occlusion process; by default rebuilt from
        ``obs.attrs["seainpaint_occlusion"]``.
    epochs, steps, max_minutes : optional
        When to stop: after ``steps`` optimizer steps (in total, counting steps of a
        resumed run), after ``epochs`` passes over the data's windows, or when the time
        budget ``max_minutes`` is spent — whichever comes first. With none of them, 1000
        steps.
    window : int
        Frames per training sequence T.
    patch : int or (int, int)
        Spatial patch size (clipped to the grid).
    batch_size : int
        Sequences per step.
    arch : {"fast", "paper"}
        Generator architecture.
    variant : {"spatiotemporal", "static", "recurrent"}
        Generator variant; ``"static"`` fills frame by frame and trains without Ds.
    base : int, optional
        Base number of channels of the generator (architecture default when None).
    recon_weight : float
        Weight of a self-supervised L1 term on observed pixels re-hidden by an extra draw
        of the process (no truth used). 0 is the pure adversarial game of the paper.
    supervised : {None, "unpaired", "paired"}
        Supervised variants of the paper: the discriminators see clean sequences ``x``
        against ``G(y)``; ``"paired"`` adds an L1 term to the clean values at the same
        place and time (weight ``paired_weight``). Both need ``clean``.
    clean : xarray.DataArray or path, optional
        Clean field on the same grid as ``obs`` (supervised variants only).
    lr, betas : float, (float, float)
        Adam settings of G, Df and Ds.
    seed : int
        Seed of the initialisation, of the window sampling and of the mask draws.
    device : str or torch.device
        ``"auto"`` (CUDA when present, else every CPU core), ``"cpu"``, ``"cuda"``...
    checkpoint_dir : path, optional
        Where ``checkpoint.pt`` (every network, optimizer, the step and the random
        state) is written every ``checkpoint_every`` steps and at the end.
    resume : bool
        Continue from ``checkpoint_dir/checkpoint.pt`` when it exists.
    progress : bool
        Show a progress bar with the losses and the validation error.
    eval_every : int
        Steps between two evaluations of the validation error (model selection).
    n_val : int
        Number of validation windows.
    generator_options, discriminator_options : dict, optional
        Extra keys passed to :func:`seainpaint.nn.build_generator` and to the
        discriminator builders (e.g. ``{"base": 8}`` for lighter discriminators).

    Returns
    -------
    InpaintModel
        The generator that reconstructed the validation pixels best.
    """
    import torch

    from .inference import select_device
    from .model import InpaintModel, data_summary, package_versions

    started = time.monotonic()
    da = open_field(obs, variable)
    dims = field_dims(da)
    if da.dtype.kind != "f":
        raise FieldError(f"field {da.name!r} has dtype {da.dtype}; a float field is needed")
    if variant not in VARIANTS:
        raise TrainingError(f"variant={variant!r}; choose one of {VARIANTS}")
    if supervised not in SUPERVISION:
        raise TrainingError(f"supervised={supervised!r}; choose None, 'unpaired' or 'paired'")
    if supervised is not None and clean is None:
        raise TrainingError(f"supervised={supervised!r} needs the clean field: pass clean=")
    if supervised is None and clean is not None:
        raise TrainingError("clean= is only used by the supervised variants; pass supervised=")
    for name, value in (("steps", steps), ("epochs", epochs), ("max_minutes", max_minutes)):
        if value is not None and value <= 0:
            raise TrainingError(f"{name}={value!r} must be positive")
    if resume and checkpoint_dir is None:
        raise TrainingError("resume=True needs checkpoint_dir=")
    proc = resolve_process(process, da)

    n_t, n_y, n_x = (da.sizes[dims.time], da.sizes[dims.y], da.sizes[dims.x])
    window = min(int(window), n_t)
    if window < 2 and variant != "static":
        raise TrainingError(f"the field has {n_t} time step(s); a sequence model needs >= 2")
    ph, pw = (patch, patch) if isinstance(patch, int) else patch
    ph, pw = min(int(ph), n_y), min(int(pw), n_x)
    cfg = TrainConfig(
        window=window,
        patch=(ph, pw),
        batch_size=int(batch_size),
        arch=arch,
        variant=variant,
        base=base,
        recon_weight=float(recon_weight),
        paired_weight=float(paired_weight),
        supervised=supervised,
        lr=float(lr),
        betas=(float(betas[0]), float(betas[1])),
        seed=int(seed),
        eval_every=max(int(eval_every), 1),
        checkpoint_every=max(int(checkpoint_every), 1),
        n_val=max(int(n_val), 1),
        generator_options=dict(generator_options or {}),
        discriminator_options=dict(discriminator_options or {}),
    )

    dev = select_device(device)  # on the CPU: one torch thread per available core

    # statistics: one pass over the data (lazy reductions on dask input)
    can, _ = canonical(da)
    mean, std, vmin, vmax, land = _stats(can.data, dims.channel is not None)
    if land.all():
        raise FieldError(f"field {da.name!r} has nothing observed: every value is NaN")
    std = np.where(std > 0, std, 1.0)
    # map the observed range into [-0.8, 0.8], inside the generator's tanh range
    spread = np.maximum(np.abs(vmax - mean), np.abs(vmin - mean))
    scale = np.where(spread > 0, spread / 0.8, 1.0)
    norm = {"mean": mean.tolist(), "std": std.tolist(), "scale": scale.tolist()}
    source = WindowSource(da, window, (ph, pw), land=land)

    clean_source = None
    if clean is not None:
        clean_da = open_field(clean, variable if not isinstance(clean, xr.DataArray) else None)
        cdims = field_dims(clean_da)
        cshape = tuple(clean_da.sizes[d] for d in cdims.canonical)
        oshape = tuple(da.sizes[d] for d in dims.canonical)
        if cshape[1:] != oshape[1:] or (supervised == "paired" and cshape[0] != oshape[0]):
            raise TrainingError(
                f"the clean field's shape {cshape} does not match the observations' {oshape}"
            )
        clean_source = WindowSource(clean_da, window, (ph, pw), land=land)

    # validation windows: the last tenth of the time axis when there is enough data
    n_val_frames = max(window, n_t // 10) if n_t >= 5 * window else 0
    t_train = (0, n_t - n_val_frames)
    t_val = (n_t - n_val_frames, n_t) if n_val_frames else (0, n_t)

    trainer = _Trainer(source, clean_source, proc, cfg, norm, dev, t_train, t_val)
    ckpt_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
    if resume and ckpt_dir is not None and (ckpt_dir / CHECKPOINT_FILE).exists():
        state = torch.load(ckpt_dir / CHECKPOINT_FILE, map_location=dev, weights_only=False)
        trainer.load_state(state)

    total = steps
    from_epochs = _default_steps(source, cfg, epochs)
    if from_epochs is not None:
        total = from_epochs if total is None else min(total, from_epochs)
    if total is None and max_minutes is None:
        total = 1000
    deadline = started + 60.0 * max_minutes if max_minutes is not None else math.inf

    from tqdm.auto import tqdm

    bar = tqdm(
        total=total,
        initial=trainer.step,
        disable=not progress,
        desc=f"train {arch}/{variant}",
        unit="step",
    )
    if trainer.best_state is None:
        trainer.evaluate_and_keep()
    stopped_by = "steps"
    mae = trainer.best_mae
    trainer.G.train()
    try:
        while total is None or trainer.step < total:
            if time.monotonic() >= deadline:
                stopped_by = "max_minutes"
                break
            losses = trainer.train_step()
            bar.update(1)
            if trainer.step % cfg.eval_every == 0:
                mae = trainer.evaluate_and_keep()
            if ckpt_dir is not None and trainer.step % cfg.checkpoint_every == 0:
                trainer.save_checkpoint(ckpt_dir)
            bar.set_postfix(
                {k: f"{v:.3f}" for k, v in losses.items()} | {"val_mae": f"{mae:.4g}"},
                refresh=False,
            )
    finally:
        bar.close()
    if not trainer.history or trainer.history[-1]["step"] != trainer.step:
        trainer.evaluate_and_keep()
    if ckpt_dir is not None:
        trainer.save_checkpoint(ckpt_dir)

    generator = trainer.G
    if trainer.best_state is not None:
        generator.load_state_dict(trainer.best_state)
    generator = generator.cpu().eval()
    config = {
        "generator": trainer.gen_config,
        "window": window,
        "patch": [ph, pw],
        "fill_value": float(proc.fill_value),
        "normalization": norm,
        "process": proc.to_config(),
        "data": data_summary(da),
        "training": {
            **cfg.to_json(),
            "steps": trainer.step,
            "stopped_by": stopped_by,
            "best_step": trainer.best_step,
            "best_val_mae": trainer.best_mae if math.isfinite(trainer.best_mae) else None,
            "history": [
                {"step": h["step"], "val_mae": v if math.isfinite(v) else None}
                for h in trainer.history
                for v in (h["val_mae"],)
            ],
            "wall_seconds": round(time.monotonic() - started, 2),
            "device": str(dev),
        },
        "versions": package_versions(),
        "label": f"InpaintModel({arch}, {variant}"
        + (f", {supervised}" if supervised else "")
        + ")",
    }
    return InpaintModel(generator, copy.deepcopy(config))


def run_train_command(
    store: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    variable: str | None = None,
    process: str | None = None,
    lwp: str | os.PathLike[str] | None = None,
    threshold: float | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
    overwrite: bool = False,
    echo: Any = print,
    **options: Any,
) -> Path:
    """What ``seainpaint train STORE -o MODEL`` does: train, then save the model.

    The occlusion process is ``process`` (JSON), or ``Cloud(lwp, threshold)``, or the one
    recorded in the store's ``seainpaint_occlusion`` attribute. Checkpoints go to
    ``checkpoint_dir`` (default ``OUTPUT.checkpoints`` next to ``OUTPUT``).
    """
    from .errors import OutputExistsError
    from .occlusion import Cloud, process_from_json

    out = Path(output)
    if out.exists() and not (overwrite or resume):
        raise OutputExistsError(f"model directory {str(out)!r} exists; pass --overwrite")
    if process is not None and lwp is not None:
        raise TrainingError("give either --process or --lwp/--threshold, not both")
    proc: OcclusionProcess | None = None
    if process is not None:
        try:
            proc = process_from_json(process)
        except json.JSONDecodeError as err:
            raise TrainingError(f"--process is not valid JSON: {err}") from None
    elif lwp is not None:
        if threshold is None:
            raise TrainingError("--lwp needs --threshold (g m-2)")
        proc = Cloud(lwp, threshold=threshold)
    elif threshold is not None:
        raise TrainingError("--threshold needs --lwp")
    ckpt = Path(checkpoint_dir) if checkpoint_dir else out.parent / f"{out.name}.checkpoints"
    model = train(
        store, variable=variable, process=proc, checkpoint_dir=ckpt, resume=resume, **options
    )
    model.save(out, overwrite=True)
    info = model.config["training"]
    echo(
        f"wrote {out}: {info['steps']} steps ({info['stopped_by']}), best validation MAE "
        f"{info['best_val_mae']} at step {info['best_step']}; checkpoints in {ckpt}"
    )
    return out
