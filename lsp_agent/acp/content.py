"""An ACP prompt's content blocks -> the engine's prompt text, plus the editor's views.

Text is taken as is; a resource link to a workspace file becomes an @mention (attached by the
engine; a `#L10-20` fragment: those lines), any other is named; an embedded text resource is
the editor's buffer: its text goes into the prompt, and the agent's reads of that file see it.
One whose URI has a `#L10-20` fragment is a selection: attached, never the file's view."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from acp import RequestError
from acp.schema import (
    EmbeddedResourceContentBlock,
    ResourceContentBlock,
    TextContentBlock,
    TextResourceContents,
)

from lsp_agent.agent.mentions import attachment, line_fragment, mention
from lsp_agent.server.uris import NotAFileUri, uri_to_path
from lsp_agent.workspace import DiskWorkspace, WorkspaceError


def invalid(message: str) -> RequestError:
    return RequestError(-32602, f"invalid params: {message}")


def prompt_text(blocks: list[Any], workspace: DiskWorkspace) -> tuple[str, dict[Path, str]]:
    parts: list[str] = []
    views: dict[Path, str] = {}
    embedded = {
        _workspace_path(b.resource.uri, workspace)
        for b in blocks
        if isinstance(b, EmbeddedResourceContentBlock)
        and hasattr(b.resource, "text")
        and line_fragment(b.resource.uri)[1] is None
    }
    for i, block in enumerate(blocks):
        if isinstance(block, TextContentBlock):
            parts.append(block.text)
        elif isinstance(block, ResourceContentBlock):
            # A workspace file the client only links (Zed's @file) is attached like an
            # @mention, unless the prompt embeds its text too.
            base, lines = line_fragment(block.uri)
            linked = _workspace_path(base, workspace)
            written = None
            if linked is not None and (linked not in embedded or lines is not None):
                written = mention(workspace.display(linked))
                if written is not None and lines is not None:
                    written += f":{lines[0]}-{lines[1]}"
            if written is not None:
                parts.append(written)
            else:
                parts.append(f"[{block.name or block.uri}]({block.uri})")
        elif isinstance(block, EmbeddedResourceContentBlock):
            resource = block.resource
            if not isinstance(resource, TextResourceContents):
                raise invalid(f"prompt.{i}: binary resources are not supported")
            base, lines = line_fragment(resource.uri)
            path = _workspace_path(base, workspace)
            name = workspace.display(path) if path is not None else resource.uri
            if path is not None and lines is not None:  # a selection: not the whole file
                label = f"{name}:{lines[0]}-{lines[1]}"
                parts.append(attachment(label, resource.text, "the user's selection"))
                continue
            if path is not None:
                views[path] = resource.text
            parts.append(attachment(name, resource.text, "the editor's current text"))
        else:
            kind = getattr(block, "type", type(block).__name__)
            raise invalid(f"prompt.{i}: {kind} content is not supported (see promptCapabilities)")
    return "\n".join(parts), views


def _workspace_path(uri: str, workspace: DiskWorkspace) -> Path | None:
    """The file inside the workspace a resource names; None for anything else."""
    try:
        path = uri_to_path(uri) if uri.startswith("file:") else Path(uri)
        return workspace.resolve(str(path))
    except (NotAFileUri, WorkspaceError, ValueError):
        return None
