"""Physically grounded synthetic SST and LWP sequences, seeded, for tests, demo and benchmarks.

SST: surface quasi-geostrophic (SQG) turbulence, pseudo-spectral on a doubly periodic
grid. The surface buoyancy anomaly θ is advected by the SQG velocity (ψ̂ = −θ̂/|k|) and
stirs a large-scale meridional temperature gradient Γ, which keeps the turbulence alive
(∂θ/∂t + J(ψ, θ) + Γ ∂ψ/∂x = −ν∇⁸θ − r θ). The SST is the gradient plus θ plus a
diurnal cycle. Consecutive hourly frames are strongly but not perfectly correlated.

LWP: a log-normal, spatially correlated cloud field: a Gaussian random field with a
power-law spectrum, advected by a uniform wind and evolving as a spectral AR(1) process,
exponentiated with parameters chosen so that LWP thresholds 55–80 g m-2 give roughly
80 %–15 % cloud cover, as in the paper's Table 2a.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

# log-normal LWP: P(LWP > 55) = 0.80 and P(LWP > 80) = 0.15
_LWP_SIGMA = float(np.log(80 / 55) / (0.8416 + 1.0364))
_LWP_MU = float(np.log(55) + 0.8416 * _LWP_SIGMA)

# default SQG time steps between two frames, of sqg_anomaly and of sst (which passes its
# own value on to sqg_anomaly)
_STEPS_PER_FRAME = 4

# name and CF attributes of what each generator returns (its call is added as "source")
_VARIABLES: dict[str, tuple[str, dict[str, str]]] = {
    "sst": (
        "thetao",
        {
            "standard_name": "sea_surface_temperature",
            "long_name": "synthetic hourly sea surface temperature (SQG turbulence)",
            "units": "degree_Celsius",
        },
    ),
    "lwp": (
        "lwp",
        {
            "standard_name": "atmosphere_mass_content_of_cloud_liquid_water",
            "long_name": "synthetic liquid water path",
            "units": "g m-2",
        },
    ),
}


def _name_and_attrs(generator: str, seed: int) -> dict[str, Any]:
    """``name`` and ``attrs`` of the DataArray that ``generator(seed=seed)`` returns."""
    name, attrs = _VARIABLES[generator]
    source = f"seainpaint.synthetic.{generator}(seed={seed})"
    return {"name": name, "attrs": {**attrs, "source": source}}


def _wavenumbers(n: int) -> tuple[np.ndarray, np.ndarray]:
    k = np.fft.fftfreq(n, d=1.0 / n) * 2 * np.pi / n  # radians per pixel
    kr = np.fft.rfftfreq(n, d=1.0 / n) * 2 * np.pi / n
    ky, kx = np.meshgrid(k, kr, indexing="ij")
    return ky, kx


def _grid_coords(size: int, region: tuple[float, float, float, float]) -> dict[str, np.ndarray]:
    south, north, west, east = region
    dlat = (north - south) / size
    dlon = (east - west) / size
    lat = south + dlat * (np.arange(size) + 0.5)
    lon = west + dlon * (np.arange(size) + 0.5)
    return {"latitude": lat, "longitude": lon}


def sqg_anomaly(
    n_time: int,
    size: int = 64,
    *,
    seed: int = 0,
    steps_per_frame: int = _STEPS_PER_FRAME,
    spinup_steps: int = 400,
    dt: float = 0.1,
    forcing: float = 0.3,
    drag: float = 0.05,
) -> np.ndarray:
    """Surface buoyancy anomaly from forced SQG turbulence, shape ``(n_time, size, size)``.

    Unit variance; time step chosen for stability; Adams–Bashforth 2 with an
    exponential hyperviscous filter.
    """
    rng = np.random.default_rng(seed)
    n = size
    ky, kx = _wavenumbers(n)
    kmag = np.hypot(kx, ky)
    kmag_safe = np.where(kmag == 0, 1.0, kmag)
    theta_h = np.zeros(kmag.shape, dtype=complex)  # spun up from rest by the forcing
    kmax = kmag.max()
    # exponential filter removing the grid-scale enstrophy (standard pseudo-spectral choice)
    filt = np.exp(-36.0 * (kmag / kmax) ** 8)
    dealias = (np.abs(kx) < (2 / 3) * np.pi) & (np.abs(ky) < (2 / 3) * np.pi)
    # stochastic forcing, white in time, on an annulus of 4-8 cycles per domain,
    # balanced by a linear drag: statistically steady turbulence
    cycles = kmag * n / (2 * np.pi)
    annulus = ((cycles >= 4) & (cycles <= 8)).astype(float)
    forcing_amp = forcing / np.sqrt(max(annulus.sum(), 1.0)) * n

    def tendency(th_h: np.ndarray) -> np.ndarray:
        psi_h = -th_h / kmag_safe
        psi_h[0, 0] = 0
        u = np.fft.irfft2(-1j * ky * psi_h, s=(n, n))
        v = np.fft.irfft2(1j * kx * psi_h, s=(n, n))
        tx = np.fft.irfft2(1j * kx * th_h, s=(n, n))
        ty = np.fft.irfft2(1j * ky * th_h, s=(n, n))
        adv_h = np.fft.rfft2(u * tx + v * ty) * dealias
        return -adv_h - drag * th_h

    prev = tendency(theta_h)
    frames = np.empty((n_time, n, n))
    total = spinup_steps + n_time * steps_per_frame
    frame_i = 0
    for step in range(total):
        cur = tendency(theta_h)
        noise = rng.standard_normal(annulus.shape) + 1j * rng.standard_normal(annulus.shape)
        kick = np.sqrt(dt) * forcing_amp * annulus * noise
        theta_h = (theta_h + dt * (1.5 * cur - 0.5 * prev) + kick) * filt
        prev = cur
        if step >= spinup_steps and (step - spinup_steps) % steps_per_frame == 0:
            frames[frame_i] = np.fft.irfft2(theta_h, s=(n, n))
            frame_i += 1
    frames -= frames.mean()
    frames /= frames.std()
    return frames


def sst(
    n_time: int = 24,
    size: int = 64,
    *,
    seed: int = 0,
    start: str = "2018-01-01T00:30",
    region: tuple[float, float, float, float] = (20.0, 25.25, -40.0, -34.75),
    mean: float = 24.0,
    gradient: float = 1.5,
    eddy_amplitude: float = 0.35,
    diurnal_amplitude: float = 0.15,
    steps_per_frame: int = _STEPS_PER_FRAME,
    land: np.ndarray | None = None,
) -> xr.DataArray:
    """Synthetic hourly SST in °C on a lat-lon grid.

    Parameters
    ----------
    n_time : int
        Number of hourly frames.
    size : int
        Grid edge in pixels (the grid is ``size × size``).
    seed : int
        Seed: the same seed gives the same field.
    start : str
        Time of the first frame.
    region : (south, north, west, east)
        Bounds in degrees; the paper's training region by default.
    mean, gradient, eddy_amplitude, diurnal_amplitude : float
        Mean SST, north–south temperature difference across the domain, standard
        deviation of the SQG eddies and amplitude of the diurnal cycle, all in °C.
    steps_per_frame : int
        SQG time steps between frames (larger: less correlated frames).
    land : numpy.ndarray of bool, optional
        ``(size, size)`` land mask; land pixels are NaN at every time.

    Returns
    -------
    xarray.DataArray
        ``(time, latitude, longitude)`` float32, units ``degree_Celsius``, CF attributes.
    """
    anomaly = sqg_anomaly(n_time, size, seed=seed, steps_per_frame=steps_per_frame)
    coords = _grid_coords(size, region)
    lat = coords["latitude"]
    # warmer to the south (equatorward)
    meridional = mean - gradient * (lat - lat.mean()) / max(np.ptp(lat), 1e-9)
    times = pd.date_range(start, periods=n_time, freq="h")
    hours = (times.hour + times.minute / 60.0).to_numpy()
    lon_mean = float(coords["longitude"].mean())
    local_solar = (hours + lon_mean / 15.0) % 24
    diurnal = diurnal_amplitude * np.cos(2 * np.pi * (local_solar - 15.0) / 24.0)
    values = meridional[None, :, None] + eddy_amplitude * anomaly + diurnal[:, None, None]
    values = values.astype(np.float32)
    if land is not None:
        land = np.asarray(land, dtype=bool)
        if land.shape != (size, size):
            raise ValueError(f"land mask shape {land.shape} != ({size}, {size})")
        values[:, land] = np.nan
    return xr.DataArray(
        values,
        dims=("time", "latitude", "longitude"),
        coords={
            "time": ("time", times.to_numpy(), {"standard_name": "time", "axis": "T"}),
            "latitude": (
                "latitude",
                lat,
                {"standard_name": "latitude", "units": "degrees_north", "axis": "Y"},
            ),
            "longitude": (
                "longitude",
                coords["longitude"],
                {"standard_name": "longitude", "units": "degrees_east", "axis": "X"},
            ),
        },
        **_name_and_attrs("sst", seed),
    )


def lwp(
    n_time: int = 24,
    size: int = 64,
    *,
    seed: int = 0,
    correlation: float = 0.97,
    wind: tuple[float, float] = (0.3, 0.2),
    slope: float = 3.5,
    dx: float = 50.0,
    dt: float = 60.0,
) -> xr.DataArray:
    """Synthetic liquid water path (g m-2): log-normal, correlated, advected, evolving.

    Parameters
    ----------
    n_time : int
        Number of frames.
    size : int
        Grid edge in pixels.
    seed : int
        Seed.
    correlation : float
        Lag-one correlation of the spectral AR(1) evolution of each Fourier mode.
    wind : (float, float)
        Advection in pixels per frame along (y, x).
    slope : float
        Power-law slope of the spectrum of the underlying Gaussian field.
    dx, dt : float
        Grid spacing (m) and time step (s) used for the coordinates.

    Returns
    -------
    xarray.DataArray
        ``(time, y, x)`` float32 in g m-2, CF attributes.
    """
    rng = np.random.default_rng(seed)
    n = size
    ky, kx = _wavenumbers(n)
    kmag = np.hypot(kx, ky)
    k0 = 2 * np.pi * 3 / n
    amp = (1 + (kmag / k0) ** 2) ** (-slope / 2)
    amp[0, 0] = 0.0

    def noise() -> np.ndarray:
        return (rng.standard_normal(amp.shape) + 1j * rng.standard_normal(amp.shape)) * amp

    state = noise()
    innov = np.sqrt(1 - correlation**2)
    shift = np.exp(-1j * (ky * wind[0] + kx * wind[1]))
    out = np.empty((n_time, n, n), dtype=np.float32)
    for t in range(n_time):
        g = np.fft.irfft2(state, s=(n, n))
        g = (g - g.mean()) / g.std()
        out[t] = np.exp(_LWP_MU + _LWP_SIGMA * g)
        state = correlation * state * shift + innov * noise()
    return xr.DataArray(
        out,
        dims=("time", "y", "x"),
        coords={
            "time": ("time", np.arange(n_time) * dt, {"units": "s", "long_name": "time"}),
            "y": ("y", (np.arange(n) + 0.5) * dx, {"units": "m"}),
            "x": ("x", (np.arange(n) + 0.5) * dx, {"units": "m"}),
        },
        **_name_and_attrs("lwp", seed),
    )
