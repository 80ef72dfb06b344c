"""File operations that cannot be redirected by a symlink swapped in after the path was
checked: the path is walked from its root with directory descriptors and O_NOFOLLOW, and
the final open, rename or unlink happens relative to the parent's descriptor."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class PathSwapped(OSError):
    """A component of the path is (now) a symlink or not a directory: it changed since it
    was resolved, so the operation was refused."""


def _parts(root: Path, path: Path) -> list[str]:
    rel = os.path.relpath(path, root)
    if rel == "." or rel.startswith(".."):
        raise ValueError(f"{path} is not below {root}")
    return rel.split(os.sep)


@contextlib.contextmanager
def parent_dir(root: Path, path: Path, *, create: bool = False) -> Iterator[tuple[int, str]]:
    """(descriptor of the directory holding `path`, its last name); missing directories are
    made when `create`. Raises PathSwapped if the walk meets a symlink."""
    parts = _parts(root, path)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts[:-1]:
            fd = _step(fd, part, create)
        yield fd, parts[-1]
    finally:
        os.close(fd)


def _step(fd: int, name: str, create: bool) -> int:
    try:
        child = os.open(name, _DIR_FLAGS, dir_fd=fd)
    except FileNotFoundError:
        if not create:
            raise
        with contextlib.suppress(FileExistsError):
            os.mkdir(name, 0o777, dir_fd=fd)
        child = _open_dir(fd, name)
    except OSError as e:
        os.close(fd)
        raise _swapped(e, name) from None
    os.close(fd)
    return child


def _open_dir(fd: int, name: str) -> int:
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=fd)
    except OSError as e:
        os.close(fd)
        raise _swapped(e, name) from None


def _swapped(e: OSError, name: str) -> OSError:
    if e.errno in (errno.ELOOP, errno.ENOTDIR):
        return PathSwapped(e.errno, f"{name} is a symlink or not a directory")
    return e


def open_file(root: Path, path: Path, flags: int, mode: int = 0o666) -> int:
    """os.open of `path` below `root`, never through a symlink (the file itself included)."""
    with parent_dir(root, path, create=bool(flags & os.O_CREAT)) as (fd, name):
        try:
            return os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=fd)
        except OSError as e:
            raise _swapped(e, name) from None


def read_bytes(root: Path, path: Path, limit: int) -> tuple[bytes, os.stat_result]:
    """Up to limit + 1 bytes, and the file's stat (taken on the open descriptor)."""
    fd = open_file(root, path, os.O_RDONLY)
    try:
        st = os.fstat(fd)
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 20))):
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks), st
    finally:
        os.close(fd)


def stat(root: Path, path: Path) -> os.stat_result:
    with parent_dir(root, path) as (fd, name):
        return os.stat(name, dir_fd=fd, follow_symlinks=False)


def replace_atomically(root: Path, path: Path, data: bytes, mode: int) -> None:
    """Write a temp file beside `path`, fsync, rename it over `path` (a symlink there is
    replaced, never followed), fsync the directory: readers see old or new, never half."""
    with parent_dir(root, path, create=True) as (fd, name):
        tmp = f".{name[:64]}.{secrets.token_hex(4)}.tmp"
        out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=fd)
        try:
            with os.fdopen(out, "wb") as f:
                f.write(data)
                f.flush()
                os.fchmod(f.fileno(), mode)
                os.fsync(f.fileno())
            os.replace(tmp, name, src_dir_fd=fd, dst_dir_fd=fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=fd)
            raise
        with contextlib.suppress(OSError):  # not every filesystem can fsync a directory
            os.fsync(fd)


def unlink(root: Path, path: Path) -> None:
    with parent_dir(root, path) as (fd, name):
        os.unlink(name, dir_fd=fd)


def open_dir(root: Path, path: Path) -> int:
    """A descriptor of the directory `path` (the root itself included) for os.scandir."""
    if path == root:
        return os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    with parent_dir(root, path) as (fd, name):
        try:
            return os.open(name, _DIR_FLAGS, dir_fd=fd)
        except OSError as e:
            raise _swapped(e, name) from None
