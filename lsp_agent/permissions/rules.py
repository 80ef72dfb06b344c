"""Allow and deny rules: `tool` or `tool(pattern)`, and the paths they match.

The tool is a tool's name (`edit_file`, `grep`…) or a kind alias: `bash`/`shell`/`execute`
(execute), `edit`/`write` (edit), `read` (read and search). Names are case-insensitive.

Patterns over commands are wildcards: `*` matches anything (spaces too), a trailing `:*`
matches the prefix as whole words (`npm test:*` matches `npm test` and `npm test -x`, not
`npm tests`), `\\` escapes. They are matched against each simple command of the line with
quotes removed and whitespace collapsed, so `bash(git status*)` never allows the
`rm` in `git status; rm -rf /`.

Patterns over paths are gitignore-like globs on the workspace-relative, "/"-separated path:
`*` and `?` stay within a directory, `**` crosses directories, a pattern without a slash matches
at any depth (`.env`, `*.pem`), one with a slash is anchored at the root (`src/**`, `./build`),
and a pattern matching a directory matches everything inside it. Patterns starting with `/` or
`~` are absolute and match the absolute path. Relative patterns never match a path outside the
workspace.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from lsp_agent.agent.events import ToolKind
from lsp_agent.permissions.shell_classifier import Part
from lsp_agent.permissions.shell_programs import RANK, Risk
from lsp_agent.sandbox.protected import is_protected

ALIASES: dict[str, frozenset[ToolKind]] = {
    "bash": frozenset({"execute"}),
    "shell": frozenset({"execute"}),
    "execute": frozenset({"execute"}),
    "edit": frozenset({"edit"}),
    "write": frozenset({"edit"}),
    "read": frozenset({"read", "search"}),
}
_CASE_INSENSITIVE_FS = sys.platform in ("darwin", "win32")
_RULE = re.compile(r"\s*([A-Za-z_*][A-Za-z0-9_.*-]*)\s*(?:\((.*)\))?\s*", re.DOTALL)


@dataclass(frozen=True)
class PathInfo:
    rel: str | None  # workspace-relative, normalized; None when outside the workspace
    abs: str | None  # absolute, when known
    inside: bool

    def protected(self, root: Path | None) -> bool:
        """A path the agent could escalate itself with (see sandbox.protected)."""
        return self.rel is not None and is_protected(self.rel, root)


@dataclass(frozen=True)
class Rule:
    text: str
    tool: str  # lower-cased name as written
    kinds: frozenset[ToolKind] | None  # for an alias; None: `tool` is a tool's name
    pattern: str | None  # None: every call of the tool
    command_re: re.Pattern[str] | None = None
    path_re: re.Pattern[str] | None = None
    absolute: bool = False  # the path pattern is absolute
    exact: bool = False  # the pattern has no wildcard
    max_risk: Risk = "destructive"  # a remembered prefix covers nothing riskier than it was

    def applies_to(self, tool: str, kind: ToolKind) -> bool:
        if self.kinds is not None:
            return kind in self.kinds
        if "*" in self.tool:  # e.g. mcp__github__*: a glob over tool names
            return fnmatch.fnmatchcase(tool.lower(), self.tool)
        return tool.lower() == self.tool

    def matches_command(self, command: str) -> bool:
        if self.command_re is None:
            return True
        return self.command_re.fullmatch(" ".join(command.split())) is not None

    def could_complete(self, command: str) -> bool:
        """Could xargs make `command` match, whatever words its input brings (they may be
        appended, or replace any word with -I)? Judged by the program's name."""
        if self.pattern is None or self.command_re is None:
            return True
        literal = _split_escaped(self.pattern)[0].strip().removesuffix(":").split()
        words = command.split()
        return bool(words) and bool(literal) and literal[0] == words[0]

    def covers(self, part: Part) -> bool:
        """As an allow rule: does it allow this part of a command line?"""
        if RANK[part.risk] > RANK[self.max_risk]:
            return False
        if part.writes and self.command_re is not None and ">" not in (self.pattern or ""):
            return False  # `git diff*` does not allow `git diff > somewhere`
        return self.matches_command(part.text) or self.matches_command(part.core)

    def matches_path(self, path: PathInfo | None) -> bool:
        if self.path_re is None:
            return True
        if path is None:
            return False
        target = path.abs if self.absolute else path.rel
        return target is not None and self.path_re.fullmatch(target) is not None


