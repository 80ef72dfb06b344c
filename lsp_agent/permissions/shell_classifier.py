"""Classify a shell command as read-only, normal or destructive, part by part.

A command is as dangerous as its most dangerous part. Parts are the simple commands of the
line, including those inside `$(…)`, backticks, `<(…)`, here-documents and `bash -c`/`eval`
scripts. Wrappers (`FOO=1`, `env`, `command`, `nice`, `time`, `nohup`, `timeout`, `stdbuf`,
`exec`, `xargs`) are seen through. A substitution or a redirection into a file makes a part at
least "normal". A line that does not parse is never read-only: it is split roughly on
operators and each piece is judged, so `echo 'x; rm -rf /` still reads as destructive.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field, replace

from lsp_agent.permissions.shell_expansion import expand_words, unknown_program
from lsp_agent.permissions.shell_parser import Redirect, ShellSyntaxError, SimpleCommand, parse
from lsp_agent.permissions.shell_programs import (
    DELETERS,
    DISK_DEVICE,
    DOWNLOADERS,
    READ_ONLY,
    SAFE_SINKS,
    SHELLS,
    STRUCTURAL,
    Risk,
    canonical,
    is_shell_or_interpreter,
    may_destroy,
    names,
    program_risk,
    worst,
)

__all__ = ["Analysis", "Part", "Risk", "analyze", "classify"]

MAX_SCRIPT_DEPTH = 6  # bash -c "bash -c '…'" nesting judged before giving up (as normal)
_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\+?=(.*)", re.DOTALL)
_RESERVED = frozenset({"!", "{", "}", "then", "else", "elif", "do", "done", "fi", "esac"})
_RESERVED |= {"if", "while", "until", "coproc"}
# Variables that make a harmless program run other code (or another program).
_DANGEROUS_ENV = names(
    """PATH IFS BASH_ENV ENV SHELLOPTS BASHOPTS PS4 PROMPT_COMMAND PAGER MANPAGER EDITOR VISUAL
    LESSOPEN LESSCLOSE NODE_OPTIONS PERL5OPT PERL5LIB PERLLIB RUBYOPT RUBYLIB PYTHONSTARTUP
    PYTHONPATH PYTHONHOME JAVA_TOOL_OPTIONS _JAVA_OPTIONS ZDOTDIR"""
)
# `f(){ f|f& };f`. Bounded repeats and the lookbehind keep the search linear on long input.
_FORK_BOMB = re.compile(
    r"(?<![\w:.])([\w:.]{1,64})\s*\(\s*\)\s*\{[^}]{0,200}?\1\s*\|\s*&?\s*\1\s*&"
)


@dataclass(frozen=True)
class Part:
    """One simple command: what rules match, and how risky it is in its context."""

    text: str  # words and redirections, quotes removed, single-spaced
    core: str  # the same without see-through wrappers and harmless variable prefixes
    words: tuple[str, ...]  # the core's words, without redirections
    risk: Risk
    writes: bool = False  # output is redirected into a file
    runs: str = ""  # the program past every wrapper (sudo, xargs too): what deny rules also see
    canonical: str = ""  # `runs` by base name, past git's global options: for deny rules
    fed: bool = False  # xargs appends words from its input: deny rules match any completion


@dataclass(frozen=True)
class Analysis:
    risk: Risk
    parts: tuple[Part, ...]
    parsed: bool  # False: the line did not parse and `parts` come from a rough split


def classify(command: str) -> Risk:
    """ "read_only", "normal" or "destructive"; never raises."""
    return analyze(command).risk


def analyze(command: str, depth: int = 0) -> Analysis:
    parts: list[Part] = []
    try:
        if depth > MAX_SCRIPT_DEPTH:
            raise ShellSyntaxError("scripts nested too deeply")
        for cmd in parse(command):
            _command_parts(cmd, depth, parts)
        parsed = True
    except (ShellSyntaxError, RecursionError):
        parts, parsed = _rough_parts(command), False
    if "(" in command and _FORK_BOMB.search(command):
        flat = " ".join(command.split())
        parts.append(Part(flat, flat, tuple(command.split()), "destructive", runs=flat))
    risk = worst(*(p.risk for p in parts))
    unique = tuple(dict.fromkeys(parts))  # a `bash -c "$(x)"` script sees x twice
    return Analysis(risk if parsed else worst(risk, "normal"), unique, parsed)


# --- one simple command ------------------------------------------------------------------


def _command_parts(cmd: SimpleCommand, depth: int, out: list[Part]) -> None:
    for inner in cmd.nested:
        _command_parts(inner, depth, out)
    words = [w.value for w in cmd.words]
    floor: Risk = "read_only"
    if any(w.expands for w in cmd.words) or any(r.target.expands for r in cmd.redirects):
        floor = "normal"  # what a substitution produces is unknown
    writes = False
    for r in cmd.redirects:
        effect = _redirect_effect(r)
        writes = writes or effect != "read_only"
        floor = worst(floor, effect)
    argv = _argv(words)
    risk = worst(floor, argv.risk, _expansion_risk(cmd, argv))
    expanded = expand_words(words)
    if expanded is not None:  # `{rm,-rf,x}`, `rm${IFS}-rf${IFS}x`: judge what bash runs
        seen = _argv(expanded)
        risk = worst(risk, "normal", seen.risk)
        for script in seen.scripts:
            risk = worst(risk, analyze(script, depth + 1).risk)
    feeds = cmd.upstream + cmd.nested  # `curl … | sh`, `sh <(curl …)`, `bash -c "$(curl …)"`
    if is_shell_or_interpreter(argv.program) and any(_downloads(c) for c in feeds):
        risk = "destructive"
    scripts = list(argv.scripts)
    if argv.program in SHELLS and not argv.scripts and not _runs_file(words, argv):
        stdin = _stdin_script(cmd)  # `bash <<< '…'`, `sh <<EOF`: the script is right here
        if stdin is not None:
            scripts.append(stdin)
        elif cmd.upstream or any(r.op.lstrip("0123456789") == "<" for r in cmd.redirects):
            risk = "destructive"  # `echo 'rm -rf x' | sh`: a script we cannot see
    for script in scripts:
        sub = analyze(script, depth + 1)
        out.extend(sub.parts)
        if not sub.parsed:
            risk = worst(risk, "normal")
    for inner_words in argv.inner:  # find -exec: judged as a command line of its own
        sub = analyze(shlex.join(inner_words), depth + 1)  # `-exec sh -c '…'` too
        out.extend(replace(p, risk=worst("normal", p.risk)) for p in sub.parts)
    if argv.transparent and risk == "read_only":
        return
    shown = [_render(r) for r in cmd.redirects]
    core_words = tuple(words[argv.core :]) or tuple(words)  # `FOO=1`, `env`: nothing stripped
    text = " ".join([*words, *shown])
    core = " ".join([*core_words, *shown])
    runs = words[argv.runs :]
    if expanded is not None:
        runs = expanded[_argv(expanded).runs :]
    out.append(
        Part(text, core, core_words, risk, writes, " ".join(runs), canonical(runs), argv.fed)
    )


_SUBSCRIPT = re.compile(r"\[[^\]]*(\$\(|`|\$\{)")
_INERT = frozenset({"echo", "printf", "true", "false", ":"})  # arguments only printed


def _expansion_risk(cmd: SimpleCommand, argv: _Argv) -> Risk:
    """Parameters (`$X`) are unknown statically: never read-only. An unknown program
    (`$CMD`, `/bin/r?`) may be anything, so it is judged destructive."""
    if argv.runs < len(cmd.words):
        program = cmd.words[argv.runs]
        residue = _IFS_ONLY.sub("", program.value) if program.params else ""
        known = program.value in ("[", "[[") and not program.params
        if not known and unknown_program(residue or program.value, "$" in residue):
            return "destructive"
    inert = argv.program in _INERT and "-v" not in cmd_words(cmd)  # printf -v assigns
    if inert:
        return "read_only"
    args = cmd.words[argv.runs + 1 :]
    if any(w.params for w in args):
        return "normal"
    # `[[ 'a[$(cmd)]' -eq 0 ]]`, `test -v`, `read`, `declare`: subscripts are arithmetic,
    # and arithmetic runs command substitutions.
    return "normal" if any(_SUBSCRIPT.search(w.value) for w in cmd.words) else "read_only"


_IFS_ONLY = re.compile(r"\$\{IFS\}|\$IFS(?![A-Za-z0-9_])")


def cmd_words(cmd: SimpleCommand) -> list[str]:
    return [w.value for w in cmd.words]


def _runs_file(words: list[str], argv: _Argv) -> bool:
    """`bash script.sh`: an operand after the options (not `-s`, which reads stdin)."""
    rest = words[argv.runs + 1 :]
    operands = [w for w in rest if not w.startswith(("-", "+"))]
    return bool(operands) and "-s" not in rest


def _stdin_script(cmd: SimpleCommand) -> str | None:
    for r in cmd.redirects:
        op = r.op.lstrip("0123456789")
        if op == "<<<":
            return r.target.value
        if op in ("<<", "<<-") and r.body is not None:
            return r.body
    return None


def _redirect_effect(r: Redirect) -> Risk:
    op, target = r.op.lstrip("0123456789"), r.target.value
    if "<" in op and op != "<>":
        return "read_only"
    if op in (">&", "<&") and (target.isdigit() or target == "-"):
        return "read_only"  # 2>&1, >&2: duplicating a descriptor
    if target in SAFE_SINKS or target.startswith("/dev/fd/"):
        return "read_only"
    return "destructive" if DISK_DEVICE.match(target) else "normal"


def _render(r: Redirect) -> str:
    dup = r.op.lstrip("0123456789") == ">&"
    return r.op + r.target.value if dup else f"{r.op} {r.target.value}"


def _downloads(cmd: SimpleCommand) -> bool:
    return _argv([w.value for w in cmd.words]).program in DOWNLOADERS or any(
        _downloads(c) for c in cmd.nested
    )


# --- wrappers ----------------------------------------------------------------------------


@dataclass
class _Argv:
    risk: Risk = "read_only"
    core: int = 0  # index of the first word after see-through wrappers
    runs: int = 0  # index of the program that finally runs
    program: str = ""
    scripts: list[str] = field(default_factory=list)  # bash -c / eval / env -S text
    transparent: bool = False  # the command only runs `scripts`
    inner: list[list[str]] = field(default_factory=list)
    fed: bool = False  # run by xargs


def _name(word: str) -> str:
    return word.rsplit("/", 1)[-1]


def _argv(words: list[str]) -> _Argv:
    """Strip assignments, keywords and wrappers, then judge the program that really runs."""
    a = _Argv()
    i, frozen, via_xargs = 0, False, False
    while i < len(words):
        nxt: int | None
        word, prog = words[i], _name(words[i])
        if match := _ASSIGNMENT.fullmatch(word):
            nxt = i + 1
            if _dangerous_env(match[1], match[2]):
                a.risk, frozen = "normal", True
        elif word in _RESERVED:
            nxt = i + 1
        elif prog in STRUCTURAL:
            return a  # `for x in …`, `case … in`: the bodies are separate parts
        elif prog in SHELLS and (script := _shell_script(words[i + 1 :])) is not None:
            a.program, a.scripts, a.transparent = prog, [script], True
            return a
        elif prog == "eval":
            a.program, a.scripts, a.transparent = prog, [" ".join(words[i + 1 :])], True
            return a
        elif prog == "env":
            nxt, script, dangerous = _skip_env(words, i + 1)
            if dangerous:
                a.risk, frozen = "normal", True
            if script is not None:
                a.program, a.scripts, a.transparent = prog, [script], True
                return a
        elif prog == "xargs":  # appends its input to the command: never stripped for rules
            nxt = _skip_options(words, i + 1, "InPLdEsa", _XARGS_LONG)
            frozen = via_xargs = a.fed = True
            if nxt >= len(words):
                return a  # plain xargs echoes
        elif prog in ("sudo", "doas"):  # seen through only to judge and deny what it runs
            nxt = _skip_options(words, i + 1, "ugCDhprtTU", frozenset({"--user", "--group"}))
            a.risk, frozen = "destructive", True
        elif prog in _WRAPPERS or prog in _TRACERS:
            nxt = _skip_wrapper(prog, words, i + 1)
            if nxt is None:
                return a  # `command -v x`, `time` alone: a query
            if prog in _TRACERS or (prog == "flock" and "-c" in words[i + 1 : nxt]):
                a.risk, frozen = "normal", True
        elif prog == "watch":  # runs its arguments through sh -c, again and again
            rest = words[_skip_options(words, i + 1, "ngd", frozenset({"--interval"})) :]
            a.program, a.scripts, a.transparent = prog, [" ".join(rest)], True
            a.risk = "normal"
            return a
        else:
            break
        i = a.runs = nxt
        if not frozen:
            a.core = i
    if i >= len(words):
        return a
    a.program = _name(words[i])
    risk, a.inner = program_risk(a.program, words[i + 1 :])
    if via_xargs and a.program in DELETERS:
        risk = "destructive"
    elif via_xargs and a.program not in READ_ONLY:
        risk = worst(risk, "normal")  # it gets words we cannot see (`xargs git` + "push")
    a.risk = worst(a.risk, risk)
    return a


_WRAPPERS = frozenset({"command", "builtin", "nice", "nohup", "time", "timeout", "stdbuf", "exec"})
# Run the command that follows (after their options); tracers run it too, and are "normal".
_WRAPPERS |= {"setsid", "ionice", "taskset", "chrt", "flock", "unbuffer", "catchsegv"}
_TRACERS = frozenset({"strace", "ltrace"})
_XARGS_LONG = frozenset(
    {"--arg-file", "--delimiter", "--max-args", "--max-procs", "--max-lines", "--max-chars"}
)


def _skip_options(words: list[str], i: int, short_values: str, long_values: frozenset[str]) -> int:
    """Index of the first non-option word; options listed as taking a value consume one."""
    while i < len(words) and words[i].startswith("-") and len(words[i]) > 1:
        w = words[i]
        i += 1
        if w == "--":
            break
        if w in long_values or (len(w) == 2 and w[1] in short_values):
            i += 1
    return i


def _skip_wrapper(prog: str, words: list[str], i: int) -> int | None:
    if prog == "command" and i < len(words) and words[i] in ("-v", "-V"):
        return None
    if prog == "timeout":
        i = _skip_options(words, i, "sk", frozenset({"--signal", "--kill-after"})) + 1
    elif prog == "nice":
        i = _skip_options(words, i, "n", frozenset({"--adjustment"}))
    elif prog == "stdbuf":
        i = _skip_options(words, i, "ioe", frozenset({"--input", "--output", "--error"}))
    elif prog == "exec":
        i = _skip_options(words, i, "a", frozenset())
    elif prog == "ionice":
        i = _skip_options(words, i, "cnpP", frozenset({"--class", "--classdata", "--pid"}))
    elif prog in ("taskset", "chrt", "flock"):  # a mask, a priority or a lock file first
        i = _skip_options(words, i, "pc" if prog == "taskset" else "wE", frozenset()) + 1
    elif prog in _TRACERS:
        i = _skip_options(words, i, "eoOpPsSuEIabX", frozenset())
    else:  # command -p, time -p, builtin, nohup
        i = _skip_options(words, i, "", frozenset())
    return i if i < len(words) else None


def _skip_env(words: list[str], i: int) -> tuple[int, str | None, bool]:
    """(index of the command, an -S script, whether a dangerous variable is set)."""
    dangerous = False
    while i < len(words):
        w = words[i]
        if w in ("-u", "--unset", "-C", "--chdir"):
            i += 2
        elif w in ("-S", "--split-string"):
            return i, " ".join(words[i + 1 :]), dangerous
        elif w.startswith(("-S", "--split-string=")):
            attached = w[2:] if w.startswith("-S") else w.split("=", 1)[1]
            return i, " ".join([attached, *words[i + 1 :]]), dangerous
        elif w.startswith("-"):
            i += 1
        elif match := _ASSIGNMENT.fullmatch(w):
            dangerous = dangerous or _dangerous_env(match[1], match[2])
            i += 1
        else:
            break
    return i, None, dangerous


def _dangerous_env(name: str, value: str) -> bool:
    if name in ("PAGER", "GIT_PAGER") and value in ("", "cat"):
        return False
    return name in _DANGEROUS_ENV or name.startswith(("LD_", "DYLD_", "GIT_"))


_SHELL_OPTION = re.compile(r"[-+][A-Za-z]+|--[a-z][a-z-]*")


def _shell_script(args: list[str]) -> str | None:
    """The script of `sh -c SCRIPT`, or None when the shell runs a file or stdin."""
    has_c = False
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file"):
            i += 2
            continue
        if a == "--" or not _SHELL_OPTION.fullmatch(a):
            break  # the first operand; anything odd-looking counts as one, to be judged
        has_c = has_c or (not a.startswith("--") and "c" in a)
        i += 1
    if not has_c:
        return None
    i += 1 if i < len(args) and args[i] == "--" else 0
    return args[i] if i < len(args) else ""


# --- lines that do not parse ---------------------------------------------------------------

_ROUGH_SPLIT = re.compile(r"\$\(|[;&|\n()`{}<>]")


def _rough_parts(command: str) -> list[Part]:
    """Pieces between anything that could be an operator, quotes dropped; never read-only."""
    parts: list[Part] = []
    for piece in _ROUGH_SPLIT.split(command):
        words = piece.replace("'", " ").replace('"', " ").replace("\\", "").split()
        if words:
            text = " ".join(words)
            argv = _argv(words)
            # Quotes may have been misread: judge every risky-looking program in the piece.
            risks = [_argv(words[k:]).risk for k, w in enumerate(words) if may_destroy(_name(w))]
            risk = worst("normal", argv.risk, *risks)
            core = " ".join(words[argv.core :])
            parts.append(Part(text, core, tuple(words[argv.core :]), risk, runs=core))
    return parts
