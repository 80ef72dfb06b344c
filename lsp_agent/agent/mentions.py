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
FILE_CAP = 100_000  # characters attached of one file
TOTAL_CAP = 200_000
# After a space (or at the start), so e-mail addresses and `a@b` are not mentions; a
# quoted form takes paths with spaces. A trailing `.`/`,`/`)` is punctuation, not the path.
_BARE = re.compile(r"[\w./~+-]*[\w/~+-]")
_MENTION = re.compile(
    r'(?<!\S)@(?:"(?P<quoted>[^"\n]+)"|(?P<bare>' + _BARE.pattern + "))"
    r"(?::(?P<start>\d+)(?:-(?P<end>\d+))?)?"
)


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
        start = int(match["start"]) if match["start"] else None
        end = int(match["end"]) if match["end"] else start
        if (raw, start, end) in seen:
            continue
        seen.add((raw, start, end))
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
        body, what = _lines(doc.text, start, end)
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


def _lines(text: str, start: int | None, end: int | None) -> tuple[str, str]:
    if start is None:
        return text, ""
    lines = text.split("\n")
    first = max(start, 1)
    last = min(max(end or first, first), len(lines))
    return "\n".join(lines[first - 1 : last]), f"{first}-{last}"
