"""Protected paths: files that let the agent run code later or widen its own permissions.

They are never written without the user's explicit approval, in any mode: edits to them are
asked, and the sandbox mounts them read-only for every shell command the user did not
approve at a prompt. Judged on the resolved, workspace-relative path.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

# Directories whose whole content is protected, at any depth.
_DIRS = frozenset({".git", ".lsp-agent", ".vscode", ".idea", ".zed", ".helix", ".devcontainer"})
# File names protected at any depth.
_FILES = frozenset(
    {".lsp-agent.toml", "pyproject.toml", "AGENTS.md", "CLAUDE.md", ".nvim.lua", ".exrc"}
)
# Root-relative files.
_ROOT_FILES = frozenset({".github/copilot-instructions.md"})
# What git needs to take a directory for a git dir (setup.c: is_git_directory).
_GIT_DIR_MARKS = ("HEAD", "objects", "refs")
# Inside .git, what the sandbox keeps read-only: the rest (objects, refs, index…) stays
# writable so commits work; these run code (config, hooks) or hold other git dirs.
GIT_READ_ONLY = ("config", "config.worktree", "hooks", "info", "modules", "worktrees", "commondir")


def is_protected(rel: str, root: Path | None = None) -> bool:
    """Is this workspace-relative "/"-separated path protected?

    With `root`, a path inside a directory that git would take for a git dir (or would,
    once this file exists) is protected too: `evil/HEAD` + `evil/config` is a git dir
    whose config can run code.
    """
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    if not parts:
        return False
    name = parts[-1]
    if name in _FILES or name.startswith(".env") or "/".join(parts) in _ROOT_FILES:
        return True
    if _DIRS.intersection(parts):
        return True
    return root is not None and _in_git_dir(root, parts)


def _in_git_dir(root: Path, parts: list[str]) -> bool:
    """Would a directory on the way to this path be a git dir once the path exists?"""
    for depth in range(len(parts) - 1, -1, -1):
        directory = root.joinpath(*parts[:depth])
        inside = parts[depth:]  # what the new path adds under `directory`
        if all(_exists_after(directory, mark, inside) for mark in _GIT_DIR_MARKS):
            return True
    return False


def _exists_after(directory: Path, mark: str, inside: list[str]) -> bool:
    if inside and inside[0] == mark:
        return True  # the write creates it (or something in it)
    return os.path.lexists(directory / mark)


def read_only_paths(roots: Iterable[Path]) -> list[Path]:
    """Existing protected paths directly under each root, for the sandbox's read-only
    mounts. A missing `.git/hooks` is included (mounted empty) so none can be made."""
    out: list[Path] = []
    for root in roots:
        try:
            names = os.listdir(root)
        except OSError:
            continue
        for name in sorted(names):
            path = root / name
            if name == ".git" and path.is_dir() and not path.is_symlink():
                out += [path / entry for entry in GIT_READ_ONLY if _keep(path, entry)]
            elif name in _DIRS or name in _FILES or name.startswith(".env"):
                out.append(path)
        for rel in _ROOT_FILES:
            if os.path.lexists(root / rel):
                out.append(root / rel)
    return out


def _keep(git_dir: Path, entry: str) -> bool:
    return entry == "hooks" or os.path.lexists(git_dir / entry)
