"""Training of the inpainting generator (see :func:`train`).

``data`` reads windows and statistics, ``loop`` holds one run (the step, validation,
EMA, checkpoints), ``api`` the public :func:`train`.
"""

from __future__ import annotations

from .api import LOSSES, resolve_process, train, train_config
from .loop import CHECKPOINT_FILE, TrainConfig, TrainingError

__all__ = [
    "CHECKPOINT_FILE",
    "LOSSES",
    "TrainConfig",
    "TrainingError",
    "resolve_process",
    "train",
    "train_config",
]
