"""Checks of option values shared by the modules that parse options (fill, training,
network configurations), so that each rule is written once."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["first_not_int_at_least", "is_int_at_least"]


def is_int_at_least(value: Any, minimum: int = 1, *, numpy: bool = True) -> bool:
    """Whether ``value`` is a whole number (not a bool) of at least ``minimum``.

    ``numpy=False`` accepts Python ints only (values stored in JSON configurations).
    """
    kinds = (int, np.integer) if numpy else int
    return isinstance(value, kinds) and not isinstance(value, bool) and value >= minimum


def first_not_int_at_least(
    values: Iterable[tuple[str, Any, int]], *, numpy: bool = True
) -> tuple[str, Any, int] | None:
    """The first ``(name, value, minimum)`` whose value fails :func:`is_int_at_least`.

    One call checks all the whole-number options of a caller, which words its own error.

    Parameters
    ----------
    values : iterable of (str, object, int)
        Option name, its value and the smallest value allowed, in the order to check.
    numpy : bool
        Accept numpy integers too (``False``: Python ints only, for JSON configurations).

    Returns
    -------
    (str, object, int) or None
        The first failing triple, or None when every value passes.
    """
    for name, value, minimum in values:
        if not is_int_at_least(value, minimum, numpy=numpy):
            return name, value, minimum
    return None
