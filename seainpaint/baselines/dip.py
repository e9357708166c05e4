"""Deep Image Prior (Ulyanov, Vedaldi & Lempitsky 2017) for short sequences.

A small convolutional encoder–decoder with skip connections is fitted, from a fixed random
input, to the observed pixels of a short window of frames (the frames stacked as
channels); the structure of the network acts as the prior, and its output at the missing
pixels is the fill. No training data is needed; one network is fitted per window.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from tqdm.auto import tqdm

from ..errors import MethodError
from ..field import canonical, validate_field


def _build_net(in_channels: int, out_channels: int, width: int, depth: int, skip: int):
    import torch
    from torch import nn

    def block(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride=stride, padding=1, padding_mode="reflect"),
            nn.BatchNorm2d(cout),
            nn.LeakyReLU(0.2),
        )

    class Hourglass(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.down = nn.ModuleList()
            self.skips = nn.ModuleList()
            channels = in_channels
            for _ in range(depth):
                self.skips.append(block(channels, skip) if skip else nn.Identity())
                self.down.append(nn.Sequential(block(channels, width, 2), block(width, width)))
                channels = width
            self.up = nn.ModuleList(block(width + skip, width) for _ in range(depth))
            self.head = nn.Conv2d(width, out_channels, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            saved = []
            for down, sk in zip(self.down, self.skips, strict=True):
                saved.append((x.shape[-2:], sk(x) if skip else None))
                x = down(x)
            for up, (size, s) in zip(self.up, reversed(saved), strict=True):
                x = nn.functional.interpolate(x, size=tuple(size), mode="bilinear")
                if s is not None:
                    x = torch.cat([x, s], dim=1)
                x = up(x)
            return self.head(x)

    return Hourglass()


def _fit_window(
    values: np.ndarray,
    *,
    iterations: int,
    lr: float,
    width: int,
    depth: int,
    skip: int,
    noise_channels: int,
    input_noise: float,
    seed: int,
    device: str,
) -> np.ndarray:
    """Fit a DIP network to one ``(L, Y, X, C)`` window; return the full prediction."""
    import torch

    length, ny, nx, nc = values.shape
    observed = np.isfinite(values)
    mean = float(values[observed].mean())
    std = float(values[observed].std()) or 1.0
    target = np.where(observed, (values - mean) / std, 0.0)
    # frames stacked as channels: (1, L*C, Y, X)
    to_chw = lambda a: a.transpose(0, 3, 1, 2).reshape(1, length * nc, ny, nx)  # noqa: E731
    target_t = torch.from_numpy(to_chw(target).astype(np.float32)).to(device)
    weight_t = torch.from_numpy(to_chw(observed).astype(np.float32)).to(device)
    n_obs = weight_t.sum().clamp(min=1.0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = _build_net(noise_channels, length * nc, width, depth, skip).to(device)
        z = (torch.rand(1, noise_channels, ny, nx) * 0.1).to(device)
        opt = torch.optim.Adam(net.parameters(), lr=lr)
        for _ in range(iterations):
            opt.zero_grad(set_to_none=True)
            inp = z + input_noise * torch.randn_like(z) if input_noise else z
            out = net(inp)
            loss = (((out - target_t) * weight_t) ** 2).sum() / n_obs
            loss.backward()
            opt.step()
        with torch.no_grad():
            out = net(z)
    pred = out.detach().cpu().numpy().reshape(length, nc, ny, nx).transpose(0, 2, 3, 1)
    return pred.astype(np.float64) * std + mean


def deep_image_prior(
    obs: xr.DataArray,
    sequence_length: int = 8,
    iterations: int = 300,
    lr: float = 0.01,
    width: int = 32,
    depth: int = 3,
    skip: int = 4,
    noise_channels: int = 16,
    input_noise: float = 0.0,
    seed: int = 0,
    device: str = "cpu",
    num_threads: int | None = None,
    progress: bool = False,
) -> xr.DataArray:
    """Fill a field with Deep Image Prior, one network per window of frames.

    The time axis is cut into consecutive windows of ``sequence_length`` frames; for each,
    a fresh encoder–decoder (``depth`` stride-2 levels of ``width`` channels, BatchNorm,
    LeakyReLU, bilinear upsampling, ``skip``-channel skip connections) maps a fixed,
    seeded random input to the window's frames stacked as channels, and is fitted with
    Adam for ``iterations`` steps to the observed pixels (squared error, values normalised
    by the window's observed mean and std). Its output fills the gaps. Fewer iterations
    give smoother fills (DIP fits large scales first); with the defaults a 64 × 64 × 8
    window takes about 10 s on one busy CPU core (``num_threads=1``), far less on a GPU.

    Parameters
    ----------
    obs : xarray.DataArray
        Field ``(time, y, x[, channel])`` with NaN where missing.
    sequence_length : int
        Frames per window.
    iterations : int
        Optimisation steps per window.
    lr : float
        Adam learning rate.
    width, depth, skip, noise_channels : int
        Network size (see above).
    input_noise : float
        Standard deviation of the noise added to the input at each step (DIP's
        regularising perturbation; 0 disables).
    seed : int
        Seed of the input and the weights; the same seed gives the same fill.
    device : str
        Torch device, or ``"auto"`` (CUDA when available).
    num_threads : int, optional
        Torch CPU threads to use while fitting (restored afterwards); 1 is often fastest
        for these small networks on a busy machine. Default: leave torch's setting.
    progress : bool
        Show a progress bar over windows.

    Returns
    -------
    xarray.DataArray
        Prediction for every pixel (use through :func:`seainpaint.fill`).
    """
    validate_field(obs)
    if sequence_length < 1 or iterations < 0 or depth < 1 or width < 1 or noise_channels < 1:
        raise MethodError(
            "dip needs sequence_length >= 1, iterations >= 0, depth >= 1, width >= 1 and "
            f"noise_channels >= 1 (got {sequence_length}, {iterations}, {depth}, {width}, "
            f"{noise_channels})"
        )
    tyx, dims = canonical(obs)
    values = np.array(tyx.values, dtype=np.float64)
    values[np.isinf(values)] = np.nan  # infinite values are missing
    if dims.channel is None:
        values = values[..., None]
    out = np.empty_like(values)
    n_time = values.shape[0]
    with np.errstate(invalid="ignore"):
        counts = np.isfinite(values).sum(axis=0)
        pixel_mean = np.nansum(values, axis=0) / np.maximum(counts, 1)
    pixel_mean = np.where(counts > 0, pixel_mean, np.nanmean(values))
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    options = {
        "iterations": iterations,
        "lr": lr,
        "width": width,
        "depth": depth,
        "skip": skip,
        "noise_channels": noise_channels,
        "input_noise": input_noise,
        "device": device,
    }
    starts = list(range(0, n_time, sequence_length))
    previous_threads = torch.get_num_threads()
    if num_threads:
        torch.set_num_threads(int(num_threads))
    try:
        for i, start in enumerate(tqdm(starts, desc="dip", disable=not progress, leave=False)):
            window = slice(start, start + sequence_length)
            if not np.isfinite(values[window]).any():
                out[window] = pixel_mean  # nothing observed in the window
            else:
                out[window] = _fit_window(values[window], seed=seed + i, **options)
    finally:
        torch.set_num_threads(previous_threads)
    if dims.channel is None:
        out = out[..., 0]
    return tyx.copy(data=out.astype(tyx.dtype)).transpose(*obs.dims)
