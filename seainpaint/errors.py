"""Exception types raised by seainpaint.

Every error a user can cause derives from :class:`SeainpaintError`, so a caller can
catch one type; the subclasses say which kind of problem it is.
"""

from __future__ import annotations


class SeainpaintError(Exception):
    """Base class of every error seainpaint raises on purpose."""


class FieldError(SeainpaintError, ValueError):
    """The input field does not follow the data model (dims, all-NaN, ...)."""


class MaskError(SeainpaintError, ValueError):
    """A mask does not match its field (shape, dims or dtype)."""


class MethodError(SeainpaintError, ValueError):
    """An unknown filling method or bad options for one."""


class OutputExistsError(SeainpaintError, FileExistsError):
    """The output path exists and overwriting was not asked for."""


class DataSourceError(SeainpaintError):
    """A data source could not be read or fetched (offline, unknown dataset, credentials)."""


class SeainpaintWarning(UserWarning):
    """Something in the input was repaired, not refused (e.g. infinite values, unsorted time)."""
