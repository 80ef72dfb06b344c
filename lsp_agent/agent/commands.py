"""Custom slash commands: prompt templates in `.lsp-agent/commands/*.md` (the workspace) and
in the user's config folder (`~/.config/lsp-agent/commands`), as Claude Code has them.

A file `review.md` is the command `/review`. An optional frontmatter block gives a
`description:` (and an `argument-hint:`); the body is the prompt, where `$ARGUMENTS` is what
follows the command and `$1`..`$9` its words. Workspace commands override the user's; the
built-ins cannot be overridden. A bad file is skipped with a note, never an error.
"""

from __future__ import annotations

import errno
import os
import re
import shlex
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import platformdirs

from lsp_agent.agent.mentions import expand_mentions
from lsp_agent.workspace import Workspace

# Built-ins the engine runs itself (the session, not the model): no context is added to them.
SLASH_COMMANDS = ("/compact", "/clear")
# Every front end's built-ins, spelled once; each front end offers those it implements.
# A command file of one of these names is ignored, with a note.
BUILTINS: dict[str, str] = {
    "compact": "Summarize the conversation now, to free context",
    "clear": "Start the model afresh (the transcript is kept)",
    "undo": "Revert the agent's file changes of the last turn (or of N turns: /undo N)",
    "sessions": "List this workspace's stored sessions",
    "help": "List the slash commands",
}
RESERVED = frozenset(BUILTINS)
COMMANDS_DIR = Path(".lsp-agent") / "commands"
MAX_FILE_BYTES = 64 * 1024  # a prompt template, not a document
MAX_COMMANDS = 200  # per folder: the listing goes to every client
NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
Source = Literal["workspace", "user"]
_POSITIONAL = re.compile(r"\$([1-9])")
_SLASH = re.compile(r"/([A-Za-z0-9][\w.-]{0,63})(?:\s+(.*))?", re.DOTALL)


@dataclass(frozen=True)
class CustomCommand:
    name: str  # without the slash
    description: str
    template: str
    source: Source
    hint: str | None = None  # what the arguments are, for pickers


@dataclass(frozen=True)
class Commands:
    found: dict[str, CustomCommand]
    notes: list[str]  # files skipped, and why


def user_commands_dir() -> Path:
    return user_config_folder("commands")


def load_commands(root: Path, user_dir: Path | None = None) -> Commands:
    """The custom commands of a workspace, the workspace's over the user's."""
    notes: list[str] = []
    found: dict[str, CustomCommand] = {}
    folders: list[tuple[Path, Source]] = [
        (user_dir or user_commands_dir(), "user"),
        (root / COMMANDS_DIR, "workspace"),
    ]
    for folder, source in folders:
        found.update(_load_folder(folder, source, notes))
    return Commands(dict(sorted(found.items())), notes)


def markdown_files(
    folder: Path, what: str, source: Source, most: int, notes: list[str]
) -> Iterator[tuple[Path, str, str]]:
    """(path, stem, shown name) of each `*.md` in a folder, sorted, at most `most`; a folder
    that cannot be listed, or holds more, is a note. `what` names them: "commands"."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except FileNotFoundError:
        return
    except OSError as e:
        notes.append(f"cannot list the {source} {what} in {folder}: {e.strerror or e}")
        return
    files = [e for e in entries if e.name.endswith(".md")]
    for n, entry in enumerate(files):
        if n == most:
            notes.append(f"more than {most} {what} in {folder}: the rest are skipped")
            return
        yield Path(entry.path), entry.name[:-3], f"{folder}/{entry.name}"


def user_config_folder(name: str) -> Path:
    """A folder of the user's lsp-agent config dir (~/.config/lsp-agent/NAME)."""
    return Path(platformdirs.user_config_dir("lsp-agent")) / name


