"""Fixtures and message builders for the store tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lsp_agent.model.wire import AssistantMessage, FunctionCall, ToolCall, ToolMessage
from lsp_agent.store import SessionStore


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "sessions.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[SessionStore]:
    with SessionStore(db_path) as s:
        yield s


def call(call_id: str, name: str = "read_file", arguments: str = '{"path": "a.py"}') -> ToolCall:
    return ToolCall(id=call_id, function=FunctionCall(name=name, arguments=arguments))


def assistant(*call_ids: str, content: str | None = None) -> AssistantMessage:
    return AssistantMessage(
        content=content, tool_calls=[call(i) for i in call_ids] if call_ids else None
    )


def result(call_id: str, content: str = "ok") -> ToolMessage:
    return ToolMessage(tool_call_id=call_id, content=content)


class FakeClock:
    """A clock that advances one second per reading, so orderings by time are certain."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def time(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    from lsp_agent.store import sessions, snapshots, transcript

    fake = FakeClock()
    for module in (sessions, snapshots, transcript):
        monkeypatch.setattr(module, "time", fake)
    return fake
