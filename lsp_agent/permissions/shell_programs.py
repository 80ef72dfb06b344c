"""What one program invocation does, judged from its name and arguments.

Conservative by design: a program not listed here is "normal" (may change things), and a
listed read-only program becomes "normal" as soon as an option that writes or runs something
appears. This is a guard against accidents, not a sandbox: anything that runs code the model
wrote (`python x.py`, `npm test`) is "normal" and is trusted only as far as the mode says.
"""

from __future__ import annotations

import re
from typing import Literal

Risk = Literal["read_only", "normal", "destructive"]
RANK: dict[Risk, int] = {"read_only": 0, "normal": 1, "destructive": 2}


def names(text: str) -> frozenset[str]:
    return frozenset(text.split())


def worst(*risks: Risk) -> Risk:
    return max(risks, key=RANK.__getitem__, default="read_only")


READ_ONLY = names(
    """ls cat head tail wc pwd echo printf grep egrep fgrep stat which whereis type du df diff
    cmp cut basename dirname realpath readlink true false test [ [[ : id whoami uname nproc tr
    nl tac rev comm paste join fold column md5sum sha1sum sha224sum sha256sum sha384sum
    sha512sum b2sum cksum seq sleep printenv cd pushd popd dirs jq od hexdump expr locale
    groups uptime arch tty set shift exit return break continue wait"""
)
# Shell syntax that only structures what follows; the commands inside are parsed separately.
STRUCTURAL = frozenset({"for", "select", "case", "function", "in"})
DESTRUCTIVE = names(
    """dd shred truncate mke2fs mkswap wipefs fdisk sfdisk parted shutdown reboot halt
    poweroff sudo doas su pkexec run0"""
)
DELETERS = frozenset({"rm", "shred", "unlink"})  # mass-applied by xargs/find: destructive
SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "csh", "tcsh"})
DOWNLOADERS = frozenset({"curl", "wget", "fetch", "http", "https", "xh", "aria2c"})
_INTERPRETER = re.compile(
    r"(python|pypy)[0-9.]*|perl|ruby|node|nodejs|php|deno|bun|lua|tclsh|pwsh|osascript"
)
_VERSIONED = names(
    """node npm npx pnpm yarn bun deno cargo rustc rustup go java javac ruby perl php gcc g++
    clang clang++ make cmake uv pip pip3 poetry pytest ruff mypy tsc docker dotnet swift
    gradle mvn lua terraform kubectl"""
)
# Devices whose overwriting destroys a disk; other /dev sinks (null, stdout…) are harmless.
DISK_DEVICE = re.compile(r"/dev/(sd|hd|vd|xvd|nvme|mmcblk|disk|rdisk|md|dm-|mapper/|loop|sr)")
SAFE_SINKS = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty"})
_WHOLE_TREE = frozenset({".", "./", "*", "./*", ":/", ":/*", "/", "/*", "~", "~/", "~/*"})
_HOME_TREE = frozenset({"$HOME", "${HOME}", "$HOME/", "$HOME/*", "..", "../"})


def is_shell_or_interpreter(prog: str) -> bool:
    return prog in SHELLS or bool(_INTERPRETER.fullmatch(prog)) or prog in ("eval", "source", ".")


def may_destroy(prog: str) -> bool:
    """Whether some arguments could make `prog` destructive (for judging unparsed lines)."""
    return prog in _MAY_DESTROY or prog in DESTRUCTIVE or prog.startswith("mkfs")


_MAY_DESTROY = names("rm git chmod chown chgrp kill init telinit systemctl rsync tee find xargs")
_MAY_DESTROY |= SHELLS | DELETERS


def _short_flags(args: list[str]) -> set[str]:
    """Letters of single-dash option clusters before `--` (`-rf` -> {r, f})."""
    out: set[str] = set()
    for a in args:
        if a == "--":
            break
        if a.startswith("-") and not a.startswith("--"):
            out.update(a[1:])
    return out


def _long(args: list[str], *names: str) -> bool:
    """Is one of these long options given, or an abbreviation of one? GNU getopt and git
    accept any unambiguous prefix (`sort --out=F` is `--output=F`)."""
    for a in args:
        if a == "--":
            break
        if a.startswith("--") and len(a) > 2:
            given = a.split("=", 1)[0]
            if any(n.startswith(given) for n in names) if len(given) >= 3 else False:
                return True
    return False


