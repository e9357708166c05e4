"""Atomic writes: build under a temporary name next to the target, then rename it.

Every file or folder seainpaint writes goes through this module, so that:

- a reader never sees a half-written product: the target is absent, the old version or the
  complete new one (the temporary lies in the target's folder, so the rename is atomic);
- what is written follows the user's umask (0644 files and 0755 folders under umask 022),
  as the output of every other tool does (``mkstemp``/``mkdtemp`` would give 0600/0700);
- temporary names carry the target's name, the writing process's id and a tag of its host
  (``.NAME.tmp-PID-HOST-RANDOM.SUFFIX``; ``.old-`` for a replaced folder on its way out).
  Before a new write of the same target, the temporaries that dead processes of this host
  left behind (a killed ``fill`` or ``fetch-lwp``) are removed; a live process's temporary,
  and any name this module did not make, is never touched;
- an output path of the wrong kind is refused with an :class:`OutputExistsError` naming it
  (a folder where a file is written, a file where a Zarr store or model folder goes).

Use it as a context manager::

    with atomic_file("sst_filled.nc", overwrite=True) as tmp:
        ds.to_netcdf(tmp)                       # becomes sst_filled.nc on success

    with atomic_dir("model/", overwrite=True) as tmp:   # an empty folder, created
        (tmp / "config.json").write_text(...)   # the folder becomes model/ on success

If the block raises, the temporary is removed and the target is left as it was.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import OutputExistsError

__all__ = [
    "atomic_dir",
    "atomic_file",
    "atomic_write",
    "check_target",
    "clean_stale",
    "follow_umask",
    "publish",
    "remove",
    "temp_path",
    "umask",
]

_TAGS = ("tmp", "old")


def _host_tag() -> str:
    return hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:6]


def umask() -> int:
    """The process's umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # no other portable way to read it
    os.umask(mask)
    return mask


def follow_umask(path: str | os.PathLike[str]) -> None:
    """Give ``path`` the mode a plain ``open``/``mkdir`` would: 0o666 or 0o777 less umask."""
    path = Path(path)
    base = 0o777 if path.is_dir() else 0o666
    os.chmod(path, base & ~umask())


def temp_path(target: str | os.PathLike[str], tag: str = "tmp", suffix: str | None = None) -> Path:
    """A fresh temporary name next to ``target`` (nothing is created).

    Parameters
    ----------
    target : path-like
        The file or folder the temporary will become.
    tag : {"tmp", "old"}
        ``tmp`` for what is being built, ``old`` for a replaced folder being removed.
    suffix : str, optional
        Ending of the name (default: the target's own suffix, so writers that choose the
        format from the extension - matplotlib, imageio - see the right one).

    Returns
    -------
    pathlib.Path
        ``<folder>/.<name>.<tag>-<pid>-<host>-<random><suffix>``.
    """
    if tag not in _TAGS:
        raise ValueError(f"tag must be one of {_TAGS}")
    target = Path(target)
    ending = target.suffix if suffix is None else suffix
    name = f".{target.name}.{tag}-{os.getpid()}-{_host_tag()}-{secrets.token_hex(4)}{ending}"
    return target.parent / name


def _pid_alive(pid: int) -> bool:
    if pid <= 0 or pid == os.getpid() or os.name == "nt":  # on Windows, kill(pid, 0) kills
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: alive, another user's
        return True
    return True


def remove(path: str | os.PathLike[str]) -> None:
    """Delete a file or a folder tree if it exists (a link itself, not what it points to)."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)


def clean_stale(target: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporaries of ``target`` left by dead processes of this host.

    Only names made by :func:`temp_path` for this very target count; the process id in
    the name is checked with ``os.kill(pid, 0)``, so a write in progress (this process or
    another) keeps its temporary. Cleaning is best effort: what cannot be removed stays.

    Returns
    -------
    list of pathlib.Path
        The temporaries removed.
    """
    target = Path(target)
    folder = target.parent
    if not folder.is_dir():
        return []
    pattern = re.compile(
        rf"\.{re.escape(target.name)}\.(?:{'|'.join(_TAGS)})-(\d+)-([0-9a-f]{{6}})-[0-9a-f]{{8}}"
        r"(?:\.[^/]*)?"
    )
    host = _host_tag()
    removed = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or match.group(2) != host or _pid_alive(int(match.group(1))):
            continue
        with contextlib.suppress(OSError):
            remove(entry)
            removed.append(entry)
    return removed


def check_target(target: str | os.PathLike[str], *, kind: str, overwrite: bool) -> Path:
    """Refuse an output path that exists (unless ``overwrite``) or is of the wrong kind.

    Parameters
    ----------
    target : path-like
        The output path.
    kind : {"file", "dir"}
        What will be written there.
    overwrite : bool
        Whether an existing target of the right kind may be replaced.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    OutputExistsError
        ``target`` is a folder and a file is written (or the reverse), whatever
        ``overwrite`` says, or ``target`` exists and ``overwrite`` is false.
    """
    target = Path(target).expanduser()
    if kind == "file" and target.is_dir():
        raise OutputExistsError(f"{target} is an existing folder; give a file name for the output")
    if kind == "dir" and target.exists() and not target.is_dir():
        raise OutputExistsError(
            f"{target} is an existing file; the output is a folder (a Zarr store or a "
            "model): give another name or remove the file"
        )
    if (target.exists() or target.is_symlink()) and not overwrite:
        raise OutputExistsError(f"{target} exists; pass overwrite=True (--overwrite) to replace it")
    return target


