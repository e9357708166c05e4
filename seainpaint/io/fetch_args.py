"""Arguments of a fetch: a region, a time range, and the time range cut into pieces.

Also the interval arithmetic a resumable fetch needs (what of a request is not done yet).
Everything here is checked before any network call, so a typo fails at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from ..errors import CopernicusError, RegionError, TimeRangeError

Interval = tuple[pd.Timestamp, pd.Timestamp]

__all__ = ["Interval", "merge", "parse_date", "parse_region", "subtract", "time_pieces"]


def parse_region(region: str | Sequence[float]) -> tuple[float, float, float, float]:
    """Parse and check a region ``(south, north, west, east)`` in degrees.

    Parameters
    ----------
    region : str or sequence of 4 floats
        ``"S,N,W,E"`` or ``(S, N, W, E)``; longitudes in [-180, 360].

    Returns
    -------
    tuple of float
        ``(south, north, west, east)``.
    """
    if isinstance(region, str):
        parts = [p for p in region.replace(" ", "").split(",") if p != ""]
    else:
        parts = list(region)
    try:
        south, north, west, east = (float(p) for p in parts)
    except (TypeError, ValueError):
        raise RegionError(
            f"region {region!r} must be four numbers S,N,W,E in degrees, e.g. 20,25.25,-40,-34.75"
        ) from None
    if not all(np.isfinite([south, north, west, east])):
        raise RegionError(f"region {region!r} has a non-finite bound")
    if not -90 <= south < north <= 90:
        raise RegionError(
            f"region latitudes S={south:g}, N={north:g} must satisfy -90 <= S < N <= 90"
        )
    if not (-180 <= west <= 360 and -180 <= east <= 360 and west < east):
        raise RegionError(
            f"region longitudes W={west:g}, E={east:g} must satisfy W < E, within [-180, 360]"
        )
    return south, north, west, east


def parse_date(value: str | datetime | pd.Timestamp, *, end: bool) -> pd.Timestamp:
    """A date or time as a naive UTC timestamp; an ``end`` given as a date alone ends that day.

    Raises
    ------
    TimeRangeError
        The value is not a date.
    """
    text = value if isinstance(value, str) else None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise TimeRangeError(f"bad date {value!r}: use YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None
    if ts is pd.NaT or pd.isna(ts):
        raise TimeRangeError(f"bad date {value!r}: use YYYY-MM-DD or YYYY-MM-DDTHH:MM")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    if end and text is not None and len(text.strip()) <= 10:
        # a date alone as the end means the whole of that day
        ts = ts + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
    return ts


def time_pieces(start: pd.Timestamp, end: pd.Timestamp, chunk: str) -> list[Interval]:
    """``[start, end]`` cut at calendar boundaries into pieces of a ``chunk`` of time.

    Parameters
    ----------
    start, end : pandas.Timestamp
        The whole range (both included).
    chunk : {"day", "week", "month", "year"}
        The calendar unit; pieces start on its boundaries (Mondays for weeks).

    Returns
    -------
    list of (Timestamp, Timestamp)
        Consecutive closed intervals, one second apart.
    """
    freq = {"month": "MS", "week": "W-MON", "day": "D", "year": "YS"}.get(chunk)
    if freq is None:
        raise CopernicusError(f"chunk={chunk!r}: choose 'day', 'week', 'month' or 'year'")
    edges = list(pd.date_range(start.normalize(), end, freq=freq))
    bounds = sorted({start, *[e for e in edges if start < e <= end]})
    pieces = []
    for i, lo in enumerate(bounds):
        hi = bounds[i + 1] - pd.Timedelta(seconds=1) if i + 1 < len(bounds) else end
        pieces.append((lo, hi))
    return pieces


def subtract(pieces: list[Interval], done: list[Interval]) -> list[Interval]:
    """The parts of ``pieces`` not covered by the intervals in ``done``."""
    out = []
    for lo, hi in pieces:
        parts = [(lo, hi)]
        for d_lo, d_hi in done:
            nxt = []
            for p_lo, p_hi in parts:
                if d_hi < p_lo or d_lo > p_hi:
                    nxt.append((p_lo, p_hi))
                    continue
                if p_lo < d_lo:
                    nxt.append((p_lo, d_lo - pd.Timedelta(seconds=1)))
                if d_hi < p_hi:
                    nxt.append((d_hi + pd.Timedelta(seconds=1), p_hi))
            parts = nxt
        out.extend(parts)
    return out


def merge(intervals: list[Interval]) -> list[Interval]:
    """Sorted union of closed intervals (ones a second apart are joined)."""
    merged: list[Interval] = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1] + pd.Timedelta(seconds=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged
