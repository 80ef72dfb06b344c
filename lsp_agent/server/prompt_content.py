"""An LSP prompt's content blocks -> the engine's prompt text, and an inline edit's scope.

- text: as is;
- a resource link to a workspace file: an @mention (`#L10-20` in the URI: those lines), so
  the engine attaches it from the editor's view of the file;
- an embedded resource: `lsp-agent:problems` is the editor's diagnostics (`@problems`), a
  file URI with a `#L3-5` fragment the user's selection (`@selection`), anything else text
  the editor attached.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from lsp_agent.agent.edit_scope import EditScope, lines_of
from lsp_agent.agent.mentions import FILE_CAP, attachment, line_fragment, mention
from lsp_agent.server import protocol as p
from lsp_agent.server.editor_context import describe_diagnostics
from lsp_agent.server.uris import NotAFileUri, uri_to_path
from lsp_agent.workspace import Workspace, WorkspaceError

MAX_PROBLEMS = 200
MESSAGE_CAP = 500  # characters of one diagnostic's message


class PromptProblem(ValueError):
    """A prompt the client got wrong: the message names the block and what is wrong."""


class FileProblems(BaseModel):
    model_config = ConfigDict(extra="ignore")
    uri: str
    diagnostics: list[p.Diagnostic]


def prompt_text(prompt: list[p.ContentBlock] | str, workspace: Workspace) -> str:
    if isinstance(prompt, str):
        return prompt
    parts: list[str] = []
    for i, block in enumerate(prompt):
        if isinstance(block, p.TextBlock):
            parts.append(block.text)
        elif isinstance(block, p.ResourceLinkBlock):
            parts.append(_link(block, workspace))
        elif block.resource.uri == p.PROBLEMS_URI:
            parts.append(_problems(block.resource.text, workspace, i))
        else:
            parts.append(_embedded(block.resource, workspace))
    return "\n".join(parts)


def _workspace_path(uri: str, workspace: Workspace) -> Path | None:
    try:
        return workspace.resolve(str(uri_to_path(uri) if uri.startswith("file:") else uri))
    except (NotAFileUri, WorkspaceError, ValueError):
        return None


def _link(block: p.ResourceLinkBlock, workspace: Workspace) -> str:
    base, lines = line_fragment(block.uri)
    path = _workspace_path(base, workspace)
    written = mention(workspace.display(path)) if path is not None else None
    if written is None:
        return f"[{block.name or block.uri}]({block.uri})"
    return written + (f":{lines[0]}-{lines[1]}" if lines else "")


def _embedded(resource: p.TextResource, workspace: Workspace) -> str:
    base, lines = line_fragment(resource.uri)
    path = _workspace_path(base, workspace)
    name = workspace.display(path) if path is not None else resource.uri
    text = resource.text
    if len(text) > FILE_CAP:
        text = text[:FILE_CAP] + f"\n[… truncated at {FILE_CAP} characters]"
    if lines is not None and path is not None:
        return attachment(f"{name}:{lines[0]}-{lines[1]}", text, "the user's selection")
    return attachment(name, text, "attached by the editor")


def _problems(raw: str, workspace: Workspace, index: int) -> str:
    try:
        files = [FileProblems.model_validate(f) for f in _json_list(raw)]
    except (ValueError, ValidationError) as e:
        first = str(e).splitlines()[0][:200]
        raise PromptProblem(
            f"prompt.{index}: {p.PROBLEMS_URI} must be a JSON list of {{uri, diagnostics}}: {first}"
        ) from None
    sections: list[str] = []
    shown = total = outside = 0
    for found in files:
        path = _workspace_path(found.uri, workspace)
        if path is None:
            outside += len(found.diagnostics)
            continue
        total += len(found.diagnostics)
        room = MAX_PROBLEMS - shown
        if room <= 0 or not found.diagnostics:
            continue
        kept = [
            d.model_copy(update={"message": d.message[:MESSAGE_CAP]})
            for d in found.diagnostics[:room]
        ]
        shown += len(kept)
        sections.append(f"{workspace.display(path)}:\n{describe_diagnostics(kept)}")
    files_with = len(sections)
    head = f"Problems (the editor's diagnostics: {total} in {files_with} file(s))"
    notes = []
    if total > shown:
        notes.append(f"[only the first {MAX_PROBLEMS} are listed]")
    if outside:
        notes.append(f"[{outside} in files outside the workspace are left out]")
    if not sections:
        return "\n".join([f"{head}: none.", *notes])
    return "\n".join([f"{head}:", *sections, *notes])


def _json_list(raw: str) -> list[object]:
    data = json.loads(raw)
    if not isinstance(data, list):
        raise ValueError("not a list")
    return data


async def inline_edit(
    instruction: str, edit: p.InlineEdit, workspace: Workspace
) -> tuple[str, EditScope]:
    """The prompt of an inline edit, and the scope its edits must stay in."""
    path = _workspace_path(edit.uri, workspace)
    if path is None:
        raise PromptProblem(f"inlineEdit.uri: {edit.uri} is not a file inside the workspace")
    try:
        doc = await workspace.read(path)
    except WorkspaceError as e:
        raise PromptProblem(f"inlineEdit.uri: {e}") from None
    shown = workspace.display(path)
    if not doc.exists:
        raise PromptProblem(f"inlineEdit.uri: {shown} does not exist")
    rng = edit.range
    if (rng.end.line, rng.end.character) < (rng.start.line, rng.start.character):
        raise PromptProblem("inlineEdit.range: it ends before it starts")
    first, last = rng.start.line + 1, rng.end.line + 1
    if rng.end.character == 0 and last > first:
        last -= 1  # a selection of whole lines ends at the start of the next one
    try:
        scope = EditScope.of(path, doc.text, first, last, shown)
    except ValueError as e:
        raise PromptProblem(f"inlineEdit.range: {e}") from None
    selected = "\n".join(lines_of(doc.text)[first - 1 : last])
    if len(selected) > FILE_CAP:
        selected = (
            selected[:FILE_CAP] + f"\n[… truncated at {FILE_CAP} characters: read_file the rest]"
        )
    label = f"{shown}:{first}-{last}" if last != first else f"{shown}:{first}"
    text = "\n\n".join(
        [
            instruction,
            f"This is an inline edit of {scope.describe(shown)} (the user's selection).",
            attachment(label, selected, "the selected lines"),
            f"Change only these lines, with edit_file on {shown}: edits anywhere else are "
            "refused. Make the edit, then say in a sentence what you changed.",
        ]
    )
    return text, scope
