"""Cancelling a prompt, all three ways: `agent/session/cancel`, `$/cancelRequest` on the
prompt request (answered with -32800 RequestCancelled), and `window/workDoneProgress/cancel`
on its progress token (given by the client, or created by the server). Each stops a
running shell command with its whole process group, or closes a stalled model stream."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException

from tests.fakes.model_server import text_reply, tool_call_reply
from tests.lsp.conftest import one_flavour
from tests.lsp.harness import AgentClient
from tests.procs import running, sleep_marker, spawn_two

MARK = sleep_marker()

WAYS = ["session-cancel", "cancel-request", "progress-client-token", "progress-server-token"]
REQUEST_CANCELLED = -32800


async def start(agent: AgentClient, way: str, text: str) -> tuple[str, str, Any, Any]:
    """Start a prompt; (session, request id, task, progress token)."""
    session = await agent.new_session()
    extra = {"workDoneToken": f"token-{agent.prefix}"} if way == "progress-client-token" else {}
    msg_id, pending = agent.start_prompt(session, text, **extra)
    if extra:
        token = extra["workDoneToken"]
    else:
        await agent.editor.until(lambda: bool(agent.editor.progress_created))
        [token] = agent.editor.progress_created
    await agent.editor.until(lambda: bool(agent.editor.progress_of(token)))  # begin arrived
    return session, msg_id, pending, token


async def cancel(agent: AgentClient, way: str, session: str, msg_id: str, token: Any) -> Any:
    """Cancel one way; the prompt's outcome: its result, or the error it was answered with."""
    if way == "session-cancel":
        agent.notify("agent/session/cancel", {"sessionId": session})
    elif way == "cancel-request":
        agent.cancel_request(msg_id)
    else:
        agent.notify(t.WINDOW_WORK_DONE_PROGRESS_CANCEL, t.WorkDoneProgressCancelParams(token))
    return msg_id


async def outcome(pending: Any) -> Any:
    try:
        async with asyncio.timeout(30):  # liveness guard: an ignored cancel fails, not hangs
            return await pending
    except JsonRpcException as e:
        return e


def assert_cancelled(way: str, result: Any) -> None:
    if way == "cancel-request":
        assert isinstance(result, JsonRpcException), result
        assert result.code == REQUEST_CANCELLED
    else:
        assert isinstance(result, dict) and result["stopReason"] == "cancelled", result


@pytest.mark.parametrize("way", WAYS)
async def test_cancel_during_a_shell_command_kills_its_processes(
    agent: AgentClient, way: str
) -> None:
    agent.server.script(
        tool_call_reply([("bash", {"command": spawn_two(MARK)})]),
        text_reply("never asked for"),
    )
    agent.editor.permission_answers.append("allow_once")
    session, msg_id, pending, token = await start(agent, way, "run the slow thing")

    def started() -> bool:
        calls = agent.editor.calls(session)
        return bool(calls) and "started" in calls[0].streamed

    await agent.editor.until(started)
    assert len(running(MARK)) == 2
    await cancel(agent, way, session, msg_id, token)
    result = await outcome(pending)

    assert_cancelled(way, result)
    assert running(MARK) == []  # both sleeps, the one in a session of its own too
    assert len(agent.server.chat_requests) == 1  # the run stopped: no further model call
    [view] = agent.editor.calls(session)
    assert view.final is not None and view.final["status"] == "failed"
    assert agent.editor.progress_of(token)[-1] == {"kind": "end", "message": "cancelled"}


@one_flavour
@pytest.mark.parametrize("way", WAYS)
async def test_cancel_during_a_stalled_model_stream_closes_it(agent: AgentClient, way: str) -> None:
    agent.server.script(text_reply("Let me think about this", chunk_size=4, stall_after=3))
    session, msg_id, pending, token = await start(agent, way, "think hard")
    await agent.editor.until(lambda: agent.editor.text_of(session) == "Let me t")
    await cancel(agent, way, session, msg_id, token)
    result = await outcome(pending)

    assert_cancelled(way, result)
    assert await agent.server.wait_for_disconnect_async()
    assert agent.editor.progress_of(token)[-1] == {"kind": "end", "message": "cancelled"}


@one_flavour
async def test_a_cancelled_session_takes_the_next_prompt(agent: AgentClient) -> None:
    agent.server.script(text_reply("Hmm", stall_after=2), text_reply("Hello again"))
    session, msg_id, pending, token = await start(agent, "session-cancel", "first")
    await agent.editor.until(lambda: bool(agent.editor.text_of(session)))
    await cancel(agent, "session-cancel", session, msg_id, token)
    assert (await pending)["stopReason"] == "cancelled"
    result = await agent.prompt(session, "second")
    assert result["stopReason"] == "end_turn"
    assert agent.editor.text_of(session).endswith("Hello again")
    seqs = agent.editor.seqs(session)
    assert seqs == list(range(len(seqs)))


@one_flavour
@pytest.mark.parametrize("way", ["session-cancel", "cancel-request"])
async def test_cancel_before_the_run_got_going(agent: AgentClient, way: str) -> None:
    """Cancelled while the server still waits for the editor to create its progress token."""
    agent.server.script(text_reply("never sent"), text_reply("second"))
    hold = agent.editor.hold_progress_create = asyncio.get_running_loop().create_future()
    session = await agent.new_session()
    msg_id, pending = agent.start_prompt(session, "first")
    await agent.editor.until(lambda: bool(agent.editor.progress_created))
    await cancel(agent, way, session, msg_id, None)
    result = await outcome(pending)
    hold.set_result(None)
    assert_cancelled(way, result)
    assert agent.server.chat_requests == []
    agent.editor.hold_progress_create = None
    assert (await agent.prompt(session, "again"))["stopReason"] == "end_turn"
    assert agent.editor.text_of(session) == "never sent"