def parse_rule(text: str, *, ignore_case: bool = _CASE_INSENSITIVE_FS) -> Rule:
    """Parse one rule; ValueError says what is wrong with it."""
    m = _RULE.fullmatch(text)
    if not text.strip():
        raise ValueError("invalid permission rule '': the rule is empty")
    if m is None and "(" in text and ")" not in text:
        raise ValueError(f"invalid permission rule {text!r}: missing the closing ')'")
    if m is None and "(" in text and not text.rstrip().endswith(")"):
        raise ValueError(f"invalid permission rule {text!r}: unexpected text after ')'")
    if m is None:
        raise ValueError(
            f"invalid permission rule {text!r}: expected a tool name such as bash, edit or read, "
            "optionally followed by a pattern in parentheses, e.g. bash(git status*)"
        )
    tool, pattern = m[1].lower(), m[2]
    if pattern is not None:
        pattern = pattern.strip()
        if not pattern:
            raise ValueError(
                f"invalid permission rule {text!r}: empty pattern; write {tool!r} "
                "alone to match every call"
            )
        if re.search(r"(?<!\\)(\\\\)*\\$", pattern):
            raise ValueError(f"invalid permission rule {text!r}: the pattern ends with a lone '\\'")
    kinds = ALIASES.get(tool)
    if pattern is None:
        return Rule(text.strip(), tool, kinds, None)
    path = _expand_home(pattern)
    try:
        path_re = re.compile(_glob_regex(path), (re.IGNORECASE if ignore_case else 0) | re.DOTALL)
    except re.error as e:
        raise ValueError(f"invalid permission rule {text!r}: bad pattern ({e})") from None
    return Rule(
        text.strip(),
        tool,
        kinds,
        pattern,
        # A lone `*` allows every command, redirections included.
        command_re=None if pattern == "*" else re.compile(_command_regex(pattern), re.DOTALL),
        path_re=path_re,
        absolute=path.startswith("/"),
        exact=re.search(r"(?<!\\)\*", pattern) is None,
    )


def parse_rules(texts: Iterable[str], list_name: str) -> tuple[Rule, ...]:
    rules = []
    for text in texts:
        try:
            rules.append(parse_rule(text))
        except ValueError as e:
            raise ValueError(f"permissions.{list_name}: {e}") from None
    return tuple(rules)


