"""One error family: every exception seainpaint defines lives in seainpaint.errors.

The walker imports every module of the package and checks each exception or warning class
it finds there by name against ``seainpaint.errors``: a module that defines its own class
instead of importing it from ``errors`` shows up here by module and name.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from typer.testing import CliRunner

import seainpaint
from seainpaint import errors
from seainpaint.cli import app

FAMILY = [getattr(errors, name) for name in errors.__all__]
ERRORS = [cls for cls in FAMILY if not issubclass(cls, Warning)]
WARNINGS = [cls for cls in FAMILY if issubclass(cls, Warning)]


def _package_classes() -> list[tuple[str, str, type]]:
    """(module, name, class) of every exception/warning class defined in seainpaint."""
    found = []
    modules = pkgutil.walk_packages(seainpaint.__path__, prefix="seainpaint.")
    for info in [None, *modules]:
        module = importlib.import_module(info.name if info else "seainpaint")
        for name, obj in vars(module).items():
            if (
                isinstance(obj, type)
                and issubclass(obj, BaseException)
                and obj.__module__.startswith("seainpaint")
                and not name.startswith("_")  # private control flow, never reaches users
            ):
                found.append((module.__name__, name, obj))
    return found


def test_every_exception_class_in_the_package_is_the_one_in_errors() -> None:
    classes = _package_classes()
    assert len({m for m, _, _ in classes}) > 10  # the walk did reach the modules
    strays = [
        f"{module}.{name}"
        for module, name, cls in classes
        if getattr(errors, name, None) is not cls
    ]
    assert strays == [], f"define these in seainpaint/errors.py and import them: {strays}"
    for _, name, cls in classes:
        if issubclass(cls, Warning):
            assert issubclass(cls, errors.SeainpaintWarning), name
        else:
            assert issubclass(cls, errors.SeainpaintError), name


def test_errors_module_exports_exactly_its_classes_and_seainpaint_reexports_them() -> None:
    defined = {
        name
        for name, obj in vars(errors).items()
        if isinstance(obj, type) and obj.__module__ == "seainpaint.errors"
    }
    assert set(errors.__all__) == defined
    for name in errors.__all__:
        assert getattr(seainpaint, name) is getattr(errors, name)
        assert name in seainpaint.__all__


BUILTIN_BASES = {
    ValueError: [
        errors.FieldError,
        errors.MaskError,
        errors.MethodError,
        errors.ModelError,
        errors.ConfigError,
        errors.TrainingError,
        errors.RegionError,
        errors.TimeRangeError,
        errors.ReproduceError,
        errors.OcclusionError,
    ],
    TypeError: [errors.OcclusionError],
    RuntimeError: [errors.DeviceError],
    FileExistsError: [errors.OutputExistsError],
    FileNotFoundError: [errors.InputNotFoundError],
}


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [(cls, builtin) for builtin, classes in BUILTIN_BASES.items() for cls in classes],
    ids=lambda x: x.__name__,
)
def test_old_builtin_bases_are_kept(cls: type, builtin: type) -> None:
    """Callers that caught ValueError (etc.) before the family existed still catch these."""
    with pytest.raises(builtin):
        raise cls("x")


def test_the_tree() -> None:
    for cls in ERRORS:
        assert issubclass(cls, errors.SeainpaintError), cls
    for cls in WARNINGS:
        assert issubclass(cls, errors.SeainpaintWarning), cls
    groups = {
        errors.DataError: {errors.FieldError, errors.MaskError},
        errors.DataSourceError: {
            errors.CopernicusError,
            errors.RegionError,
            errors.TimeRangeError,
            errors.InputNotFoundError,
            errors.PyclesError,
            errors.VideoError,
            errors.RecipeError,
            errors.FeatureNetError,
        },
        errors.ModelError: {
            errors.ModelMismatchError,
            errors.ConfigError,
            errors.TrainingError,
            errors.ProcessNeededError,
        },
        errors.UsageError: {errors.MethodError, errors.OcclusionError, errors.ReproduceError},
    }
    for group, members in groups.items():
        assert {c for c in ERRORS if issubclass(c, group) and c is not group} == members
    assert not issubclass(errors.DeviceError, ValueError)


# ---------------------------------------------------------------------------- the CLI


def test_cli_missing_input_is_one_line_exit_2(tmp_path) -> None:
    args = ["fill", str(tmp_path / "missing.nc"), "-o", str(tmp_path / "out.nc")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "missing.nc" in lines[0]
    assert "Traceback" not in result.output and not (tmp_path / "out.nc").exists()


@pytest.mark.parametrize(
    "cls", ERRORS, ids=lambda c: c.__name__
)
def test_cli_turns_every_family_member_into_one_line_and_exit_2(
    tmp_path, monkeypatch: pytest.MonkeyPatch, cls: type
) -> None:
    from seainpaint.io import stores

    message = f"{cls.__name__} raised while reading cloudy.nc"

    def failing_open_field(*args, **kwargs):
        raise cls(message)

    monkeypatch.setattr(stores, "open_field", failing_open_field)
    out = tmp_path / "out.nc"
    result = CliRunner().invoke(app, ["fill", str(tmp_path / "cloudy.nc"), "-o", str(out)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    if cls in (errors.ModelMismatchError, errors.ProcessNeededError):  # + the CLI's advice
        assert len(lines) == 1 and lines[0].startswith(f"error: {message}; "), lines
    else:
        assert lines == [f"error: {message}"]
    assert not out.exists()
