"""The workspace interface the tools use, path safety, and the disk implementation."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import os
import stat
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from lsp_agent import dirfd
from lsp_agent.safe_text import show_name, unshow_name

MAX_READ_BYTES = 5 * 1024 * 1024  # whole-file reads above this are refused
BINARY_SNIFF_BYTES = 8192


class WorkspaceError(Exception):
    """A file problem the model can act on; the message says what to do."""


class PathOutsideWorkspace(WorkspaceError):
    pass


AGAIN = "read it again, then redo the change."


class StaleDocument(WorkspaceError):
    """The document changed between reading and writing (the editor refused the edit)."""


class EditRejected(WorkspaceError):
    """The user rejected the whole edit in a review: nothing was written."""


class FileTooLarge(WorkspaceError):
    """The file is too big to read whole; callers may page through it instead."""

    def __init__(self, message: str, path: Path, size: int) -> None:
        super().__init__(message)
        self.path = path
        self.size = size


@dataclass(frozen=True)
class Document:
    path: Path
    text: str  # line endings normalized to "\n"
    eol: str = "\n"  # what the file uses, restored on write
    version: int | None = None  # the editor's buffer version; None for disk
    exists: bool = True


@dataclass(frozen=True)
class Written:
    """What a reviewed write put in the file, and what the model is told about it."""

    text: str  # the text written ("\n" endings): new_text, or the accepted part of it
    note: str  # which parts the user accepted and rejected


@dataclass(frozen=True)
class EditCall:
    """The tool call an edit belongs to, for a workspace that has the user review it."""

    tool_call_id: str
    title: str


# Set by the tool runner while a tool runs; a write outside a tool call (undo) is not one.
EDIT_CALL: contextvars.ContextVar[EditCall | None] = contextvars.ContextVar(
    "EDIT_CALL", default=None
)


@dataclass(frozen=True)
class DirEntry:
    name: str
    is_dir: bool
    size: int | None = None


@dataclass(frozen=True)
class GrepMatch:
    path: str  # workspace-relative, "/" separated
    line: int  # 1-based
    text: str
    is_context: bool = False


class Workspace(Protocol):
    """What tools may do to files. Front ends supply one: disk, or open-buffer aware."""

    @property
    def roots(self) -> tuple[Path, ...]: ...

    @property
    def cwd(self) -> Path:
        """The session's working directory, inside a root: relative paths, the names shown
        to the model and shell commands start there. The roots stay the boundary."""
        ...

    def resolve(self, path: str) -> Path:
        """An absolute, symlink-free path inside a root; raises PathOutsideWorkspace."""
        ...

    def display(self, path: Path | str) -> str:
        """A short, cwd-relative form for titles and messages (absolute outside the cwd)."""
        ...

    async def read(self, path: Path) -> Document:
        """The current text (an open buffer wins over disk); a missing file has exists=False."""
        ...

    @property
    def reviews_edits(self) -> bool:
        """Does the user review each edit of a tool call before it is written? Then that
        review is the permission question (a deny rule still denies first)."""
        ...

    async def write(self, before: Document, new_text: str, *, label: str) -> Written | None:
        """Replace the text of `before` with new_text ("\n" endings; `before.eol` is restored).

        Raises StaleDocument when the text changed since `before` was read, EditRejected
        when the user rejected all of it. A reviewed write returns what it wrote.
        """
        ...

    async def delete(self, path: Path) -> None: ...

    async def list_dir(self, path: Path) -> list[DirEntry]: ...

    async def glob(self, pattern: str, base: Path, limit: int) -> tuple[list[str], bool]:
        """Workspace-relative paths matching pattern, gitignore respected; (paths, truncated)."""
        ...

    async def grep(
        self,
        pattern: str,
        base: Path,
        *,
        glob: str | None,
        ignore_case: bool,
        context: int,
        limit: int,
        timeout_s: float | None = None,
    ) -> tuple[list[GrepMatch], bool]:
        """Regex search, gitignore respected; (matches, truncated). Bad regex: WorkspaceError.

        timeout_s caps the time a pattern may take in Python's (backtracking) engine.
        """
        ...

    async def before_shell(self) -> str | None:
        """Make agent edits visible to a shell (save buffers); returns a note for the model."""
        ...


def decode_text(data: bytes, shown: str) -> tuple[str, str]:
    """(text with "\n" endings, eol). Mixed endings stay as they are, so writes are lossless."""
    if b"\0" in data[:BINARY_SNIFF_BYTES]:
        raise WorkspaceError(f"{shown} is a binary file; it cannot be read as text.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise WorkspaceError(
            f"{shown} is a binary file (not valid UTF-8); it cannot be read as text."
        ) from None
    crlf = text.count("\r\n")
    if crlf and crlf == text.count("\n"):
        return text.replace("\r\n", "\n"), "\r\n"
    return text, "\n"


def encode_text(text: str, eol: str) -> bytes:
    return (text.replace("\n", eol) if eol != "\n" else text).encode("utf-8")


class DiskWorkspace:
    """The workspace as files on disk under one or more root directories."""

    def __init__(
        self, roots: Sequence[Path], *, use_ripgrep: bool = True, cwd: Path | None = None
    ) -> None:
        if not roots:
            raise ValueError("a workspace needs at least one root")
        self._roots = tuple(Path(os.path.realpath(r)) for r in roots)
        # "root/" prefixes for containment checks; "/" stays "/".
        self._prefixes = tuple(os.path.join(r, "") for r in self._roots)
        self._cwd = self._roots[0] if cwd is None else Path(os.path.realpath(cwd))
        if self._inside(str(self._cwd)) is None:
            raise PathOutsideWorkspace(
                f"the working directory {cwd} is outside the workspace roots "
                f"({', '.join(str(r) for r in self._roots)})"
            )
        self._cwd_prefix = os.path.join(self._cwd, "")
        self._use_ripgrep = use_ripgrep
        self._write_lock = threading.Lock()  # makes check-then-replace atomic between writes

    @property
    def roots(self) -> tuple[Path, ...]:
        return self._roots

    @property
    def cwd(self) -> Path:
        return self._cwd

    # --- paths ----------------------------------------------------------------

    def resolve(self, path: str) -> Path:
        roots = ", ".join(str(r) for r in self._roots)
        if not path or not path.strip():
            raise PathOutsideWorkspace(f"Empty path; give a path inside the workspace ({roots}).")
        if "\0" in path:
            raise PathOutsideWorkspace(f"The path {path!r} contains a NUL byte; it is not valid.")
        path = self._unshow(path)
        try:
            os.fsencode(path)
        except UnicodeEncodeError:
            raise PathOutsideWorkspace(
                f"The path {path!r} contains characters that cannot be a file name."
            ) from None
        joined = os.path.join(self._cwd, path)  # an absolute `path` replaces the cwd
        real = os.path.realpath(joined)
        if self._inside(real) is not None:
            if _has_unresolved_link(real):
                raise PathOutsideWorkspace(
                    f"The path {path!r} goes through a symlink loop; it cannot be used."
                )
            return Path(real)
        via = " through a symlink" if self._inside(os.path.normpath(joined)) is not None else ""
        raise PathOutsideWorkspace(
            f"The path {path!r} resolves{via} to {real}, which is outside the workspace "
            f"(roots: {roots}). Use a path inside the workspace."
        )

    def _unshow(self, path: str) -> str:
        """`\\xHH` as tool output shows a non-UTF-8 byte of a name, back to that byte; a
        name that really holds those four characters wins when it exists."""
        raw = unshow_name(path)
        if raw is not path and os.path.lexists(os.path.join(self._cwd, path)):
            return path
        return raw

    def _inside(self, real: str) -> Path | None:
        for root, prefix in zip(self._roots, self._prefixes, strict=True):
            if real == str(root) or real.startswith(prefix):
                return root
        return None

    def root_of(self, path: Path) -> Path:
        """The root containing `path` (already resolved); PathOutsideWorkspace if none."""
        if (root := self._inside(str(path))) is None:
            raise PathOutsideWorkspace(f"{path} is outside the workspace.")
        return root

    def display(self, path: Path | str) -> str:
        """Cwd-relative (absolute outside the cwd); a non-UTF-8 byte of a name shows as
        `\\xHH`, which resolve() reads."""
        return show_name(self._display(str(path)))

    def _display(self, s: str) -> str:
        first, prefix = str(self._cwd), self._cwd_prefix
        if s == first:
            return "."
        if s.startswith(prefix):
            return s[len(prefix) :].replace(os.sep, "/")
        return s  # outside the cwd (other roots): absolute, so resolve() maps it back

    # --- files ----------------------------------------------------------------

    async def read(self, path: Path) -> Document:
        return await asyncio.to_thread(self._read, path)

    def _read(self, path: Path) -> Document:
        shown = self.display(path)
        root = self.root_of(path)
        if path == root:
            raise WorkspaceError(f"{shown} is a directory; use list_dir to see its entries.")
        try:
            st = dirfd.stat(root, path)
        except (FileNotFoundError, NotADirectoryError):
            return Document(path=path, text="", exists=False)
        except OSError as e:
            raise _io_error("read", shown, e) from None
        if stat.S_ISDIR(st.st_mode):
            raise WorkspaceError(f"{shown} is a directory; use list_dir to see its entries.")
        if not stat.S_ISREG(st.st_mode):
            raise WorkspaceError(f"{shown} is not a regular file (a device, FIFO or socket).")
        if st.st_size > MAX_READ_BYTES:
            raise _too_large(path, shown, st.st_size)
        try:
            data, _ = dirfd.read_bytes(root, path, MAX_READ_BYTES)
        except OSError as e:
            raise _io_error("read", shown, e) from None
        if len(data) > MAX_READ_BYTES:  # grew since stat
            raise _too_large(path, shown, len(data))
        text, eol = decode_text(data, shown)
        return Document(path=path, text=text, eol=eol)

    @property
    def reviews_edits(self) -> bool:
        return False

    async def write(self, before: Document, new_text: str, *, label: str) -> Written | None:
        await asyncio.to_thread(self._write, before, new_text)
        return None

    def _write(self, before: Document, new_text: str) -> None:
        path, shown = before.path, self.display(before.path)
        data = encode_text(new_text, before.eol)
        root = self.root_of(path)
        with self._write_lock:
            mode = self._check_fresh(before, shown)
            try:
                new_mode = _default_mode() if mode is None else mode
                dirfd.replace_atomically(root, path, data, new_mode)
            except OSError as e:
                raise _io_error("write", shown, e) from None

    def _check_fresh(self, before: Document, shown: str) -> int | None:
        """Raise StaleDocument unless disk still holds before.text; the file's mode if any."""
        root = self.root_of(before.path)
        try:
            st = dirfd.stat(root, before.path)
        except (FileNotFoundError, NotADirectoryError):
            if before.exists:
                raise StaleDocument(
                    f"{shown} was deleted since it was read; read it again, then redo the change."
                ) from None
            return None
        except OSError as e:
            raise _io_error("write", shown, e) from None
        if stat.S_ISDIR(st.st_mode):
            raise WorkspaceError(f"{shown} is a directory; it cannot be written as a file.")
        if stat.S_ISLNK(st.st_mode):
            raise StaleDocument(f"{shown} became a symlink since it was read; {AGAIN}")
        if not before.exists:
            raise StaleDocument(f"{shown} was created by someone else meanwhile; {AGAIN}")
        expected = encode_text(before.text, before.eol)
        # Size first: a cheap reject before reading the whole file.
        if st.st_size != len(expected) or self._bytes(root, before.path, shown) != expected:
            raise StaleDocument(
                f"{shown} changed on disk since it was read; read it again, then redo the change."
            )
        return stat.S_IMODE(st.st_mode)

    def _bytes(self, root: Path, path: Path, shown: str) -> bytes:
        try:
            return dirfd.read_bytes(root, path, MAX_READ_BYTES)[0]
        except OSError as e:
            raise _io_error("read", shown, e) from None

    async def delete(self, path: Path) -> None:
        await asyncio.to_thread(self._delete, path)

    def _delete(self, path: Path) -> None:
        shown = self.display(path)
        if path in self._roots:
            raise WorkspaceError(f"{shown} is a workspace root; it cannot be deleted.")
        root = self.root_of(path)
        try:
            if stat.S_ISDIR(dirfd.stat(root, path).st_mode):
                raise WorkspaceError(f"{shown} is a directory; only files can be deleted.")
            dirfd.unlink(root, path)
        except FileNotFoundError:
            raise WorkspaceError(f"{shown} does not exist.") from None
        except OSError as e:
            raise _io_error("delete", shown, e) from None

    async def list_dir(self, path: Path) -> list[DirEntry]:
        return await asyncio.to_thread(self._list_dir, path)

    def _list_dir(self, path: Path) -> list[DirEntry]:
        shown = self.display(path)
        entries: list[DirEntry] = []
        try:
            fd = dirfd.open_dir(self.root_of(path), path)
        except FileNotFoundError:
            raise WorkspaceError(f"{shown} does not exist.") from None
        except NotADirectoryError:
            raise WorkspaceError(f"{shown} is a file, not a directory; use read_file.") from None
        except dirfd.PathSwapped as e:
            if os.path.isfile(path):
                raise WorkspaceError(f"{shown} is a file; use read_file.") from None
            raise _io_error("list", shown, e) from None
        except OSError as e:
            raise _io_error("list", shown, e) from None
        try:
            with os.scandir(fd) as it:
                for entry in it:
                    is_dir = entry.is_dir()
                    size = None
                    if not is_dir:
                        with contextlib.suppress(OSError):  # dangling symlink
                            size = entry.stat().st_size
                    entries.append(DirEntry(name=entry.name, is_dir=is_dir, size=size))
        except OSError as e:
            raise _io_error("list", shown, e) from None
        finally:
            os.close(fd)
        return sorted(entries, key=lambda d: d.name)

    # --- search ---------------------------------------------------------------

    async def glob(self, pattern: str, base: Path, limit: int) -> tuple[list[str], bool]:
        from lsp_agent.tools import disk_search as ds  # lazy: the tools package imports us

        root, _ = self._search_base(base, need_dir=True)
        rg = ds.find_rg() if self._use_ripgrep else None
        found, truncated = await ds.glob_files(rg, root, base, pattern, limit)
        return [self.display(p) for p in found], truncated

    async def grep(
        self,
        pattern: str,
        base: Path,
        *,
        glob: str | None,
        ignore_case: bool,
        context: int,
        limit: int,
        timeout_s: float | None = None,
    ) -> tuple[list[GrepMatch], bool]:
        from lsp_agent.tools import disk_search as ds
        from lsp_agent.tools.py_grep import DEFAULT_TIMEOUT_S

        root, is_dir = self._search_base(base, need_dir=False)
        rg = ds.find_rg() if self._use_ripgrep else None
        query = ds.GrepQuery(pattern, glob, ignore_case, context, limit)
        cap = DEFAULT_TIMEOUT_S if timeout_s is None else timeout_s
        return await ds.grep_files(rg, root, base, is_dir, query, self.display, cap)

    def _search_base(self, base: Path, *, need_dir: bool) -> tuple[Path, bool]:
        """(its root, whether it is a directory); WorkspaceError if base cannot be searched."""
        root = self.root_of(base)
        if not base.exists():
            raise WorkspaceError(f"{self.display(base)} does not exist.")
        if need_dir and not base.is_dir():
            raise WorkspaceError(f"{self.display(base)} is a file; give a directory to search.")
        return root, base.is_dir()

    async def before_shell(self) -> str | None:
        return None  # disk is what the shell sees already


