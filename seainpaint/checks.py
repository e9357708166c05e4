"""Checks of option values shared by the modules that parse options (fill, training,
network configurations), so that each rule is written once."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["is_int_at_least"]


def is_int_at_least(value: Any, minimum: int = 1, *, numpy: bool = True) -> bool:
    """Whether ``value`` is a whole number (not a bool) of at least ``minimum``.

    ``numpy=False`` accepts Python ints only (values stored in JSON configurations).
    """
    kinds = (int, np.integer) if numpy else int
    return isinstance(value, kinds) and not isinstance(value, bool) and value >= minimum
