"""Several sessions run at once; one prompt per session at a time (-32002 otherwise)."""

from __future__ import annotations

import asyncio
from typing import Any

from pygls.exceptions import JsonRpcException

from tests.fakes.model_server import FakeResponse, RecordedRequest, text_reply, tool_call_reply
from tests.lsp.conftest import one_flavour
from tests.lsp.harness import AgentClient

SESSION_BUSY = -32002


def per_task(request: RecordedRequest) -> FakeResponse:
    """Each session's model: run `echo <task>`, then say it is done."""
    messages = request.body["messages"]
    task = next(m["content"] for m in messages if m["role"] == "user").split()[-1]
    if any(m["role"] == "tool" for m in messages):
        return text_reply(f"done {task}")
    return tool_call_reply([("bash", {"command": f"echo output-of-{task}"})])


def held(agent: AgentClient, n: int) -> list[asyncio.Future[Any]]:
    """The next n permission answers, held until the test releases them."""
    loop = asyncio.get_running_loop()
    answers: list[asyncio.Future[Any]] = [loop.create_future() for _ in range(n)]
    agent.editor.permission_answers += answers
    return answers


async def test_two_sessions_run_concurrently(agent: AgentClient) -> None:
    agent.server.respond_with(per_task)
    answers = held(agent, 2)
    first, second = await agent.new_session(), await agent.new_session()
    _, one = agent.start_prompt(first, "do task-a")
    _, two = agent.start_prompt(second, "do task-b")
    # both runs are in flight at once: each waits for its permission answer
    await agent.editor.until(lambda: len(agent.editor.permission_requests) == 2)
    assert {r["sessionId"] for r in agent.editor.permission_requests} == {first, second}
    for answer in answers:
        answer.set_result("allow_once")
    results = await asyncio.gather(one, two)

    assert [r["stopReason"] for r in results] == ["end_turn", "end_turn"]
    for session, task in ((first, "task-a"), (second, "task-b")):
        assert agent.editor.text_of(session) == f"done {task}"
        [view] = agent.editor.calls(session)
        assert f"output-of-{task}" in view.output
        seqs = agent.editor.seqs(session)
        assert seqs == list(range(len(seqs)))


async def test_a_second_prompt_on_a_busy_session_is_refused(agent: AgentClient) -> None:
    agent.server.respond_with(per_task)
    [answer] = held(agent, 1)
    session = await agent.new_session()
    _, first = agent.start_prompt(session, "do task-a")
    await agent.editor.until(lambda: bool(agent.editor.permission_requests))
    try:
        await agent.prompt(session, "do task-b")
    except JsonRpcException as e:
        refused = e
    else:
        raise AssertionError("the second prompt was accepted")
    assert refused.code == SESSION_BUSY
    assert "already running a prompt" in refused.message
    answer.set_result("allow_once")
    result = await first  # the first prompt carried on
    assert result["stopReason"] == "end_turn"
    assert agent.editor.text_of(session) == "done task-a"
    assert len(agent.server.chat_requests) == 2


@one_flavour
async def test_two_prompts_sent_at_once_on_one_session(agent: AgentClient) -> None:
    """No window between the busy check and the run starting."""
    agent.server.respond_with(per_task)
    agent.editor.permission_answers += ["allow_once", "allow_once"]
    session = await agent.new_session()
    _, one = agent.start_prompt(session, "do task-a")
    _, two = agent.start_prompt(session, "do task-b")
    outcomes = await asyncio.gather(one, two, return_exceptions=True)
    refused = [o for o in outcomes if isinstance(o, JsonRpcException)]
    done = [o for o in outcomes if isinstance(o, dict)]
    assert len(refused) == 1 and refused[0].code == SESSION_BUSY, outcomes
    assert len(done) == 1 and done[0]["stopReason"] == "end_turn"
    assert len(agent.editor.of(session, "user_message_chunk")) == 1
