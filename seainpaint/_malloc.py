"""glibc malloc thresholds for tensor work inside ``dask.distributed`` workers.

A dask nanny starts its worker processes with ``MALLOC_TRIM_THRESHOLD_=65536``
(``distributed.nanny.pre-spawn-environ``) so that freed memory goes back to the system
quickly. Setting that variable also switches off glibc's dynamic mmap threshold, so every
allocation over 128 kB becomes a fresh ``mmap`` whose pages the kernel must zero on first
touch, and is unmapped again when freed. A network's forward pass allocates and frees
activations of megabytes dozens of times per window: in such a worker the fill ran 2.5x
slower (``benchmarks/bench_scale.py``, 240x256x256, one task, 69 s against 28 s), most of
the extra time spent in the kernel.

:func:`roomy_malloc` raises the two thresholds while model work runs in such a process
and, when the last concurrent user leaves, puts the variable's values back and hands the
freed memory to the system (``malloc_trim``), which is what the variable is there for.
Elsewhere (the variable unset, not glibc) it does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import threading
from collections.abc import Iterator

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
GLIBC_MMAP_THRESHOLD = 128 * 1024  # glibc's default (and what the variable pins it to)
ROOMY_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's own dynamic ceiling on 64-bit systems
ROOMY_TRIM_THRESHOLD = 256 * 1024 * 1024

_LOCK = threading.Lock()
_users = 0


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


def _threshold(variable: str, default: int) -> int:
    try:
        return int(os.environ.get(variable, default))
    except ValueError:
        return default


@contextlib.contextmanager
def roomy_malloc() -> Iterator[None]:
    """Let large tensors reuse heap memory while the block runs (see the module doc).

    A no-op unless ``MALLOC_TRIM_THRESHOLD_`` is set in the environment and the C library
    is glibc. Safe to nest and to enter from several threads at once.
    """
    global _users
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        yield
        return
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
                libc.mallopt(M_TRIM_THRESHOLD,
                             _threshold("MALLOC_TRIM_THRESHOLD_", ROOMY_TRIM_THRESHOLD))
                libc.mallopt(M_MMAP_THRESHOLD,
                             _threshold("MALLOC_MMAP_THRESHOLD_", GLIBC_MMAP_THRESHOLD))
                libc.malloc_trim(0)
