"""`@path` mentions in a prompt: `@src/a.py` or `@src/a.py:10-20` attaches that file (or
those lines) as context, read through the front end's workspace view, so an editor's
unsaved buffer is what is attached. Only paths inside the workspace roots are read; a
mention that is not a readable workspace file stays as text, with a note when it looked
like a path."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lsp_agent.workspace import PathOutsideWorkspace, Workspace, WorkspaceError

MAX_MENTIONS = 10
MAX_LINE = 10_000_000  # a line number past this is a typo, not a file's line
FILE_CAP = 100_000  # characters attached of one file
TOTAL_CAP = 200_000
# After a space (or at the start), so e-mail addresses and `a@b` are not mentions; a
# quoted form takes paths with spaces. A trailing `.`/`,`/`)` is punctuation, not the path.
_BARE = re.compile(r"[\w./~+-]*[\w/~+-]")
_MENTION = re.compile(
    r'(?<!\S)@(?:"(?P<quoted>[^"\n]+)"|(?P<bare>' + _BARE.pattern + "))"
    r"(?::(?P<start>\d+)(?:-(?P<end>\d+))?)?"
)


# A URI's line range: `#L10-20` (GitHub's spelling), `#L10:20` (Zed's), `#L10`.
_FRAGMENT = re.compile(r"L(\d{1,9})(?:[-:,]L?(\d{1,9}))?")


def line_fragment(uri: str) -> tuple[str, tuple[int, int] | None]:
    """A URI without its fragment, and the lines a `#L10-20` fragment names (1-based)."""
    base, _, fragment = uri.partition("#")
    found = _FRAGMENT.fullmatch(fragment)
    if not found:
        return base, None
    start = int(found[1])
    return base, (start, int(found[2]) if found[2] else start)


@dataclass
class Expanded:
    text: str
    attached: list[str] = field(default_factory=list)  # workspace-relative names
    notes: list[str] = field(default_factory=list)


def attachment(name: str, text: str, what: str) -> str:
    """How a file's text is put into a prompt (an ACP embedded resource too)."""
    fence = "````" if "```" in text else "```"
    text = text.removesuffix("\n")  # the fence closes the last line
    return f"{name} ({what}):\n{fence}\n{text}\n{fence}"


def mention(name: str) -> str | None:
    """How a front end writes a mention of a workspace file into the prompt text (None
    for a name no mention can spell)."""
    if _BARE.fullmatch(name):
        return f"@{name}"
    return None if '"' in name or "\n" in name else f'@"{name}"'


async def expand_mentions(text: str, workspace: Workspace) -> Expanded:
    """The prompt with each mentioned file's text appended after it."""
    out = Expanded(text)
    blocks: list[str] = []
    total = 0
    seen: set[tuple[str, int | None, int | None]] = set()
    for match in _MENTION.finditer(text):
        raw = match["quoted"] or match["bare"]
        start, end = _number(match["start"]), _number(match["end"])
        end = start if match["end"] is None else end
        if (raw, start, end) in seen:
            continue
        seen.add((raw, start, end))
        spelled = _shown(match[0])
        if _odd(raw):
            out.notes.append(f"{spelled} not attached: the name has control or invalid characters")
            continue
        if problem := _bad_range(start, end, match["start"] is not None):
            out.notes.append(f"{spelled} not attached: {problem}")
            continue
        if len(out.attached) >= MAX_MENTIONS:
            out.notes.append(f"only the first {MAX_MENTIONS} @mentions are attached")
            break
        pathlike = "/" in raw or "." in raw or match["quoted"] is not None
        try:
            path = workspace.resolve(raw)
            doc = await workspace.read(path)
        except PathOutsideWorkspace:
            out.notes.append(f"@{raw} is outside the workspace: left as text, not read")
            continue
        except WorkspaceError as e:
            out.notes.append(f"@{raw} not attached: {e}")
            continue
        if not doc.exists:
            if pathlike:
                out.notes.append(f"@{raw} not attached: no such file in the workspace")
            continue
        name = workspace.display(path)
        body, what, problem = _lines(doc.text, start, end, name)
        if problem:
            out.notes.append(f"{spelled} {problem}")
        if body is None:
            continue
        if len(body) > FILE_CAP:
            body = body[:FILE_CAP] + f"\n[… truncated at {FILE_CAP} characters]"
            out.notes.append(f"@{raw} truncated to {FILE_CAP} characters")
        if total + len(body) > TOTAL_CAP:
            out.notes.append(f"@{raw} not attached: the mentions pass {TOTAL_CAP} characters")
            continue
        total += len(body)
        label = f"{name}:{what}" if what else name
        kind = "the editor's current text" if doc.version is not None else "attached"
        blocks.append(attachment(label, body, kind))
        out.attached.append(label)
    if blocks:
        out.text = text + "\n\n" + "\n\n".join(blocks)
    return out


def _odd(name: str) -> bool:
    """Control characters or lone surrogates (JSON can carry them): never a file name."""
    return any(ord(c) < 32 or ord(c) == 127 or 0xD800 <= ord(c) <= 0xDFFF for c in name)


def _shown(spelled: str, most: int = 60) -> str:
    """A mention as a note quotes it: escaped, and cut short."""
    text = "".join(f"\\u{ord(c):04x}" if _odd(c) else c for c in spelled)
    return text if len(text) <= most else text[: most - 1] + "…"


def _number(digits: str | None) -> int | None:
    """A typed line number; one too long to be a line becomes MAX_LINE + 1 (int() of
    thousands of digits would raise)."""
    if digits is None:
        return None
    return int(digits) if len(digits) <= 9 else MAX_LINE + 1


def _bad_range(start: int | None, end: int | None, given: bool) -> str | None:
    if not given:
        return None
    assert start is not None and end is not None
    if start == 0 or end == 0:
        return "line numbers start at 1"
    if start > MAX_LINE or end > MAX_LINE:
        return f"line numbers past {MAX_LINE:,} are not lines of a source file"
    if end < start:
        return f"the range ends before it starts (write :{end}-{start})"
    return None


def _lines(
    text: str, start: int | None, end: int | None, name: str
) -> tuple[str | None, str, str | None]:
    """(the lines attached or None, how they are named, a note)."""
    if start is None or end is None:
        return text, "", None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline ends the last line; it does not start one
    count = len(lines)
    if start > count:
        has = "is empty" if count == 0 else f"has {count} line{'s' if count != 1 else ''}"
        return None, "", f"not attached: {name} {has}"
    note = None
    if end > count:
        note = f"attached lines {start}-{count}: {name} has {count} lines"
        end = count
    what = f"{start}-{end}" if end != start else str(start)
    return "\n".join(lines[start - 1 : end]), what, note
