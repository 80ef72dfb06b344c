"""Gitignore-style patterns: the glob tools' matcher and the walker used without ripgrep.

Semantics (shared by .gitignore lines and glob patterns): `*` and `?` never cross "/",
`**/`, `/**/` and a trailing `/**` span directories, `[...]` is a character class; a
pattern containing "/" (other than at the end) is anchored to its base directory, one
without matches a name at any depth; a trailing "/" matches directories only. Glob
patterns also accept `{a,b}` alternatives. In .gitignore files a leading "!" re-includes,
deeper files win over shallower ones and, within a file, the last matching line wins.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from lsp_agent.tools.globs import translate


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[str]
    negate: bool = False
    dir_only: bool = False

    def matches(self, rel: str, is_dir: bool) -> bool:
        return (is_dir or not self.dir_only) and self.regex.match(rel) is not None


def compile_pattern(pattern: str, *, braces: bool, negate: bool = False) -> Pattern:
    """Raises re.error for patterns that cannot be compiled."""
    dir_only = pattern.endswith("/")
    body = pattern.rstrip("/")
    anchored = "/" in body
    body = body.removeprefix("/")
    prefix = "" if anchored else "(?:.*/)?"
    regex = re.compile(f"{prefix}{translate(body, braces=braces)}\\Z", re.DOTALL)
    return Pattern(regex, negate, dir_only)


def parse_gitignore(text: str) -> list[Pattern]:
    patterns: list[Pattern] = []
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        if not line.endswith("\\ "):
            line = line.rstrip(" ")  # trailing spaces are ignored unless escaped
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        if negate or line.startswith(("\\!", "\\#")):
            line = line[1:]
        try:
            patterns.append(compile_pattern(line, braces=False, negate=negate))
        except re.error:
            continue  # git skips lines it cannot use, so do we
    return patterns


Rules = list[tuple[str, list[Pattern]]]  # (directory prefix ending in "/", its patterns)


def _load(directory: str) -> Rules:
    try:
        with open(os.path.join(directory, ".gitignore"), encoding="utf-8", errors="replace") as f:
            patterns = parse_gitignore(f.read())
    except OSError:
        return []
    return [(os.path.join(directory, ""), patterns)] if patterns else []


def is_ignored(path: str, is_dir: bool, rules: Rules) -> bool:
    for prefix, patterns in reversed(rules):  # deeper .gitignore files take precedence
        if not path.startswith(prefix):
            continue
        rel = path[len(prefix) :]
        for pattern in reversed(patterns):  # the last matching line wins
            if pattern.matches(rel, is_dir):
                return not pattern.negate
    return False


def git_top(path: str) -> str | None:
    """The nearest directory at or above `path` holding .git, or None."""
    current = path
    while True:
        if os.path.lexists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def rules_above(base: str, root: str) -> Rules:
    """The .gitignore rules of the directories above base, from the repository top (or
    `root` outside a repository) down; base's own .gitignore is not included."""
    top = git_top(root) or root
    rules: Rules = []
    if base != top and base.startswith(os.path.join(top, "")):
        directory = top
        rules += _load(directory)
        for part in os.path.relpath(base, top).split(os.sep)[:-1]:
            directory = os.path.join(directory, part)
            rules += _load(directory)
    return rules


class ParentRules:
    """Applies `rules_above` to files found under base (by ripgrep run without them)."""

    def __init__(self, base: str, root: str) -> None:
        self._base = os.path.join(base, "")
        self._rules = rules_above(base, root)
        self._dirs: dict[str, bool] = {}

    def ignores(self, path: str) -> bool:
        if not self._rules:
            return False
        directory = self._base[:-1]
        for part in path[len(self._base) :].split(os.sep)[:-1]:  # an ignored directory hides all
            directory = os.path.join(directory, part)
            hit = self._dirs.get(directory)
            if hit is None:
                hit = self._dirs[directory] = is_ignored(directory, True, self._rules)
            if hit:
                return True
        return is_ignored(path, False, self._rules)


class PathRules:
    """The whole .gitignore verdict on single paths under base: every directory on the way
    and the file itself. For files ripgrep listed under a --glob, which re-includes the
    ignored files and directories it names."""

    def __init__(self, base: str, root: str) -> None:
        self._top = base
        self._base = os.path.join(base, "")
        self._chains: dict[str, Rules] = {base: rules_above(base, root) + _load(base)}
        self._dirs: dict[str, bool] = {}

    def _rules(self, directory: str) -> Rules:
        """The rules in force inside directory (which is base or below it)."""
        rules = self._chains.get(directory)
        if rules is None and len(directory) <= len(self._top):
            rules = self._chains[self._top]
        elif rules is None:
            rules = self._rules(directory[: directory.rfind(os.sep)]) + _load(directory)
            self._chains[directory] = rules
        return rules

    def ignores(self, path: str) -> bool:
        if not path.startswith(self._base):
            return False
        directory = path[: path.rfind(os.sep)]
        return self._hidden(directory) or is_ignored(path, False, self._rules(directory))

    def _hidden(self, directory: str) -> bool:
        """Whether directory (base or below) is ignored, or inside an ignored one."""
        hit = self._dirs.get(directory)
        if hit is None:
            hit = False
            if len(directory) >= len(self._base):  # below base
                parent = directory[: directory.rfind(os.sep)]
                hit = self._hidden(parent) or is_ignored(directory, True, self._rules(parent))
            self._dirs[directory] = hit
        return hit


def walk_files(base: str, root: str, stop: threading.Event | None = None) -> Iterator[str]:
    """Regular files under base, absolute, in path order (entries sorted per directory).

    .gitignore files apply from the repository top (or `root` outside a repository) down;
    `.git` and symlinks are skipped, like ripgrep does by default.
    """
    stack = [(iter(_entries(base)), rules_above(base, root) + _load(base))]
    while stack:
        if stop is not None and stop.is_set():
            return
        entries, rules = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        if entry.name == ".git" or entry.is_symlink():
            continue
        is_dir = entry.is_dir(follow_symlinks=False)
        if is_ignored(entry.path, is_dir, rules):
            continue
        if is_dir:
            stack.append((iter(_entries(entry.path)), rules + _load(entry.path)))
        elif entry.is_file(follow_symlinks=False):
            yield entry.path


def _entries(directory: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as it:
            return sorted(it, key=lambda e: e.name)
    except OSError:
        return []  # unreadable directories are skipped, as ripgrep does
