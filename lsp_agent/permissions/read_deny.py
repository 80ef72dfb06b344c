"""Read-deny rules beyond the file tools: which paths grep and glob must leave out, and which
ones the sandbox masks so a shell command cannot read them either."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from lsp_agent.permissions.rules import PathInfo, Rule

log = logging.getLogger(__name__)

MAX_ENTRIES = 500_000  # a walk that finds more stops (and says so in the log)
_GLOB_CHARS = re.compile(r"[*?\[{]")


def read_rules(deny: Iterable[Rule]) -> list[Rule]:
    """The deny rules that forbid reading some paths."""
    return [r for r in deny if r.path_re is not None and r.applies_to("read_file", "read")]


def denied(rules: Sequence[Rule], rel: str | None, absolute: str | None) -> bool:
    info = PathInfo(rel, absolute, rel is not None)
    return any(rule.matches_path(info) for rule in rules)


def matching_paths(rules: Sequence[Rule], roots: Sequence[Path]) -> list[Path]:
    """Existing paths the rules deny, directories whole. Blocking: call it in a thread."""
    if not rules:
        return []
    found: list[Path] = []
    for base, root in _bases(rules, roots):
        found += _walk(rules, base, root)
    return sorted(set(found))


def _bases(rules: Sequence[Rule], roots: Sequence[Path]) -> list[tuple[Path, Path | None]]:
    """Where to look: the workspace for relative patterns, the literal directory in front
    of the first wildcard for absolute ones."""
    out: list[tuple[Path, Path | None]] = []
    if any(not r.absolute for r in rules):
        out += [(root, root) for root in roots[:1]]
    for r in rules:
        if r.absolute and r.pattern is not None:
            literal = _GLOB_CHARS.split(os.path.expanduser(r.pattern), 1)[0]
            prefix = Path(literal if literal.endswith("/") else os.path.dirname(literal) or "/")
            out.append((prefix, None))
    return out


def _walk(rules: Sequence[Rule], base: Path, root: Path | None) -> list[Path]:
    found: list[Path] = []
    seen = 0
    if _matches(rules, base, root):
        return [base]
    for top, dirs, files in os.walk(base):
        keep = []
        for name in sorted(dirs):
            path = Path(top, name)
            if name == ".git" and root is not None:
                continue  # git's own files: not what read rules are about, and many
            if _matches(rules, path, root):
                found.append(path)  # masked whole: no need to look inside
            else:
                keep.append(name)
        dirs[:] = keep
        for name in files:
            path = Path(top, name)
            if _matches(rules, path, root):
                found.append(path)
        seen += len(dirs) + len(files)
        if seen > MAX_ENTRIES:
            log.warning("read-deny walk of %s stopped after %d entries", base, seen)
            break
    return found


def _matches(rules: Sequence[Rule], path: Path, root: Path | None) -> bool:
    rel = None
    if root is not None:
        rel = "." if path == root else os.path.relpath(path, root).replace(os.sep, "/")
    return denied(rules, rel, str(path))
