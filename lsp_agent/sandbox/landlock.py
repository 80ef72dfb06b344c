"""Linux without user namespaces: Landlock (kernel 5.13+), applied in the child before exec.

Landlock only grants, it cannot take a subtree back, so the protected paths are kept
read-only by granting writes on each other entry of a root rather than on the root: a
command can change files and directories in a root but not add or remove entries directly
in it. It cannot mask read-denied paths, nor hide path-named sockets (see `detect`, which
therefore asks before every command when read-deny rules exist). From ABI 4 it blocks TCP
when the network is off, from ABI 6 signals to processes outside the sandbox and abstract
unix sockets.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform
import resource
from collections.abc import Callable
from pathlib import Path

from lsp_agent.sandbox.launch import Launch
from lsp_agent.sandbox.policy import SandboxPolicy

NAME = "landlock"

_SYSCALLS = {"x86_64": (444, 445, 446), "aarch64": (444, 445, 446), "arm64": (444, 445, 446)}
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_REMOVE_DIR, _REMOVE_FILE, _MAKE_CHAR, _MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
_MAKE_REG, _MAKE_SOCK, _MAKE_FIFO, _MAKE_BLOCK = 1 << 8, 1 << 9, 1 << 10, 1 << 11
_MAKE_SYM, _REFER, _TRUNCATE = 1 << 12, 1 << 13, 1 << 14
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1 << 0, 1 << 1

_WRITES_V1 = _WRITE_FILE | _REMOVE_DIR | _REMOVE_FILE | _MAKE_CHAR | _MAKE_DIR | _MAKE_REG
_WRITES_V1 |= _MAKE_SOCK | _MAKE_FIFO | _MAKE_BLOCK | _MAKE_SYM
_FILE_RIGHTS = _WRITE_FILE | _TRUNCATE  # the only ones Landlock accepts on a file


class _RulesetAttr(ctypes.Structure):
    _fields_ = (
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    )


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def abi_version() -> int:
    """The kernel's Landlock ABI; 0 when it has none (or it is disabled)."""
    calls = _SYSCALLS.get(platform.machine())
    if calls is None:
        return 0
    version = _libc().syscall(calls[0], None, ctypes.c_size_t(0), _CREATE_RULESET_VERSION)
    return max(int(version), 0)


def _handled(abi: int) -> int:
    rights = _WRITES_V1
    if abi >= 2:
        rights |= _REFER
    if abi >= 3:
        rights |= _TRUNCATE
    return rights


def grants(policy: SandboxPolicy) -> list[tuple[Path, bool]]:
    """(path, is_dir) to grant writes on: each root's entries but the protected ones, the
    extra writable paths, and a private tmp."""
    protected = {str(p) for p in policy.read_only}
    out: list[tuple[Path, bool]] = []
    for root in policy.writable:
        if not any(p.startswith(f"{root}/") for p in protected):
            out.append((root, True))
            continue
        try:
            names = sorted(os.listdir(root))
        except OSError:
            continue
        for name in names:
            path = root / name
            if str(path) in protected:
                continue
            if path.is_dir() and not path.is_symlink():
                if any(p.startswith(f"{path}/") for p in protected):
                    out += [(path / n, (path / n).is_dir()) for n in _unprotected(path, protected)]
                else:
                    out.append((path, True))
            elif path.is_file() and not path.is_symlink():
                out.append((path, False))
    return out


def _unprotected(directory: Path, protected: set[str]) -> list[str]:
    try:
        return sorted(n for n in os.listdir(directory) if str(directory / n) not in protected)
    except OSError:
        return []


def restrictor(
    policy: SandboxPolicy, tmp: Path, cgroup_procs: Path | None = None
) -> Callable[[], None]:
    """A preexec function that confines the child. Paths are opened here, in the parent;
    the child only makes system calls (no allocation-heavy Python after fork)."""
    abi = abi_version()
    if abi < 1:
        raise OSError("Landlock is not available")
    calls = _SYSCALLS[platform.machine()]
    handled = _handled(abi)
    attr = _RulesetAttr(handled, 0, 0)
    size = ctypes.sizeof(_RulesetAttr)
    if abi >= 4 and not policy.network:
        attr.handled_access_net = _NET_BIND_TCP | _NET_CONNECT_TCP
    if abi >= 6:
        attr.scoped = _SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL
    elif abi < 4:
        size = 8  # older kernels reject the larger struct
    rules: list[_PathBeneath] = []
    fds: list[int] = []
    for path, is_dir in [*grants(policy), (tmp, True), (Path("/dev"), True)]:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue
        fds.append(fd)
        rights = handled if is_dir else handled & _FILE_RIGHTS
        rules.append(_PathBeneath(rights, fd))
    join = os.open(cgroup_procs, os.O_WRONLY | os.O_CLOEXEC) if cgroup_procs else -1
    if join >= 0:
        fds.append(join)
    libc = _libc()
    # No user namespace: RLIMIT_NPROC counts all of the user's processes, not the command's.
    limits = (_user_processes() + policy.max_processes, policy.max_file_bytes)

    def confine() -> None:
        try:
            if join >= 0:
                os.write(join, b"0")  # into the pids cgroup, before Landlock forbids it
            resource.setrlimit(resource.RLIMIT_NPROC, (limits[0], limits[0]))
            resource.setrlimit(resource.RLIMIT_FSIZE, (limits[1], limits[1]))
            if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
                os._exit(126)
            ruleset = libc.syscall(calls[0], ctypes.byref(attr), ctypes.c_size_t(size), 0)
            if ruleset < 0:
                os._exit(126)
            for rule in rules:
                if libc.syscall(calls[1], ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0):
                    os._exit(126)
            if libc.syscall(calls[2], ruleset, 0) != 0:
                os._exit(126)
        except BaseException:
            os._exit(126)

    confine.fds = fds  # type: ignore[attr-defined]
    return confine


def _user_processes() -> int:
    uid = os.getuid()
    count = 0
    with os.scandir("/proc") as it:
        for entry in it:
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    count += entry.stat(follow_symlinks=False).st_uid == uid
    return count


def launch(
    command: str,
    policy: SandboxPolicy,
    env: dict[str, str],
    tmp: Path,
    cgroup_procs: Path | None = None,
) -> Launch:
    confine = restrictor(policy, tmp, cgroup_procs)
    fds: list[int] = confine.fds  # type: ignore[attr-defined]

    def close_fds() -> None:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)

    argv = ["/bin/bash", "-c", command]
    env = {**env, "TMPDIR": str(tmp), **policy.extra_env}
    return Launch(argv, env, preexec=confine, cleanups=[close_fds])