def _exactly(args: list[str], *names: str) -> bool:
    """For options that make a command read-only: only as spelled."""
    return any(a.split("=", 1)[0] in names for a in args if a.startswith("--"))


def program_risk(prog: str, args: list[str]) -> tuple[Risk, list[list[str]]]:
    """The risk of `prog args`, and the commands it runs itself (find -exec)."""
    if prog == "find":
        return _find(args)
    return _simple(prog, args), []


def _simple(prog: str, args: list[str]) -> Risk:
    if prog == "set" and (_short_flags(args) & {"x", "v"} or {"xtrace", "verbose"} & set(args)):
        return "normal"  # tracing expands PS4, which can hold a command substitution
    if prog in READ_ONLY or prog in STRUCTURAL:
        return "read_only"
    if prog in DESTRUCTIVE or prog.startswith("mkfs"):
        return "destructive"
    if prog == "git":
        return git_risk(args)
    if prog == "rm":
        wide = any(a in _WHOLE_TREE or a in _HOME_TREE for a in args)
        forced = bool(_short_flags(args) & set("rRf"))
        if wide or forced or _long(args, "--recursive", "--force", "--no-preserve-root"):
            return "destructive"
        return "normal"
    if prog in ("chmod", "chown", "chgrp"):
        recursive = "R" in _short_flags(args) or _long(args, "--recursive")
        return "destructive" if recursive else "normal"
    if prog == "kill":
        return "destructive" if "-1" in _kill_targets(args) else "normal"
    if prog in ("init", "telinit"):
        return "destructive" if args[:1] in (["0"], ["6"]) else "normal"
    if prog == "systemctl":
        stop = {"poweroff", "reboot", "halt", "kexec"}
        return "destructive" if stop & set(args) else "normal"
    if prog == "rsync":
        return "destructive" if any(a.startswith("--delete") for a in args) else "normal"
    if prog == "tee":
        files = [a for a in args if not a.startswith("-")]
        if any(DISK_DEVICE.match(f) for f in files):
            return "destructive"
        return "read_only" if all(f in SAFE_SINKS for f in files) else "normal"
    if prog == "sort":
        writes = "o" in _short_flags(args) or _long(args, "--output", "--compress-program")
        return "normal" if writes else "read_only"
    if prog == "uniq":  # `uniq in out` writes out
        return "normal" if len(_positionals(args, "fsw")) > 1 else "read_only"
    if prog == "rg":  # --pre runs a program on every file
        return "normal" if _long(args, "--pre") else "read_only"
    if prog == "tree":
        return "normal" if any(a.startswith("-o") for a in args) else "read_only"
    if prog == "date":
        return "normal" if "s" in _short_flags(args) or _long(args, "--set") else "read_only"
    if prog == "file":
        return "normal" if "C" in _short_flags(args) or _long(args, "--compile") else "read_only"
    if prog == "hostname":
        return "normal" if _positionals(args, "") else "read_only"
    if prog == "sed":
        return _sed(args)
    if _is_version_query(prog, args):
        return "read_only"
    return "normal"


def _positionals(args: list[str], takes_value: str) -> list[str]:
    out: list[str] = []
    skip = False
    for a in args:
        if skip:
            skip = False
        elif a.startswith("-") and len(a) > 1:
            skip = len(a) == 2 and a[1] in takes_value
        else:
            out.append(a)
    return out


def _kill_targets(args: list[str]) -> list[str]:
    rest = list(args)
    if rest and rest[0] in ("-s", "-n"):
        rest = rest[2:]
    elif rest and rest[0].startswith("-") and rest[0] not in ("--", "-1"):
        rest = rest[1:]  # the signal, e.g. -9 or -KILL
    return [a for a in rest if a != "--"]


_SED_PRINT = re.compile(r"\s*(\d+|\$)(\s*,\s*(\d+|\$))?\s*p\s*")


