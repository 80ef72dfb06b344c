"""Turning what the editor shows (file, selection, diagnostics) into prompt text."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from lsp_agent.agent.commands import SLASH_COMMANDS  # light: not the engine
from lsp_agent.server import protocol as p

SEVERITY = {1: "error", 2: "warning", 3: "info", 4: "hint"}
AROUND = 5  # lines of context shown around a range
MAX_LINES = 200

ReadText = Callable[[str], Awaitable[tuple[str, str] | None]]  # uri -> (name, text)


def excerpt(text: str, rng: p.Range, around: int = AROUND) -> str:
    lines = text.splitlines()
    first = max(0, rng.start.line - around)
    last = min(len(lines), max(rng.end.line, rng.start.line) + around + 1, first + MAX_LINES)
    return "\n".join(f"{i + 1:>5}\t{lines[i]}" for i in range(first, last))


def describe_diagnostics(diagnostics: Sequence[p.Diagnostic]) -> str:
    out = []
    for d in diagnostics:
        where = f"line {d.range.start.line + 1}, column {d.range.start.character + 1}"
        origin = " ".join(str(x) for x in (d.source, d.code) if x is not None)
        severity = SEVERITY.get(d.severity or 1, "error")
        out.append(f"- {where}: {severity}: {d.message}" + (f" [{origin}]" if origin else ""))
    return "\n".join(out)


async def with_context(text: str, context: p.PromptContext | None, read: ReadText) -> str:
    """The user's prompt, followed by the editor context it refers to (not a built-in
    command's: `/compact` with context appended would be sent to the model as a prompt)."""
    if context is None or context.text_document is None or text.strip() in SLASH_COMMANDS:
        return text
    found = await read(context.text_document.uri)
    if found is None:
        return text
    name, body = found
    parts = [text, "", f"Editor context: the user is in {name}."]
    if context.range is not None and not context.range.empty:
        start, end = context.range.start.line + 1, context.range.end.line + 1
        parts.append(f"Selected lines {start}-{end} (with surrounding lines):")
        parts.append(f"```\n{excerpt(body, context.range, 2)}\n```")
    if context.diagnostics:
        parts.append("Diagnostics there:\n" + describe_diagnostics(context.diagnostics))
    return "\n".join(parts)


async def fix_prompt(args: p.FixCommandArgs, read: ReadText) -> str:
    found = await read(args.uri)
    name = found[0] if found else args.uri
    problems = describe_diagnostics(args.diagnostics) or "- (no diagnostic details were given)"
    parts = [f"Fix these problems in {name}:", problems]
    if found is not None:
        parts += ["", "The code around them:", f"```\n{excerpt(found[1], args.range)}\n```"]
    parts.append("\nMake the smallest correct change, then say what you changed.")
    return "\n".join(parts)


async def ask_prompt(prompt: str, uri: str, rng: p.Range | None, read: ReadText) -> str:
    context = p.PromptContext(text_document=p.TextDocumentRef(uri=uri), range=rng)
    return await with_context(prompt, context, read)