def _split_escaped(pattern: str) -> list[str]:
    """Split on unescaped `*`, removing the escapes."""
    pieces, cur, i = [], [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            cur.append(pattern[i + 1])
            i += 2
            continue
        if c == "*":
            pieces.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    return [*pieces, "".join(cur)]


def _command_regex(pattern: str) -> str:
    prefix = pattern.endswith(":*") and not pattern.endswith("\\:*") and len(pattern) > 2
    pieces = [re.sub(r"\s+", " ", p) for p in _split_escaped(pattern[:-2] if prefix else pattern)]
    pieces[0], pieces[-1] = pieces[0].lstrip(), pieces[-1].rstrip()  # commands are stripped too
    regex = ".*".join(re.escape(p) for p in pieces)
    return regex + "(?: .*)?" if prefix else regex


def _glob_regex(pattern: str) -> str:
    absolute = pattern.startswith("/")
    if pattern.startswith("./"):
        pattern = pattern[2:]  # `./build`: anchored at the root
        anchored = True
    else:
        anchored = absolute or "/" in pattern.rstrip("/")
    pattern = pattern.rstrip("/") or "/"
    while pattern.endswith("/**"):
        pattern = pattern[:-3]  # `dir/**` also matches dir itself (a search of it reads it)
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            out.append(re.escape(pattern[i + 1 : i + 2] or "\\"))
            i += 2
            continue
        if pattern.startswith("**", i):
            at_start = i == 0 or pattern[i - 1] == "/"
            after = pattern[i + 2 : i + 3]
            if at_start and after == "/":
                out.append("(?:.*/)?")
                i += 3
            else:
                out.append(".*" if at_start and not after else "[^/]*")
                i += 2
            continue
        if c == "[" and (end := pattern.find("]", i + 2)) > 0:
            body = pattern[i + 1 : end]
            negate = body[:1] in ("!", "^")
            body = body[1:] if negate else body
            body = body.replace("\\", "\\\\").replace("[", "\\[")
            out.append("(?!/)[" + ("^" if negate else "") + body + "]")
            i = end + 1
            continue
        out.append({"*": "[^/]*", "?": "[^/]"}.get(c) or re.escape(c))
        i += 1
    body = "".join(out)
    lead = "" if anchored else "(?:.*/)?"
    return lead + body + "(?:/.*)?" if body != "/" else "/.*"


def _expand_home(path: str) -> str:
    """`~` and `~/x` only (never raises, unlike expanduser on odd input)."""
    if path == "~" or path.startswith("~/"):
        return os.path.expanduser("~").replace(os.sep, "/").rstrip("/") + path[1:]
    return path


def path_info(given: str | None, root: Path | None, hint: str | None = None) -> PathInfo | None:
    """Where a path as the model gave it points: relative form, absolute form, inside?"""
    p = hint if hint is not None else given
    if p is None:
        return None
    p = p.strip() or "."
    if os.sep == "\\":
        p = p.replace("\\", "/")
    p = _expand_home(p)
    root_s = posixpath.normpath(root.as_posix()) if root is not None else None
    if p.startswith("/"):
        absolute = re.sub(r"^/+", "/", posixpath.normpath(p))
        inside = root_s is not None and (
            absolute == root_s or absolute.startswith(root_s.rstrip("/") + "/")
        )
        if root_s is not None and inside:
            return PathInfo(posixpath.relpath(absolute, root_s), absolute, True)
        return PathInfo(None, absolute, False)
    rel = posixpath.normpath(p)
    absolute_or_none = posixpath.normpath(posixpath.join(root_s, rel)) if root_s else None
    if rel == ".." or rel.startswith("../"):
        return PathInfo(None, absolute_or_none, False)
    return PathInfo(rel, absolute_or_none, True)


# --- what "allow always" remembers ----------------------------------------------------------

_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]*")
# Programs whose second word names what they do: "always" may remember `prog sub:*`,
# covering nothing riskier than the approved command. Every other program (awk, sed,
# find, make, tar, interpreters, shells, launchers…) can run code or write files with some
# arguments, so only the exact command is remembered.
_SUBCOMMANDS: dict[str, frozenset[str]] = {
    # Not install/ci/exec: they run the code of whatever package is named.
    "npm": frozenset({"test", "run", "ls", "outdated", "audit", "view"}),
    "pnpm": frozenset({"test", "run", "ls", "outdated", "audit"}),
    "yarn": frozenset({"test", "run", "list", "outdated", "audit"}),
    "bun": frozenset({"test", "run"}),
    "cargo": frozenset({"build", "check", "test", "clippy", "fmt", "doc", "tree", "bench"}),
    "go": frozenset({"build", "test", "vet", "fmt", "list", "mod"}),
    "git": frozenset(
        {"status", "diff", "log", "show", "add", "commit", "fetch", "pull", "push", "branch"}
        | {"switch", "checkout", "stash", "restore", "rebase", "merge", "tag", "blame", "grep"}
    ),
}
_RUN_SCRIPT = frozenset({"npm", "pnpm", "yarn", "bun"})  # `npm run build`: the script's name


def session_rule(part: Part) -> Rule:
    """The rule "allow always" adds for one approved part of a command: `prog sub:*` for the
    programs above (`npm test -- -x` -> `npm test:*`), else the exact command."""
    words = part.words
    program = words[0] if words else ""
    subs = _SUBCOMMANDS.get(program)
    plain = len(words) > 1 and _PLAIN.fullmatch(words[1]) is not None
    if part.risk == "destructive" or part.writes or subs is None or not plain:
        return parse_rule(f"bash({escape_command(part.core)})")
    if words[1] not in subs:
        return parse_rule(f"bash({escape_command(part.core)})")
    n = 2
    if program in _RUN_SCRIPT and words[1] == "run":
        if len(words) < 3 or not _PLAIN.fullmatch(words[2]):
            return parse_rule(f"bash({escape_command(part.core)})")
        n = 3
    rule = parse_rule(f"bash({escape_command(' '.join(words[:n]))}:*)")
    return replace(rule, max_risk=part.risk)


def escape_command(command: str) -> str:
    return command.replace("\\", "\\\\").replace("*", "\\*")