def _sed(args: list[str]) -> Risk:
    """Only `sed -n 'A,Bp' files…`, the common way to read a line range, is read-only."""
    prints = len(args) >= 2 and args[0] in ("-n", "--quiet") and _SED_PRINT.fullmatch(args[1])
    return "read_only" if prints and not any(a.startswith("-") for a in args[2:]) else "normal"


def _is_version_query(prog: str, args: list[str]) -> bool:
    if re.fullmatch(r"(python|pypy)[0-9.]*", prog):
        return args in (["--version"], ["-V"], ["-VV"])
    if prog == "go":
        return args == ["version"]
    if prog == "java":
        return args in (["-version"], ["--version"])
    if prog in ("node", "npm") and args == ["-v"]:
        return True
    return prog in _VERSIONED and args == ["--version"]


def _find(args: list[str]) -> tuple[Risk, list[list[str]]]:
    risk: Risk = "read_only"
    inner: list[list[str]] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-delete":
            risk = "destructive"
        elif a in ("-exec", "-execdir", "-ok", "-okdir"):
            j = i + 1
            while j < len(args) and args[j] not in (";", "+"):
                j += 1
            cmd = args[i + 1 : j]
            inner.append(cmd)
            deletes = bool(cmd) and cmd[0].rsplit("/", 1)[-1] in DELETERS
            risk = worst(risk, "destructive" if deletes else "normal")
            i = j
        elif a.startswith(("-fprint", "-fls")):
            risk = worst(risk, "normal")
        i += 1
    return risk, inner


# --- git ---------------------------------------------------------------------------------

_GIT_READ = names(
    """status diff log show blame annotate rev-parse ls-files ls-tree ls-remote describe grep
    shortlog cat-file rev-list merge-base name-rev whatchanged count-objects for-each-ref
    show-ref check-ignore check-attr var version diff-tree diff-files diff-index cherry
    show-branch"""
)
_GIT_GLOBAL_FLAGS = names(
    """--no-pager -P --paginate -p --bare --no-replace-objects --literal-pathspecs
    --glob-pathspecs --noglob-pathspecs --icase-pathspecs --no-optional-locks"""
)
_GIT_BRANCH_LIST = names(
    """-a --all -r --remotes -v -vv --verbose -l --list --show-current --contains --no-contains
    --merged --no-merged --points-at --sort --format --color --no-color --column --no-column
    -i --ignore-case --abbrev --no-abbrev --omit-empty"""
)


def git_risk(args: list[str]) -> Risk:
    floor: Risk = "read_only"
    i = 0
    while i < len(args) and args[i].startswith("-"):
        a = args[i]
        if a in ("-C", "--git-dir", "--work-tree"):
            floor = "normal"  # another repository: its config can run code (core.fsmonitor)
            i += 1
        elif a == "--namespace":
            i += 1
        elif a in ("--version", "--help", "-h"):
            return floor
        elif a.startswith(("--git-dir=", "--work-tree=")):
            floor = "normal"
        elif a not in _GIT_GLOBAL_FLAGS and not a.startswith("--namespace="):
            floor = "normal"  # -c/--config-env can set a pager, hook or fsmonitor: runs code
            i += 1 if a == "-c" else 0
        i += 1
    if i >= len(args):
        return floor
    return worst(floor, _git_subcommand(args[i], args[i + 1 :]))


