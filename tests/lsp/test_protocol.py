"""The protocol layer, in process: what the daemon keeps per message must not grow."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from lsp_agent.server.server import create_server
from lsp_agent.server.uris import path_to_uri


class Writer:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.wrote = asyncio.Event()

    def write(self, data: bytes) -> None:
        self.sent.append(json.loads(data.split(b"\r\n\r\n", 1)[1]))
        self.wrote.set()

    def close(self) -> None:
        pass

    async def answer(self, msg_id: int) -> dict[str, Any]:
        async with asyncio.timeout(30):  # liveness guard
            while not (found := [m for m in self.sent if m.get("id") == msg_id]):
                self.wrote.clear()
                await self.wrote.wait()
        return found[0]


async def test_finished_notifications_are_forgotten(tmp_path: Path) -> None:
    server = create_server(tmp_path / "state")
    protocol = server.protocol
    writer = Writer()
    protocol.set_writer(writer)  # type: ignore[arg-type]

    def receive(message: dict[str, Any]) -> None:
        raw = json.dumps({"jsonrpc": "2.0", **message})
        protocol.handle_message(json.loads(raw, object_hook=protocol.structure_message))

    receive({"id": 1, "method": "initialize", "params": {"capabilities": {}}})
    assert "result" in await writer.answer(1)
    uri = path_to_uri(tmp_path / "a.py")
    document = {"uri": uri, "languageId": "python", "version": 1, "text": ""}
    receive({"method": "textDocument/didOpen", "params": {"textDocument": document}})
    kept = len(protocol._request_futures)
    for version in range(2, 502):
        change = {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"text": "x"}],
        }
        receive({"method": "textDocument/didChange", "params": change})
        receive({"method": "agent/session/cancel", "params": {"sessionId": "none"}})
    receive({"id": 2, "method": "agent/session/list", "params": {}})
    assert "result" in await writer.answer(2)
    assert len(protocol._request_futures) <= kept
    await server.close()
