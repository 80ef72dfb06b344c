"""The agent loop against the real client and the fake model server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from pydantic import BaseModel

from lsp_agent.agent.events import (
    RunFinished,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    ToolOutputDelta,
)
from lsp_agent.permissions import Decision, PermissionRequest
from lsp_agent.tools.base import ToolContext, ToolResult, tool
from tests.agent_harness import Harness, ScriptedGate, roles, sent_messages
from tests.fakes.model_server import (
    FakeModelServer,
    error_reply,
    replay,
    text_reply,
    tool_call_reply,
)
from tests.procs import running, sleep_marker, spawn_two

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sse"


@pytest.fixture
def harness(tmp_path: Path, model_server: FakeModelServer) -> Harness:
    (tmp_path / "a.txt").write_text("alpha\nbeta\n")
    return Harness(tmp_path, model_server)


def finished(h: Harness) -> RunFinished:
    last = h.events[-1]
    assert isinstance(last, RunFinished)
    return last


async def test_text_answer_streams_then_ends_turn(harness: Harness) -> None:
    harness.server.script(text_reply("Hello there, friend.", chunk_size=4))
    result = await harness.run("hi")
    assert result.stop_reason == "end_turn"
    deltas = [e.text for e in harness.events if isinstance(e, TextDelta)]
    assert len(deltas) > 1 and "".join(deltas) == "Hello there, friend."
    assert harness.types()[0] == "run_started" and harness.types()[-1] == "run_finished"
    assert roles(sent_messages(harness.server)) == ["system", "user"]
    assert result.usage.prompt_tokens == 12 and result.turns == 1


async def test_tool_call_result_goes_back_to_the_model(harness: Harness) -> None:
    harness.server.script(
        tool_call_reply([("read_file", {"path": "a.txt"})]),
        text_reply("It says alpha."),
    )
    result = await harness.run("what is in a.txt?")
    assert result.stop_reason == "end_turn" and result.tool_calls == 1
    second = sent_messages(harness.server)
    assert roles(second) == ["system", "user", "assistant", "tool"]
    assert second[2]["tool_calls"][0]["function"]["name"] == "read_file"
    assert second[3]["tool_call_id"] == second[2]["tool_calls"][0]["id"]
    assert "alpha" in second[3]["content"]
    statuses = [e.status for e in harness.events if isinstance(e, ToolCallFinished)]
    assert statuses == ["completed"]


@pytest.mark.parametrize(
    "raw",
    ['{"path": "a.txt"', "not json at all", '["a.txt"]', '{"nope": 1}'],
)
async def test_malformed_arguments_are_a_tool_error_not_a_crash(harness: Harness, raw: str) -> None:
    harness.server.script(
        tool_call_reply([("read_file", raw)]),
        text_reply("Sorry."),
    )
    result = await harness.run("read it")
    assert result.stop_reason == "end_turn"
    tool_msg = sent_messages(harness.server)[-1]
    assert tool_msg["role"] == "tool" and "read_file" in tool_msg["content"]
    assert [e.status for e in harness.events if isinstance(e, ToolCallFinished)] == ["failed"]


async def test_unknown_tool_is_reported_to_the_model(harness: Harness) -> None:
    harness.server.script(tool_call_reply([("teleport", {})]), text_reply("ok"))
    await harness.run("go")
    content = sent_messages(harness.server)[-1]["content"]
    assert "Unknown tool 'teleport'" in content and "read_file" in content


async def test_fenced_json_in_text_is_never_executed(harness: Harness) -> None:
    # A real model that writes its "tool call" as text; the server parsed none.
    harness.server.script(replay(FIXTURES / "xllamacpp-qwen0.5b", "auto"))
    result = await harness.run("read setup.cfg")
    assert result.stop_reason == "end_turn" and result.tool_calls == 0
    assert not [e for e in harness.events if isinstance(e, ToolCallStarted)]
    assert "```" in "".join(e.text for e in harness.events if isinstance(e, TextDelta))


async def test_prose_about_commands_runs_nothing(harness: Harness) -> None:
    harness.server.script(text_reply("git status shows a clean tree. Run `rm -rf /` next."))
    result = await harness.run("status?")
    assert result.tool_calls == 0
    assert not [e for e in harness.events if isinstance(e, ToolOutputDelta)]


async def test_max_turns(harness: Harness) -> None:
    harness.overrides = {"limits": {"maxTurns": 2}}
    harness.server.script(
        tool_call_reply([("list_dir", {})]),
        tool_call_reply([("list_dir", {})]),
        tool_call_reply([("list_dir", {})]),
    )
    result = await harness.run("loop")
    assert result.stop_reason == "max_turns" and result.limit == "maxTurns"
    assert len(harness.server.chat_requests) == 2
    assert harness.history[-1].role == "tool"  # the transcript stays valid


async def test_tool_call_budget_refuses_extra_calls(harness: Harness) -> None:
    harness.overrides = {"limits": {"maxToolCalls": 1}}
    harness.server.script(
        tool_call_reply([("read_file", {"path": "a.txt"}), ("list_dir", {})]),
        text_reply("unreachable"),
    )
    result = await harness.run("two calls")
    assert result.stop_reason == "budget" and result.limit == "maxToolCalls"
    finished_calls = [e for e in harness.events if isinstance(e, ToolCallFinished)]
    assert [e.status for e in finished_calls] == ["completed", "failed"]
    assert "budget" in finished_calls[1].output
    assert len(harness.server.chat_requests) == 1


async def test_cost_budget(harness: Harness) -> None:
    harness.overrides = {
        "limits": {"maxCostUsd": 0.0001},
        "model": {"pricing": {"fake-model": {"input": 10.0, "output": 10.0}}},
    }
    usage = {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25}
    harness.server.script(tool_call_reply([("list_dir", {})], usage=usage), text_reply("x"))
    result = await harness.run("spend")
    assert result.stop_reason == "budget" and result.limit == "maxCostUsd"
    assert result.cost_usd == pytest.approx(25 * 10 / 1_000_000)


async def test_model_call_budget(harness: Harness) -> None:
    harness.overrides = {"limits": {"maxModelCalls": 1}}
    harness.server.script(tool_call_reply([("list_dir", {})]), text_reply("x"))
    result = await harness.run("go")
    assert (result.stop_reason, result.limit) == ("budget", "maxModelCalls")


async def test_wall_time_budget_stops_a_stalled_stream(harness: Harness) -> None:
    harness.overrides = {"limits": {"timeoutS": 0.3}}
    harness.server.script(text_reply("never finishes", stall_after=2))
    result = await harness.run("wait")
    assert (result.stop_reason, result.limit) == ("budget", "timeoutS")
    assert harness.server.wait_for_disconnect(10)


async def test_length_continues_at_most_three_times(harness: Harness) -> None:
    harness.server.script(*[text_reply(f"part{i} ", finish_reason="length") for i in range(5)])
    result = await harness.run("write a lot")
    assert result.stop_reason == "end_turn"
    assert len(harness.server.chat_requests) == 4
    last = sent_messages(harness.server)
    assert "cut off" in last[-1]["content"] and last[-2]["content"] == "part2 "


async def test_empty_answer_is_retried_once(harness: Harness) -> None:
    harness.server.script(text_reply(""), text_reply(""), text_reply("late"))
    result = await harness.run("say something")
    assert result.stop_reason == "end_turn"
    assert len(harness.server.chat_requests) == 2


async def test_retries_are_events_and_then_succeed(harness: Harness) -> None:
    harness.server.script(error_reply(500, "boom"), text_reply("ok"))
    result = await harness.run("hi")
    assert result.stop_reason == "end_turn"
    retries = [e for e in harness.events if e.type == "retry"]
    assert len(retries) == 1 and retries[0].attempt == 2


@pytest.mark.parametrize(
    ("status", "fragment"),
    [(401, "api key"), (404, "model"), (500, "boom")],
)
async def test_model_errors_stop_with_a_message(
    harness: Harness, status: int, fragment: str
) -> None:
    harness.overrides = {"model": {"maxAttempts": 1}}
    harness.server.script(error_reply(status, "boom"))
    result = await harness.run("hi")
    assert result.stop_reason == "model_error"
    assert result.error and fragment in result.error.lower()


async def test_denied_edit_is_reported_and_file_untouched(harness: Harness) -> None:
    harness.overrides = {"permissions": {"mode": "ask"}}
    harness.gate.answers = ["reject"]
    harness.server.script(
        tool_call_reply(
            [("edit_file", {"path": "a.txt", "old_string": "alpha", "new_string": "omega"})]
        ),
        text_reply("ok"),
    )
    await harness.run("change it")
    assert (harness.root / "a.txt").read_text() == "alpha\nbeta\n"
    request = harness.gate.asked[0]
    assert request.tool == "edit_file" and request.diff is not None
    assert "+omega" in request.diff.unified
    denied = next(e for e in harness.events if isinstance(e, ToolCallFinished))
    assert denied.status == "denied"
    assert sent_messages(harness.server)[-1]["content"] == denied.output


async def test_allowed_edit_applies_and_carries_a_diff(harness: Harness) -> None:
    harness.overrides = {"permissions": {"mode": "ask"}}
    harness.gate.answers = ["allow_once"]
    harness.server.script(
        tool_call_reply(
            [("edit_file", {"path": "a.txt", "old_string": "alpha", "new_string": "omega"})]
        ),
        text_reply("done"),
    )
    result = await harness.run("change it")
    assert (harness.root / "a.txt").read_text() == "omega\nbeta\n"
    done = next(e for e in harness.events if isinstance(e, ToolCallFinished))
    assert done.diff is not None and "-alpha" in done.diff.unified
    assert result.edited_paths == [str(harness.root / "a.txt")]


class WaitArgs(BaseModel):
    name: str


def rendezvous_tools() -> tuple[list[object], dict[str, asyncio.Event]]:
    """Two read tools that each wait for the other: they only finish if run concurrently."""
    events = {"a": asyncio.Event(), "b": asyncio.Event()}

    @tool(kind="read")
    async def wait_for_peer(args: WaitArgs, ctx: ToolContext) -> ToolResult:
        """Test tool."""
        events[args.name].set()
        other = "b" if args.name == "a" else "a"
        async with asyncio.timeout(10):  # a liveness guard, not a timing assertion
            await events[other].wait()
        return ToolResult(f"{args.name} met {other}")

    return [wait_for_peer], events


async def test_read_only_calls_of_one_turn_run_concurrently(harness: Harness) -> None:
    tools, _ = rendezvous_tools()
    harness.extra_tools = tools  # type: ignore[assignment]
    harness.server.script(
        tool_call_reply([("wait_for_peer", {"name": "a"}), ("wait_for_peer", {"name": "b"})]),
        text_reply("both met"),
    )
    await harness.run("meet")
    outputs = [e.output for e in harness.events if isinstance(e, ToolCallFinished)]
    assert sorted(outputs) == ["a met b", "b met a"]
    # results reach the model in call order, whatever order they finished in
    assert [m["content"] for m in sent_messages(harness.server)[-2:]] == ["a met b", "b met a"]


async def test_read_only_calls_run_at_most_max_parallel_at_once(harness: Harness) -> None:
    active, most = 0, 0

    @tool(kind="search")
    async def count_me(args: WaitArgs, ctx: ToolContext) -> ToolResult:
        """Test tool."""
        nonlocal active, most
        active += 1
        most = max(most, active)
        for _ in range(5):  # let every other runnable call start, if it may
            await asyncio.sleep(0)
        active -= 1
        return ToolResult("counted")

    harness.extra_tools = [count_me]
    harness.overrides = {"tools": {"maxParallel": 3}}
    calls = [("count_me", {"name": str(i)}) for i in range(40)]
    harness.server.script(tool_call_reply(calls), text_reply("done"))
    await harness.run("count")
    outputs = [e.output for e in harness.events if isinstance(e, ToolCallFinished)]
    assert outputs == ["counted"] * 40
    assert most == 3


async def test_hundreds_of_greps_in_one_turn_all_finish(harness: Harness) -> None:
    calls = [("grep", {"pattern": f"alpha|{i}"}) for i in range(300)]
    harness.server.script(tool_call_reply(calls), text_reply("done"))
    await harness.run("grep a lot")
    finished = [e for e in harness.events if isinstance(e, ToolCallFinished)]
    assert len(finished) == 300
    assert all(e.status == "completed" and "a.txt" in e.output for e in finished)


async def test_write_file_refuses_content_over_the_cap(harness: Harness) -> None:
    harness.overrides = {
        "tools": {"maxWriteMb": 1},
        "model": {"contextWindow": 10_000_000, "maxToolArgsKb": 4096},
    }
    big = "x" * (1_048_576 + 10)
    harness.server.script(
        tool_call_reply([("write_file", {"path": "big.txt", "content": big})], chunk_size=65536),
        text_reply("done"),
    )
    await harness.run("write big")
    [done] = [e for e in harness.events if isinstance(e, ToolCallFinished)]
    assert done.status == "failed" and "tools.maxWriteMb" in done.output
    assert not (harness.root / "big.txt").exists()


async def test_edits_run_in_order(harness: Harness) -> None:
    harness.server.script(
        tool_call_reply(
            [
                ("write_file", {"path": "n.txt", "content": "one\n"}),
                ("edit_file", {"path": "n.txt", "old_string": "one", "new_string": "two"}),
            ]
        ),
        text_reply("done"),
    )
    await harness.run("write then edit")
    assert (harness.root / "n.txt").read_text() == "two\n"


MARK = sleep_marker()


async def test_cancel_during_shell_kills_the_process_group(harness: Harness) -> None:
    harness.server.script(
        tool_call_reply([("bash", {"command": spawn_two(MARK)})]),
    )
    task = asyncio.create_task(harness.run("sleep"))
    started = await harness.sink.wait_for(
        lambda e: isinstance(e, ToolOutputDelta) and "started" in e.text
    )
    assert isinstance(started, ToolOutputDelta)
    assert len(running(MARK)) == 2
    task.cancel()
    result = await task
    assert result.stop_reason == "cancelled"
    assert running(MARK) == []  # the setsid one too
    # the transcript stays valid: the call has a result
    assert harness.history[-1].role == "tool"
    assert "Interrupted" in harness.history[-1].content
    status = [e.status for e in harness.events if isinstance(e, ToolCallFinished)]
    assert status == ["failed"]


async def test_cancel_during_a_stalled_stream_closes_it(harness: Harness) -> None:
    harness.server.script(text_reply("thinking very hard", chunk_size=2, stall_after=3))
    task = asyncio.create_task(harness.run("stall"))
    await harness.sink.wait_for(lambda e: isinstance(e, TextDelta))
    task.cancel()
    result = await task
    assert result.stop_reason == "cancelled"
    assert await asyncio.to_thread(harness.server.wait_for_disconnect, 10)


async def test_secret_api_key_never_in_events(harness: Harness) -> None:
    secret = "sk-test-SECRET-0123456789"
    harness.server.script(error_reply(401, f"invalid key {secret}"))
    result = await harness.run("hi", api_key=secret)
    assert harness.server.chat_requests[0].headers["authorization"] == f"Bearer {secret}"
    dumped = json.dumps([e.model_dump() for e in harness.events])
    assert secret not in dumped and result.stop_reason == "model_error"


async def test_an_edit_is_only_applied_as_approved(harness: Harness) -> None:
    """The user changes the file while the permission question is open: the approved diff no
    longer applies, so nothing is written and the model is told to read again."""
    harness.overrides = {"permissions": {"mode": "ask"}}
    target = harness.root / "a.txt"

    class TypingGate(ScriptedGate):
        async def ask(self, request: PermissionRequest) -> Decision:
            await super().ask(request)
            target.write_text("alpha\nbeta\nuser typed this\n")
            return "allow_once"

    harness.gate = TypingGate()
    harness.server.script(
        tool_call_reply(
            [("edit_file", {"path": "a.txt", "old_string": "alpha", "new_string": "omega"})]
        ),
        text_reply("ok"),
    )
    await harness.run("change it")
    assert target.read_text() == "alpha\nbeta\nuser typed this\n"
    result = next(e for e in harness.events if isinstance(e, ToolCallFinished))
    assert result.status == "failed" and "not the edit they approved" in result.output


async def test_tool_call_ids_stay_unique_across_turns(harness: Harness) -> None:
    # Like some servers: every turn's first call is `call_0`.
    harness.server.script(
        tool_call_reply([("list_dir", {})]),
        tool_call_reply([("list_dir", {})]),
        text_reply("done"),
    )
    await harness.run("twice")
    sent = sent_messages(harness.server)
    ids = [c["id"] for m in sent if m["role"] == "assistant" for c in m.get("tool_calls", [])]
    assert len(ids) == 2 and len(set(ids)) == 2
    assert [m["tool_call_id"] for m in sent if m["role"] == "tool"] == ids
    started = [e.tool_call_id for e in harness.events if isinstance(e, ToolCallStarted)]
    assert started == ids


def test_unique_ids_never_collide_with_ids_already_used() -> None:
    from lsp_agent.agent.loop import _unique_ids
    from lsp_agent.model.wire import FunctionCall, ToolCall

    seen = {"call_0", "call_0_1", "call_0_2", "call_0_3"}  # a server that numbers its own
    calls = [ToolCall(id=i, function=FunctionCall(name="f")) for i in ("call_0", "call_0", "", "x")]
    _unique_ids(calls, seen)
    ids = [c.id for c in calls]
    assert len(set(ids)) == 4 and ids[3] == "x" and all(ids)
    assert seen == {"call_0", "call_0_1", "call_0_2", "call_0_3", *ids}
    before = set(seen)
    for _ in range(300):  # call_0 every turn
        more = [ToolCall(id="call_0", function=FunctionCall(name="f"))]
        _unique_ids(more, seen)
        assert more[0].id not in before
        before.add(more[0].id)
