"""Where the fill's network runs: the torch device and threads, and a picklable predictor."""

from __future__ import annotations

import os
import threading
from typing import Any

import torch

from ..errors import DeviceError
from ..nn.generator import Generator, inference_copy

_MOVE_LOCK = threading.Lock()


def cpu_cores() -> int:
    """Number of CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def default_threads() -> int:
    """Torch threads a computation on the CPU uses by default.

    ``OMP_NUM_THREADS`` when it is set to a positive whole number (the usual way to share
    a machine between runs), else every core this process may use.
    """
    value = os.environ.get("OMP_NUM_THREADS", "").strip()
    if value.isdigit() and int(value) > 0:
        return min(int(value), cpu_cores())
    return cpu_cores()


def select_device(device: str | torch.device | None = "auto",
                  threads: int | None = None) -> torch.device:
    """Choose the torch device to compute on.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"`` (CUDA when present, else the CPU), ``"cpu"``, ``"cuda"``,
        ``"cuda:1"``...
    threads : int, optional
        On the CPU, the number of torch threads; default :func:`default_threads` (all the
        cores this process may use, or ``OMP_NUM_THREADS``) from the main thread, and one
        from any other thread (a dask task: the
        scheduler runs one task per core, so more would oversubscribe them).

    Returns
    -------
    torch.device

    Raises
    ------
    DeviceError
        Unknown device name, or CUDA asked for but not available.
    """
    if device is None or (isinstance(device, str) and device.lower() == "auto"):
        dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        try:
            dev = torch.device(device)
        except (RuntimeError, TypeError) as err:
            raise DeviceError(
                f"unknown device {device!r}; use 'auto', 'cpu' or 'cuda[:N]'"
            ) from err
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"device {str(device)!r} asked for, but CUDA is not available")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise DeviceError(
                f"device {str(device)!r} asked for, but only {torch.cuda.device_count()} "
                "CUDA device(s) are present"
            )
    elif dev.type == "cpu":
        # inside a dask task (a worker thread) one thread per task: the scheduler already
        # runs a task per core
        default = default_threads() if threading.current_thread() is threading.main_thread() else 1
        n = threads or default
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
    else:
        raise DeviceError(f"unsupported device type {dev.type!r}; use 'auto', 'cpu' or 'cuda'")
    return dev


class GeneratorPredictor:
    """A picklable ``predict(y, m[, context]) -> phi`` around a generator network.

    Spectral normalisation is folded into the weights
    (:func:`seainpaint.nn.inference_copy`), the network is put in eval mode, and it is
    moved to the device of its input on first use. Pickling sends the plain network
    (weights and config), so it can travel to ``dask.distributed`` workers.

    Parameters
    ----------
    generator : torch.nn.Module
        A generator from :func:`seainpaint.nn.build_generator` (or any module called as
        ``module(y, m)`` that pickles).
    step : float
        The nominal time step of the training data (in hours), for the context.

    Attributes
    ----------
    reach : int or None
        Frames of temporal context the generator is told about; None when it is told
        none (it then only sees ``y`` and ``m``).
    uncertainty : bool
        Whether it also predicts the log-scale of its error.
    """

    def __init__(self, generator: torch.nn.Module, step: float = 1.0) -> None:
        module = inference_copy(generator) if isinstance(generator, Generator) else generator
        self.module = module.eval()
        uses_context = isinstance(module, Generator) and module.prior != "none"
        self.reach = (module.reach or 0) if uses_context else None
        self.causal = uses_context and module.prior == "causal"
        self.uncertainty = bool(getattr(module, "uncertainty", False))
        self.step = float(step)

    def __call__(self, y: torch.Tensor, m: torch.Tensor,
                 context: tuple[torch.Tensor, torch.Tensor] | None = None,
                 return_scale: bool = False) -> Any:
        param = next(self.module.parameters(), None)
        if param is not None and param.device != y.device:
            with _MOVE_LOCK:
                self.module.to(y.device)
        if context is None and not return_scale:
            return self.module(y, m)
        return self.module(y, m, context, return_scale=return_scale)