def _git_subcommand(sub: str, rest: list[str]) -> Risk:
    flags = _short_flags(rest)
    if sub in _GIT_READ:
        # --output writes a file, --ext-diff and -O (open in pager) run programs.
        runs = _long(rest, *_GIT_RUNS) or (sub == "grep" and "O" in flags)
        runs = runs or (sub == "ls-remote" and "u" in flags)  # -u is --upload-pack
        return "normal" if runs else "read_only"
    if sub == "branch":
        if "D" in flags or (("d" in flags or _long(rest, "--delete")) and _forced(rest, flags)):
            return "destructive"
        return "read_only" if _branch_lists(rest) else "normal"
    if sub == "push":
        forced = _forced(rest, flags) or "d" in flags
        forced = forced or _long(rest, "--force-with-lease", "--force-if-includes", "--mirror")
        forced = forced or _long(rest, "--delete", "--prune")
        forced = forced or any(a.startswith(("+", ":")) for a in rest)  # +force, :delete
        return "destructive" if forced else "normal"
    if sub == "reset":
        return "destructive" if "--hard" in rest else "normal"
    if sub == "clean":
        if "n" in flags or _exactly(rest, "--dry-run"):
            return "read_only" if "i" not in flags else "normal"
        return "destructive" if _forced(rest, flags) else "normal"
    if sub == "checkout":  # discards uncommitted work in bulk; one named file stays normal
        wide = any(a in _WHOLE_TREE for a in rest)
        return "destructive" if wide or _forced(rest, flags) else "normal"
    if sub == "restore":
        index_only = ("S" in flags or _exactly(rest, "--staged")) and not (
            "W" in flags or _long(rest, "--worktree")
        )
        wide = any(a in _WHOLE_TREE for a in rest)
        return "destructive" if wide and not index_only else "normal"
    if sub == "switch":
        return "destructive" if _forced(rest, flags) or "--discard-changes" in rest else "normal"
    if sub == "rm":
        return "destructive" if _forced(rest, flags) else "normal"
    if sub == "stash":
        action = rest[0] if rest else "push"
        stash: dict[str, Risk] = {"list": "read_only", "show": "read_only", "clear": "destructive"}
        return stash.get(action, "normal")
    if sub == "reflog":
        action = rest[0] if rest else "show"
        return "destructive" if action in ("expire", "delete") else "read_only"
    if sub == "gc":
        return "destructive" if any(a in ("--prune=now", "--prune=all") for a in rest) else "normal"
    if sub == "filter-branch":
        return "destructive"
    if sub == "remote":  # only listing: `git remote -v add x url` adds a remote
        words = [a for a in rest if a not in ("-v", "--verbose")]
        return "read_only" if not words or (words[0] == "get-url" and len(words) == 2) else "normal"
    if sub == "tag":
        listing = not rest or "l" in flags or _exactly(rest, "--list")
        return "read_only" if listing and not _positionals(rest, "") else "normal"
    if sub == "config":
        writes = _long(rest, "--add", "--unset", "--unset-all", "--replace-all", "--edit")
        writes = writes or _long(rest, "--rename-section", "--remove-section") or "e" in flags
        reads = _exactly(rest, "--get", "--get-all", "--get-regexp", "--list", "--get-urlmatch")
        reads = reads or "l" in flags or rest[:1] in (["get"], ["list"])
        return "read_only" if reads and not writes else "normal"
    return "normal"


# Options of read-only subcommands that write a file or run a program.
_GIT_RUNS: tuple[str, ...] = (
    "--output",
    "--ext-diff",
    "--open-files-in-pager",
    "--upload-pack",
    "--exec",
)
_GIT_RUNS += ("--textconv", "--pager")
# Global options that take a value as the next word.
_GIT_GLOBAL_VALUES = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace"})
_GIT_GLOBAL_VALUES |= {"--config-env", "--exec-path", "--super-prefix", "--list-cmds"}


def canonical(words: list[str]) -> str:
    """A command as deny rules see it: the program by base name (`/bin/rm` is `rm`), and
    for git without its global options (`git -C . push` is `git push`)."""
    if not words:
        return ""
    out = [words[0].rsplit("/", 1)[-1]]
    i = 1
    if out[0] == "git":
        while i < len(words) and words[i].startswith("-") and words[i] != "--":
            i += 2 if words[i] in _GIT_GLOBAL_VALUES else 1
    return " ".join([*out, *words[i:]])


def _forced(rest: list[str], flags: set[str]) -> bool:
    return "f" in flags or _long(rest, "--force")


def _branch_lists(rest: list[str]) -> bool:
    """`git branch` that only lists: known listing flags, and patterns only with --list."""
    listing = "--list" in rest or "-l" in rest
    takes_value = {"--contains", "--no-contains", "--merged", "--no-merged", "--points-at"}
    takes_value |= {"--sort", "--format"}
    skip = False
    for a in rest:
        if skip:
            skip = False
        elif a.startswith("-"):
            if a.split("=", 1)[0] not in _GIT_BRANCH_LIST:
                return False
            skip = a in takes_value
        elif not listing:
            return False
    return True
