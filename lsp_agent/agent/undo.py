"""Undo: put back what the agent's edits of the last turns replaced.

A file the user changed since the agent left it is a conflict: undo refuses and names it,
unless forced. Files the agent created are deleted. The undo is told to the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lsp_agent.agent.session import Session
from lsp_agent.model.wire import UserMessage
from lsp_agent.store import AsyncSessionStore, PathChange, sha256_hex
from lsp_agent.workspace import Document, Workspace, WorkspaceError


@dataclass
class UndoResult:
    reverted: list[str] = field(default_factory=list)  # restored to their earlier text
    deleted: list[str] = field(default_factory=list)  # created by the agent, now removed
    conflicts: list[str] = field(default_factory=list)  # changed since the agent's edit
    applied: bool = False


async def undo(
    store: AsyncSessionStore,
    session: Session,
    workspace: Workspace,
    turns: int = 1,
    force: bool = False,
) -> UndoResult:
    """Revert the agent's changes of the last `turns` turns (that are not undone yet).

    The store keeps snapshots by hash: a file still holds what the agent left when its
    current text hashes to the change's `after`. Anything else is a conflict.
    """
    changes = await store.changes_in_last_turns(session.id, turns)
    result = UndoResult()
    planned: list[tuple[PathChange, Document]] = []
    for change in changes:
        try:
            doc = await workspace.read(workspace.resolve(change.path))
        except WorkspaceError:
            result.conflicts.append(change.path)
            continue
        now = sha256_hex(doc.text) if doc.exists else None
        if now != change.after:
            result.conflicts.append(change.path)
        planned.append((change, doc))
    if not changes or (result.conflicts and not force):
        return result
    done: list[int] = []
    for change, doc in planned:
        try:
            if change.before is None:
                if doc.exists:
                    await workspace.delete(doc.path)
                result.deleted.append(change.path)
            else:
                before = (await store.read_blob(change.before)).decode("utf-8")
                await workspace.write(doc, before, label="Undo the agent's edits")
                result.reverted.append(change.path)
        except WorkspaceError:  # changed again meanwhile, or unwritable: leave it be
            if change.path not in result.conflicts:
                result.conflicts.append(change.path)
            continue
        done.extend(change.change_ids)
    if not done:
        return result
    # Only what was reverted counts as undone: the rest stays for a later undo.
    await store.record_undo(session.id, done)
    await _tell_the_model(store, session, turns, result, workspace)
    result.applied = True
    return result


async def _tell_the_model(
    store: AsyncSessionStore, session: Session, turns: int, result: UndoResult, ws: Workspace
) -> None:
    names = [ws.display(Path(p)) for p in result.reverted + result.deleted]
    note = UserMessage(
        content=(
            f"[undo] I reverted your file changes from the last {turns} turn(s): "
            f"{', '.join(names)}. Those files are back to their earlier content"
            + (" (files you created were deleted)" if result.deleted else "")
            + ". Read them again before editing them."
        )
    )
    await store.append_message(session.id, note, await store.last_turn(session.id))
    session.messages.append(note)
    session.stored += 1
