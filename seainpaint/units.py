"""Unit spellings: the one table of aliases seainpaint knows, and what it is used for.

Fields arrive with units spelled many ways (``degC``, ``deg C``, ``Celsius``, ``°C``,
``kelvin``, ``g/m2`` ...). :func:`normalize_units` maps each known alias to its UDUNITS
spelling (the one CF files use: ``degree_Celsius``, ``K``, ``g m-2``), which is what the
NetCDF writer stores, what a trained model compares against and what tables label
(through :func:`units_label`). Unknown spellings pass through unchanged (stripped), so a
unit seainpaint does not know is never guessed at.
"""

from __future__ import annotations

from typing import Any

__all__ = ["is_temperature", "normalize_units", "same_units", "units_label"]

_CELSIUS = "degree_Celsius"
_FAHRENHEIT = "degree_Fahrenheit"

# key: lower case, "_" read as " ", blanks collapsed -> UDUNITS spelling
_ALIASES: dict[str, str] = {
    **dict.fromkeys(
        (
            "degree celsius",
            "degrees celsius",
            "degree c",
            "degrees c",
            "deg c",
            "degc",
            "celsius",
            "°c",
            "c",
        ),
        _CELSIUS,
    ),
    **dict.fromkeys(
        ("k", "kelvin", "kelvins", "degree kelvin", "degrees kelvin", "deg k", "degk"), "K"
    ),
    **dict.fromkeys(
        (
            "degree fahrenheit",
            "degrees fahrenheit",
            "degree f",
            "degrees f",
            "deg f",
            "degf",
            "fahrenheit",
            "°f",
        ),
        _FAHRENHEIT,
    ),
    **dict.fromkeys(("g m-2", "g/m2", "g/m^2", "g m^-2", "g.m-2", "g m**-2"), "g m-2"),
    **dict.fromkeys(("kg m-2", "kg/m2", "kg/m^2", "kg m^-2", "kg.m-2", "kg m**-2"), "kg m-2"),
    "1": "1",
}

_TEMPERATURE = {"K", _CELSIUS, _FAHRENHEIT, "degree_Rankine"}
_LABELS = {_CELSIUS: "°C", _FAHRENHEIT: "°F", "g m-2": "g m⁻²", "1": ""}


def _key(units: str) -> str:
    return " ".join(units.strip().lower().replace("_", " ").split())


def normalize_units(units: Any) -> str | None:
    """The UDUNITS spelling of ``units`` (None stays None).

    Parameters
    ----------
    units : str or None
        A units string as found in a file's ``units`` attribute.

    Returns
    -------
    str or None
        ``degree_Celsius`` for ``degC``, ``deg C``, ``Celsius``, ``°C`` ...; ``K`` for
        ``kelvin``; ``g m-2`` for ``g/m2``; any other string stripped but unchanged.
    """
    if units is None:
        return None
    text = str(units).strip()
    return _ALIASES.get(_key(text), text)


def same_units(a: Any, b: Any) -> bool:
    """Whether two units strings name the same unit (``degC`` and ``Celsius`` do)."""
    return normalize_units(a) == normalize_units(b)


def is_temperature(units: Any) -> bool:
    """Whether ``units`` is a temperature unit (K, degree_Celsius, degree_Fahrenheit)."""
    return normalize_units(units) in _TEMPERATURE


def units_label(units: Any) -> str | None:
    """Short label for tables and colorbars: ``°C`` for any Celsius spelling, else UDUNITS."""
    canonical = normalize_units(units)
    return _LABELS.get(canonical, canonical) if canonical is not None else None
