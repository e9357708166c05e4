"""Every exception and warning seainpaint raises on purpose, in one small tree.

Every error a user can cause derives from :class:`SeainpaintError`, so a caller can catch
one type (the ``seainpaint`` command turns any of them into one line and exit status 2);
the groups below it say which kind of problem it is. Classes that used to derive from a
built-in exception (``ValueError``, ``FileExistsError``, ...) still do, so existing
``except ValueError`` clauses keep working.

::

    SeainpaintError
    ├── DataError                  the data given do not follow the data model
    │   ├── FieldError             (ValueError) dims, dtype, all-NaN, grids that differ
    │   └── MaskError              (ValueError) a mask that does not match its field
    ├── DataSourceError            a source of data cannot be read, fetched or built
    │   ├── CopernicusError        Copernicus Marine (offline, credentials, toolbox)
    │   │   ├── RegionError        (ValueError) malformed region or outside the grid
    │   │   └── TimeRangeError     (ValueError) malformed dates or an empty range
    │   ├── InputNotFoundError     (FileNotFoundError) an input file or store is missing
    │   ├── PyclesError            not readable PyCLES output
    │   ├── VideoError             a video file cannot be read or written
    │   ├── RecipeError            a data recipe is missing or malformed
    │   └── FeatureNetError        an FID/FVD feature network is missing or unusable
    ├── ModelError                 (ValueError) a model cannot be read or serve the data
    │   ├── ModelMismatchError     the field is not what the model was trained on
    │   ├── ConfigError            (ValueError) an invalid network configuration
    │   └── TrainingError          (ValueError) bad training options or data
    │       └── ProcessNeededError the measurement process must be given
    ├── DeviceError                (RuntimeError) the compute device is not available
    ├── UsageError                 an unknown name or a bad option
    │   ├── MethodError            (ValueError) unknown filling method or its options
    │   ├── OcclusionError         (ValueError, TypeError) a bad measurement process
    │   └── ReproduceError         (ValueError) unknown reproduction or bad options
    └── OutputExistsError          (FileExistsError) the output exists, no overwrite

    SeainpaintWarning              (UserWarning) results are usable but check them
    └── TruncatedVideoWarning      a video file ends before all its frames

``DeviceError`` is not a ``ModelError``: a missing GPU is a problem of the machine, not
a value, and ``ModelError`` is a ``ValueError``.

Errors whose advice differs between Python and the command line carry the data of that
advice as attributes (:class:`ModelMismatchError`, :class:`ProcessNeededError`): the
``seainpaint`` command words the advice with its own options from them, never by reading
the message.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "CopernicusError",
    "DataError",
    "DataSourceError",
    "DeviceError",
    "FeatureNetError",
    "FieldError",
    "InputNotFoundError",
    "MaskError",
    "MethodError",
    "ModelError",
    "ModelMismatchError",
    "OcclusionError",
    "OutputExistsError",
    "ProcessNeededError",
    "PyclesError",
    "RecipeError",
    "RegionError",
    "ReproduceError",
    "SeainpaintError",
    "SeainpaintWarning",
    "TimeRangeError",
    "TrainingError",
    "TruncatedVideoWarning",
    "UsageError",
    "VideoError",
]


class SeainpaintError(Exception):
    """Base class of every error seainpaint raises on purpose."""


# ----------------------------------------------------------------------------- data


class DataError(SeainpaintError):
    """The data given to seainpaint do not follow its data model."""


class FieldError(DataError, ValueError):
    """The input field does not follow the data model (dims, all-NaN, ...)."""


class MaskError(DataError, ValueError):
    """A mask does not match its field (shape, dims or dtype)."""


# ----------------------------------------------------------------------------- sources


class DataSourceError(SeainpaintError):
    """A data source could not be read or fetched (offline, unknown dataset, credentials)."""


class CopernicusError(DataSourceError):
    """Copernicus Marine data could not be fetched (see the message for what to do)."""


class RegionError(CopernicusError, ValueError):
    """The region is malformed or outside the product's grid."""


class TimeRangeError(CopernicusError, ValueError):
    """The dates are malformed or the time range is empty."""


class InputNotFoundError(DataSourceError, FileNotFoundError):
    """An input file or store does not exist."""


class PyclesError(DataSourceError):
    """A path is not readable PyCLES output (missing namelist, pickles, fields, ...)."""


class VideoError(DataSourceError):
    """A video file cannot be read or written."""


class RecipeError(DataSourceError):
    """A recipe is missing, malformed, or its data cannot be built."""


class FeatureNetError(DataSourceError):
    """A feature network for FID/FVD is missing, unreadable or gives unusable output."""


# ----------------------------------------------------------------------------- models


class ModelError(SeainpaintError, ValueError):
    """A model cannot serve the given data, or a model directory is unreadable."""


class ModelMismatchError(ModelError):
    """The field is not what the model was trained on (variable, units, standard name).

    ``check=False`` (``--no-check`` on the command line) fills it anyway. ``problem`` says
    what differs and ``remedy`` (optional) what else mends it; :meth:`advice` words the
    message with a given way to override the check.
    """

    #: how a Python caller overrides the check
    OVERRIDE = "pass check=False (seainpaint fill --no-check)"

    def __init__(self, problem: str, remedy: str | None = None) -> None:
        self.problem, self.remedy = problem, remedy
        super().__init__(self.advice(self.OVERRIDE))

    def advice(self, override: str) -> str:
        """The message, with ``override`` as the way to fill the field anyway."""
        either = f"{self.remedy} or " if self.remedy else ""
        return f"{self.problem}; {either}{override} to fill it anyway"

    def __reduce__(self) -> tuple:  # pickles (dask workers) with its data, not its text
        return (type(self), (self.problem, self.remedy))


class ConfigError(ModelError, ValueError):
    """A network configuration is invalid (unknown architecture, bad channel count...)."""


class TrainingError(ModelError, ValueError):
    """Bad training options or data that cannot be trained on."""


class ProcessNeededError(TrainingError):
    """Training needs a measurement process that the field cannot give (``process=``).

    ``problem`` says why; the message adds the Python advice, the command line its own
    options (``--lwp``/``--threshold`` or ``--process``).
    """

    #: how a Python caller gives the process
    ADVICE = "pass process= (e.g. seainpaint.Cloud(lwp, threshold=70))"

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(f"{problem}; {self.ADVICE}")

    def __reduce__(self) -> tuple:
        return (type(self), (self.problem,))


class DeviceError(SeainpaintError, RuntimeError):
    """The requested compute device is unknown or not available."""


# ----------------------------------------------------------------------------- usage


class UsageError(SeainpaintError):
    """An unknown name or a bad option was given to a seainpaint function."""


class MethodError(UsageError, ValueError):
    """An unknown filling method or bad options for one."""


class OcclusionError(UsageError, ValueError, TypeError):
    """A measurement process is not one, or its parameters are out of range."""


class ReproduceError(UsageError, ValueError):
    """Unknown reproduction, bad recipe or options."""


# ----------------------------------------------------------------------------- outputs


class OutputExistsError(SeainpaintError, FileExistsError):
    """The output path exists and overwriting was not asked for."""


# ----------------------------------------------------------------------------- warnings


class SeainpaintWarning(UserWarning):
    """Base class of the warnings seainpaint emits: the result is usable, but check it."""


class TruncatedVideoWarning(SeainpaintWarning):
    """A video file ends before all the frames its header announces (a partial read)."""
