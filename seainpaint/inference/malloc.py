"""glibc malloc thresholds for the fill's tensor work.

A forward pass of the generator allocates and frees activations of tens of megabytes
dozens of times per window. With glibc's defaults the heap is trimmed back to the system
whenever more than twice the (dynamic, at most 32 MB) mmap threshold lies free at its
top, and larger blocks are mapped afresh each time: the kernel then zeroes their pages on
first touch, again and again. It is worse in a ``dask.distributed`` worker: the nanny
starts workers with ``MALLOC_TRIM_THRESHOLD_=65536`` (``distributed.nanny.pre-spawn-
environ``), which also switches the dynamic threshold off, so every block over 128 kB is
a fresh mapping. Measured (``benchmarks/bench_fill_plan.py``, ``bench_scale.py``): the
network ran 1.7x slower on 24 x 256 x 256 windows in a plain process, and a whole fill
2.5x slower in a dask worker (69 s against 28 s), the extra time spent in the kernel.

:func:`roomy_malloc` raises both thresholds while the fill runs (blocks up to 256 MB come
from the heap and stay there for the next window) and, when the last concurrent user
leaves, sets them to what the environment asks for (``MALLOC_TRIM_THRESHOLD_``,
``MALLOC_MMAP_THRESHOLD_``) or else to glibc's own steady state (32 MB and 64 MB), then
hands the free memory back to the system (``malloc_trim``). It does nothing where the C
library is not glibc.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import os
import threading
from collections.abc import Iterator

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
GLIBC_MMAP_THRESHOLD = 128 * 1024  # glibc's starting value (what its variables default to)
GLIBC_DYNAMIC_MMAP_MAX = 32 * 1024 * 1024  # where glibc's dynamic threshold stops (64-bit)
ROOMY_MMAP_THRESHOLD = 256 * 1024 * 1024
ROOMY_TRIM_THRESHOLD = 512 * 1024 * 1024

_LOCK = threading.Lock()
_users = 0


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt, libc.malloc_trim  # noqa: B018 - glibc only
    except (OSError, AttributeError):
        return None
    return libc


def _thresholds_after() -> tuple[int, int]:
    """The ``(mmap, trim)`` thresholds to leave behind: the environment's, else glibc's
    steady state (dynamic adjustment, once switched off, cannot be switched back on)."""
    mmap_var = os.environ.get("MALLOC_MMAP_THRESHOLD_")
    trim_var = os.environ.get("MALLOC_TRIM_THRESHOLD_")
    if mmap_var is None and trim_var is None:
        return GLIBC_DYNAMIC_MMAP_MAX, 2 * GLIBC_DYNAMIC_MMAP_MAX
    try:
        mmap_after = int(mmap_var) if mmap_var is not None else GLIBC_MMAP_THRESHOLD
        trim_after = int(trim_var) if trim_var is not None else GLIBC_MMAP_THRESHOLD
    except ValueError:
        return GLIBC_DYNAMIC_MMAP_MAX, 2 * GLIBC_DYNAMIC_MMAP_MAX
    return mmap_after, trim_after


@contextlib.contextmanager
def roomy_malloc() -> Iterator[None]:
    """Let large tensors reuse heap memory while the block runs (see the module doc).

    A no-op where the C library is not glibc. Safe to nest and to enter from several
    threads at once: the thresholds are set back when the last user leaves.
    """
    global _users
    libc = _glibc()
    if libc is None:
        yield
        return
    with _LOCK:
        if _users == 0:
            libc.mallopt(M_MMAP_THRESHOLD, ROOMY_MMAP_THRESHOLD)
            libc.mallopt(M_TRIM_THRESHOLD, ROOMY_TRIM_THRESHOLD)
        _users += 1
    try:
        yield
    finally:
        with _LOCK:
            _users -= 1
            if _users == 0:
                mmap_after, trim_after = _thresholds_after()
                libc.mallopt(M_TRIM_THRESHOLD, trim_after)
                libc.mallopt(M_MMAP_THRESHOLD, mmap_after)
                libc.malloc_trim(0)