def _load_folder(folder: Path, source: Source, notes: list[str]) -> dict[str, CustomCommand]:
    found: dict[str, CustomCommand] = {}
    for path, stem, shown in markdown_files(folder, "commands", source, MAX_COMMANDS, notes):
        name = stem.lower()
        if not NAME.fullmatch(name):
            notes.append(
                f"command file {shown!r} skipped: a name is letters, digits, '-', '_' or '.'"
            )
            continue
        if name in RESERVED:
            notes.append(f"command file {shown} skipped: /{name} is a built-in command")
            continue
        try:
            command = _read(path, name, source)
        except CommandFileError as e:
            notes.append(f"command file {shown} skipped: {e}")
            continue
        found[name] = command
    return found


class CommandFileError(Exception):
    pass


def _read(path: Path, name: str, source: Source) -> CustomCommand:
    meta, body = read_markdown(path)
    if not body.strip():
        raise CommandFileError("the prompt is empty")
    description = meta.get("description") or first_line(body)
    return CustomCommand(name, description, body.strip(), source, meta.get("argument-hint"))


def read_markdown(path: Path) -> tuple[dict[str, str], str]:
    """A small Markdown file's frontmatter and body (also agent types' files).

    No symlinks out of the folder and no FIFOs: opened without following, then checked."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as e:
        reason = "it is a symlink" if e.errno == errno.ELOOP else (e.strerror or str(e))
        raise CommandFileError(reason) from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise CommandFileError("not a regular file")
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise CommandFileError(f"larger than {MAX_FILE_BYTES // 1024} KiB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CommandFileError(f"not UTF-8 (byte {e.start})") from None
    return parse_frontmatter(text)


def parse_frontmatter(text: str) -> tuple[dict[str, str], str]:
    """`---` / `key: value` lines / `---`, then the body. A block that never closes, or a
    line that is not `key: value`, is an error (the user meant frontmatter)."""
    text = text.replace("\r\n", "\n")
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---", 3)
    if end < 0:
        raise CommandFileError("the frontmatter's '---' block is never closed")
    meta: dict[str, str] = {}
    for i, line in enumerate(text[4:end].split("\n"), start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip() or " " in key.strip():
            raise CommandFileError(f"frontmatter line {i} is not 'key: value'")
        meta[key.strip().lower()] = value.strip().strip("\"'")
    rest = text[end + 4 :]
    return meta, rest.split("\n", 1)[1] if "\n" in rest else ""


def first_line(body: str) -> str:
    line = next((x.strip() for x in body.splitlines() if x.strip()), "")
    return line[:80] + ("…" if len(line) > 80 else "")


def expand(command: CustomCommand, arguments: str) -> str:
    """The template with its arguments; arguments it has no place for are appended."""
    arguments = arguments.strip()
    template = command.template
    used = "$ARGUMENTS" in template or _POSITIONAL.search(template) is not None
    try:
        words = shlex.split(arguments)
    except ValueError:  # an unclosed quote: words as typed
        words = arguments.split()
    text = template.replace("$ARGUMENTS", arguments)
    text = _POSITIONAL.sub(lambda m: words[int(m[1]) - 1] if int(m[1]) <= len(words) else "", text)
    if arguments and not used:
        text += f"\n\n{arguments}"
    return text


def split_command(text: str) -> tuple[str, str] | None:
    """(name, arguments) when the prompt starts with a slash command."""
    match = _SLASH.fullmatch(text.strip())
    return (match[1].lower(), match[2] or "") if match else None


async def expand_prompt(text: str, root: Path, workspace: Workspace) -> tuple[str, list[str]]:
    """A prompt as the model gets it: a custom command's template filled in, then its
    @mentions attached. Notes say what was skipped (bad command files, unread mentions)."""
    notes: list[str] = []
    call = split_command(text)
    if call is not None and call[0] not in RESERVED:
        commands = load_commands(root)
        command = commands.found.get(call[0])
        if command is not None:
            notes.extend(commands.notes)
            text = expand(command, call[1])
    mentioned = await expand_mentions(text, workspace)
    return mentioned.text, notes + mentioned.notes
