"""What seainpaint writes onto the fields it returns, defined once for every writer.

:func:`seainpaint.fill` attaches these and :mod:`seainpaint.io.netcdf` writes them:

- the per-pixel status flag, the non-index coordinate :data:`FLAG_NAME` (int8: 0 observed,
  1 filled, 2 land, 3 filled but never observed in the field);
- a model's standard error, the coordinate ``<name>`` + :data:`SE_SUFFIX`;
- the encoding keys of the input's integer packing that a fill keeps for the writer
  (:data:`PACKING_KEYS`);
- the name of the method that filled the field, attribute :data:`METHOD_ATTR` (a model's
  method by what trained it: "GAN" only with an adversarial term), read by the writer for
  the product's title and keywords;
- the dimension of an ensemble's members, :data:`MEMBER_DIM`, with its CF coordinate
  attributes :data:`MEMBER_ATTRS` (``fill(..., members=N)``);
- one timestamped ``history`` line per step (:func:`append_history`).
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = [
    "FLAG_FILLED",
    "FLAG_FILLED_NEVER_OBSERVED",
    "FLAG_LAND",
    "FLAG_MEANINGS",
    "FLAG_NAME",
    "FLAG_OBSERVED",
    "FLAG_VALUES",
    "MEMBER_ATTRS",
    "MEMBER_DIM",
    "METHOD_ATTR",
    "PACKING_KEYS",
    "SE_SUFFIX",
    "append_history",
    "utc_stamp",
]

FLAG_OBSERVED, FLAG_FILLED, FLAG_LAND, FLAG_FILLED_NEVER_OBSERVED = 0, 1, 2, 3
FLAG_NAME = "inpaint_flag"
FLAG_MEANINGS = "observed filled land filled_never_observed"

FLAG_VALUES = (FLAG_OBSERVED, FLAG_FILLED, FLAG_LAND, FLAG_FILLED_NEVER_OBSERVED)  # as meant
SE_SUFFIX = "_standard_error"  # the coordinate (and variable) holding a model's standard error
METHOD_ATTR = "seainpaint_method"  # attribute naming the method that filled a field
MEMBER_DIM = "member"  # the first dimension of an ensemble of fills
MEMBER_ATTRS = {"standard_name": "realization", "long_name": "ensemble member", "units": "1"}
PACKING_KEYS = ("dtype", "scale_factor", "add_offset", "_FillValue", "missing_value")


def utc_stamp() -> str:
    """The current UTC time as ``YYYY-MM-DDTHH:MM:SSZ`` (history lines, ``date_created``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def append_history(
    history: str | None, line: str, *, stamp: str | None = None, program: str = "seainpaint"
) -> str:
    """``history`` with ``"<UTC stamp> <program>: <line>"`` appended as its last line."""
    entry = f"{stamp or utc_stamp()} {program}: {line}"
    return f"{history}\n{entry}" if history else entry
