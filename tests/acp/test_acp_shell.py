"""Shell output in ACP tool calls (lsp_agent/acp/terminal.py): a command runs in our own
sandbox even when the client offers `terminal/*`, and its output streams into the tool
call, as a terminal the client feeds when it sets `_meta.terminal_output`, else as text
content that always holds the output so far (ACP's content replaces, it does not append).

The command prints, then blocks on a FIFO until the client has seen that first piece, so
the output arrives in two updates without any timing."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from tests.acp.harness import RecordingClient, acp_agent, prompt_of
from tests.fakes.model_server import FakeModelServer, text_reply, tool_call_reply

COMMAND = "echo one; read -r _ < gate.fifo; echo two"


class WatchingClient(RecordingClient):
    """Sets `first` once the command's streamed output shows its first line."""

    def __init__(self) -> None:
        super().__init__(answer="allow_once")
        self.first = asyncio.Event()

    async def session_update(self, session_id: str, update: Any, **kw: Any) -> None:
        await super().session_update(session_id, update, **kw)
        shown = self.updates[-1][1]
        if shown.get("sessionUpdate") != "tool_call_update":
            return
        fed = (shown.get("_meta") or {}).get("terminal_output", {}).get("data", "")
        text = "".join(c.get("content", {}).get("text", "") for c in shown.get("content") or ())
        if "one" in fed + text and "Exit code" not in text:
            self.first.set()


async def _run(
    workspace: Path, state: Path, model: FakeModelServer, **caps: Any
) -> tuple[WatchingClient, str, str]:
    os.mkfifo(workspace / "gate.fifo")
    model.script(tool_call_reply([("bash", {"command": COMMAND})]), text_reply("ran it"))
    client = WatchingClient()
    async with acp_agent(workspace, state, model, client, **caps) as agent:
        sid = (await agent.conn.new_session(cwd=str(workspace))).session_id
        running = asyncio.ensure_future(agent.conn.prompt(session_id=sid, prompt=prompt_of("go")))
        first = asyncio.ensure_future(client.first.wait())
        await asyncio.wait([running, first], return_when=asyncio.FIRST_COMPLETED)
        assert not running.done(), running.result()  # the command waits on the FIFO
        await asyncio.to_thread(_open_gate, workspace / "gate.fifo")
        result = await running
    assert result.stop_reason == "end_turn"
    assert not [m for _, m in client.frames if str(m.get("method", "")).startswith("terminal/")]
    (call,) = client.of("tool_call", sid)
    return client, sid, call["toolCallId"]


def _open_gate(fifo: Path) -> None:
    with open(fifo, "w", encoding="utf-8") as gate:  # blocks until the command reads it
        gate.write("go\n")


async def test_output_streams_as_a_terminal_the_client_feeds(
    workspace: Path, state: Path, model: FakeModelServer
) -> None:
    meta = {"terminal_output": True}
    client, sid, call_id = await _run(workspace, state, model, terminal=True, meta=meta)
    updates = [u for u in client.of("tool_call_update", sid) if u["toolCallId"] == call_id]
    embedded = [u for u in updates if "terminal_info" in (u.get("_meta") or {})]
    assert len(embedded) == 1
    assert embedded[0]["content"] == [{"type": "terminal", "terminalId": call_id}]
    assert embedded[0]["_meta"]["terminal_info"] == {"terminal_id": call_id, "cwd": str(workspace)}
    fed = [
        u["_meta"]["terminal_output"] for u in updates if "terminal_output" in u.get("_meta", {})
    ]
    assert len(fed) >= 2 and {f["terminal_id"] for f in fed} == {call_id}
    assert "".join(f["data"] for f in fed) == "one\ntwo\n"
    assert updates.index(embedded[0]) < updates.index(
        next(u for u in updates if "terminal_output" in u.get("_meta", {}))
    )
    last = updates[-1]
    assert last["status"] == "completed"
    assert last["_meta"]["terminal_exit"] == {
        "terminal_id": call_id,
        "exit_code": 0,
        "signal": None,
    }
    assert last["content"] == [{"type": "terminal", "terminalId": call_id}]
    assert "Exit code: 0" in last["rawOutput"]["output"]


@pytest.mark.parametrize("offers_terminal", [False, True], ids=["plain", "terminal-offered"])
async def test_output_streams_as_text_holding_everything_so_far(
    workspace: Path, state: Path, model: FakeModelServer, offers_terminal: bool
) -> None:
    client, sid, call_id = await _run(workspace, state, model, terminal=offers_terminal)
    updates = [u for u in client.of("tool_call_update", sid) if u["toolCallId"] == call_id]
    shown = [u["content"][0]["content"]["text"] for u in updates if u.get("content")]
    assert shown[0] == "one\n"  # the first piece, while the command still ran
    assert "one\ntwo" in shown[-2]  # a later piece replaces the content: it holds both
    assert updates[-1]["status"] == "completed"
    assert shown[-1] == "one\ntwo\nExit code: 0"
    assert not any("_meta" in u for u in updates)