def _too_large(path: Path, shown: str, size: int) -> FileTooLarge:
    return FileTooLarge(
        f"{shown} is {size / 1_048_576:.1f} MB, over the {MAX_READ_BYTES // 1_048_576} MB "
        "limit for whole-file reads. Read a window with read_file offset/limit, or find the "
        "lines you need with grep.",
        path,
        size,
    )


def _io_error(verb: str, shown: str, e: OSError) -> WorkspaceError:
    if isinstance(e, dirfd.PathSwapped):
        return StaleDocument(
            f"Cannot {verb} {shown}: a directory on its path became a symlink after it was "
            f"checked (it could now point outside the workspace); {AGAIN}"
        )
    return WorkspaceError(f"Cannot {verb} {shown}: {e.strerror or e}.")


def _has_unresolved_link(real: str) -> bool:
    """realpath leaves a symlink in place only when it loops (or cannot be read)."""
    p = real
    while not os.path.lexists(p):
        parent = os.path.dirname(p)
        if parent == p:
            return False
        p = parent
    return os.path.islink(p)


@functools.cache
def _default_mode() -> int:
    """0o666 minus the umask, as open() would give a new file; mkstemp's 0o600 is too strict."""
    # /proc tells without changing the process-wide umask, which other threads may rely on.
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def rule_name(workspace: Workspace, shown: str) -> tuple[str | None, str]:
    """A name as `display` shows it (cwd-relative or absolute), as permission rules judge
    it: relative to the first root (the permission root; None outside it), and absolute."""
    absolute = os.path.normpath(os.path.join(workspace.cwd, shown))
    root = str(workspace.roots[0])
    if absolute == root:
        return ".", absolute
    if absolute.startswith(os.path.join(root, "")):
        return absolute[len(root) + 1 :].replace(os.sep, "/"), absolute
    return None, absolute