def publish(
    tmp: str | os.PathLike[str], target: str | os.PathLike[str], *, overwrite: bool
) -> Path:
    """Rename the finished temporary ``tmp`` (file or folder) onto ``target``.

    A file replaces the target in one atomic rename. Without ``overwrite`` a file is
    linked into place, so a target created meanwhile by someone else is never
    clobbered. A folder replacing a folder is swapped in two renames (the old one is
    moved aside under an ``.old-`` name, then deleted).

    Raises
    ------
    OutputExistsError
        The target exists and ``overwrite`` is false, or it is of the other kind.
    """
    tmp, target = Path(tmp), Path(target)
    is_dir = tmp.is_dir()
    check_target(target, kind="dir" if is_dir else "file", overwrite=overwrite)
    if not is_dir:
        if overwrite:
            os.replace(tmp, target)
            return target
        try:
            os.link(tmp, target)
        except FileExistsError:
            raise OutputExistsError(
                f"{target} exists; pass overwrite=True (--overwrite) to replace it"
            ) from None
        except OSError as err:  # a file system without hard links
            if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            os.replace(tmp, target)
        else:
            tmp.unlink()
        return target
    if target.exists():
        old = temp_path(target, "old", suffix="")
        os.replace(target, old)
        try:
            os.replace(tmp, target)
        except BaseException:
            os.replace(old, target)
            raise
        remove(old)
    else:
        os.rename(tmp, target)
    return target


def _create_empty_file(path: Path) -> None:
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))


def _reserve(
    target: str | os.PathLike[str],
    *,
    kind: str,
    overwrite: bool,
    suffix: str | None,
    create: Callable[[Path], object],
) -> tuple[Path, Path]:
    """The checked ``target`` and a new temporary next to it, made by ``create(tmp)``.

    ``target``'s folder is made if needed and the stale temporaries of ``target`` are
    removed first; ``create`` must raise :class:`FileExistsError` when the name is taken.
    """
    target = check_target(target, kind=kind, overwrite=overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(target)
    while True:
        tmp = temp_path(target, suffix=suffix)
        try:
            create(tmp)
            return target, tmp
        except FileExistsError:  # pragma: no cover - 32 random bits collided
            continue


@contextlib.contextmanager
def atomic_file(
    target: str | os.PathLike[str], *, overwrite: bool = False, suffix: str | None = None
) -> Iterator[Path]:
    """Yield a temporary file path that becomes ``target`` when the block succeeds.

    The temporary is created empty (so its name is reserved) in ``target``'s folder,
    which is made if needed. On success it gets the umask's mode (0644 under umask 022)
    and is renamed onto ``target``; if the block raises, it is removed and ``target`` is
    left as it was. Stale temporaries of ``target`` left by dead processes are removed
    first.

    Parameters
    ----------
    target : path-like
        The file to write.
    overwrite : bool
        Replace an existing file.
    suffix : str, optional
        Ending of the temporary name; default the target's suffix.

    Yields
    ------
    pathlib.Path
        Where to write.

    Raises
    ------
    OutputExistsError
        ``target`` exists and ``overwrite`` is false, or ``target`` is a folder.
    """
    target, tmp = _reserve(
        target, kind="file", overwrite=overwrite, suffix=suffix, create=_create_empty_file
    )
    try:
        yield tmp
        if tmp.is_dir():
            raise OutputExistsError(f"the writer of {target} made a folder, not a file")
        follow_umask(tmp)
        publish(tmp, target, overwrite=overwrite)
    finally:
        if tmp.is_dir() and not tmp.is_symlink():
            remove(tmp)
        else:
            tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Yield an empty temporary folder that becomes ``target`` when the block succeeds.

    For Zarr stores and model folders. The folder follows the umask (0755 under umask
    022); the files written into it follow it by themselves. If the block raises, the
    temporary folder is removed and ``target`` is left as it was. Stale temporaries of
    ``target`` left by dead processes are removed first.

    Parameters
    ----------
    target : path-like
        The folder to write.
    overwrite : bool
        Replace an existing folder (it is removed once the new one is in place).

    Yields
    ------
    pathlib.Path
        The temporary folder to fill.

    Raises
    ------
    OutputExistsError
        ``target`` exists and ``overwrite`` is false, or ``target`` is a file.
    """
    target, tmp = _reserve(target, kind="dir", overwrite=overwrite, suffix="", create=Path.mkdir)
    try:
        yield tmp
        follow_umask(tmp)
        publish(tmp, target, overwrite=overwrite)
    finally:
        remove(tmp)


def atomic_write(
    path: str | os.PathLike[str],
    write: Callable[[Path], Any],
    *,
    overwrite: bool = False,
    suffix: str | None = None,
) -> Path:
    """Call ``write(tmp_path)`` for a temporary file, then rename it onto ``path``.

    The callable form of :func:`atomic_file` (same guarantees).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    OutputExistsError
        If ``path`` exists and ``overwrite`` is false, or ``path`` is a folder.
    """
    with atomic_file(path, overwrite=overwrite, suffix=suffix) as tmp:
        write(tmp)
    return Path(path).expanduser()
