"""Sub-agents (the `task` tool) through `lsp-agent run`: a real process, the fake model."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from lsp_agent.agent.events import event_adapter
from tests.e2e.test_cli import cli, env, start_run, workspace  # noqa: F401 (fixtures)
from tests.fakes.model_server import (
    FakeModelServer,
    FakeResponse,
    RecordedRequest,
    text_reply,
    tool_call_reply,
)


def task_call(description: str, prompt: str, agent: str | None = None) -> tuple[str, Any]:
    args: dict[str, Any] = {"description": description, "prompt": prompt}
    if agent is not None:
        args["agent"] = agent
    return ("task", args)


def messages(request: RecordedRequest) -> list[dict[str, Any]]:
    return list(request.body["messages"])


def tool_names(request: RecordedRequest) -> list[str]:
    return [t["function"]["name"] for t in request.body.get("tools") or []]


def task_description(request: RecordedRequest) -> str:
    [spec] = [t for t in request.body["tools"] if t["function"]["name"] == "task"]
    return str(spec["function"]["description"])


def test_delegation_reads_a_file_and_the_parent_answers_with_the_report(
    model_server: FakeModelServer,
    workspace: Path,  # noqa: F811
    env: dict[str, str],  # noqa: F811
) -> None:
    model_server.script(
        tool_call_reply([task_call("Read the notes", "Summarize notes.txt")]),
        tool_call_reply([("read_file", {"path": "notes.txt"})]),  # the sub-agent
        text_reply("notes.txt counts one, two."),  # the sub-agent's report
        text_reply("The notes count to two."),
    )
    result = cli(model_server, workspace, env, "run", "what do the notes say?")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "The notes count to two."  # no sub-agent text in it
    parent, sub, sub2, final = model_server.chat_requests
    assert "Agent types:\n- general: A general-purpose" in task_description(parent)
    # The sub-agent: its own context (its system prompt, the task), read-only tools.
    system, user = messages(sub)
    assert "You are a sub-agent" in system["content"] and user["content"] == "Summarize notes.txt"
    assert set(tool_names(sub)) == {"read_file", "list_dir", "glob", "grep"}
    assert messages(sub2)[-1]["content"] == "     1\tone\n     2\ttwo"  # it read the file
    # Its report is the task call's result, which the parent answers with.
    result_message = messages(final)[-1]
    assert result_message["role"] == "tool"
    assert result_message["content"] == "notes.txt counts one, two."
    # The terminal shows its work indented under the task call.
    lines = result.stderr.splitlines()
    head = lines.index("▸ Task: Read the notes")
    assert lines[head + 1 :][:3] == [
        "  ✓ Read notes.txt",
        "  │ notes.txt counts one, two.",
        "✓ Task: Read the notes",
    ]
    assert "end_turn · 4 turns · 2 tool calls" in result.stderr  # its turns count too


def test_json_events_of_the_sub_agent_carry_the_task_call_id(
    model_server: FakeModelServer,
    workspace: Path,  # noqa: F811
    env: dict[str, str],  # noqa: F811
) -> None:
    model_server.script(
        tool_call_reply([task_call("Read", "Read notes.txt")]),
        tool_call_reply([("read_file", {"path": "notes.txt"})]),
        text_reply("Two lines."),
        text_reply("Done."),
    )
    result = cli(model_server, workspace, env, "run", "go", "--json")
    assert result.returncode == 0, result.stderr
    events = [event_adapter.validate_json(line) for line in result.stdout.splitlines()]
    nested = [e for e in events if e.parent_tool_call_id is not None]
    assert {e.parent_tool_call_id for e in nested} == {"call_0"}
    started = [e for e in nested if e.type == "tool_call"]
    assert [(e.tool_call_id, e.name) for e in started] == [("call_0/call_0", "read_file")]
    assert "".join(e.text for e in nested if e.type == "text_delta") == "Two lines."
    top = [e for e in events if e.parent_tool_call_id is None]
    assert [e.type for e in top].count("run_finished") == 1  # one run, the parent's
    assert "".join(e.text for e in top if e.type == "text_delta") == "Done."


def test_unknown_agent_type_is_a_tool_error_naming_the_known_ones(
    model_server: FakeModelServer,
    workspace: Path,  # noqa: F811
    env: dict[str, str],  # noqa: F811
) -> None:
    agents = workspace / ".lsp-agent" / "agents"
    agents.mkdir(parents=True)
    (agents / "reviewer.md").write_text(
        "---\ndescription: Reviews code.\ntools: read_file, grep\n---\nYou review code.\n"
    )
    model_server.script(
        tool_call_reply([task_call("Look", "Look around", agent="explorer")]),
        text_reply("No such agent."),
    )
    result = cli(model_server, workspace, env, "run", "go")
    assert result.returncode == 0, result.stderr
    parent, final = model_server.chat_requests  # no sub-agent ran
    assert "\n- reviewer: Reviews code." in task_description(parent)  # listed in the tool
    error = messages(final)[-1]["content"]
    assert error == "Unknown agent type 'explorer'. Available agent types: general, reviewer."
    assert "✗ Task: Look (explorer) — Unknown agent type 'explorer'" in result.stderr


def test_an_agent_type_gives_its_prompt_tools_and_model(
    model_server: FakeModelServer,
    workspace: Path,  # noqa: F811
    env: dict[str, str],  # noqa: F811
) -> None:
    agents = workspace / ".lsp-agent" / "agents"
    agents.mkdir(parents=True)
    (agents / "finder.md").write_text(
        "---\nname: finder\ndescription: Finds files.\ntools: [glob, task, edit_file]\n"
        "model: small-model\n---\nYou find files and list them.\n"
    )
    model_server.script(
        tool_call_reply([task_call("Find", "Find the notes", agent="finder")]),
        text_reply("It cannot."),
    )
    result = cli(model_server, workspace, env, "run", "go")
    assert result.returncode == 0, result.stderr
    _, final = model_server.chat_requests  # no sub-agent ran
    # `task` is never given to a sub-agent; an agent type naming it is an error to see.
    assert "names tools that do not exist here: task." in messages(final)[-1]["content"]
    model_server.clear()
    (agents / "finder.md").write_text(
        "---\ndescription: Finds files.\ntools: glob, edit_file\nmodel: small-model\n---\n"
        "You find files and list them.\n"
    )
    model_server.script(
        tool_call_reply([task_call("Find", "Find the notes", agent="finder")]),
        text_reply("notes.txt"),
        text_reply("It is notes.txt."),
    )
    result = cli(model_server, workspace, env, "run", "go", "--model", "big-model")
    assert result.returncode == 0, result.stderr
    parent, sub, final = model_server.chat_requests
    assert parent.body["model"] == "big-model" and sub.body["model"] == "small-model"
    assert messages(sub)[0]["content"].startswith("You find files and list them.")
    assert tool_names(sub) == ["glob", "edit_file"]
    assert messages(final)[-1]["content"] == "notes.txt"


def _two_tasks(request: RecordedRequest) -> FakeResponse:
    """Answers by who asks: the parent, or which sub-agent (its task is its prompt)."""
    msgs = messages(request)
    first = msgs[1]["content"]
    if first == "do both":  # the parent
        if msgs[-1]["role"] == "user":
            return tool_call_reply([task_call("A", "Read a.txt"), task_call("B", "Read b.txt")])
        reports = sorted(m["content"] for m in msgs if m["role"] == "tool")
        return text_reply(" + ".join(reports))
    name = first.split()[-1]
    if msgs[-1]["role"] == "user":
        return tool_call_reply([("read_file", {"path": name})])
    return text_reply(f"{name} says {msgs[-1]['content'].split()[-1]}")


def test_two_tasks_in_one_turn_both_report_back(
    model_server: FakeModelServer,
    workspace: Path,  # noqa: F811
    env: dict[str, str],  # noqa: F811
) -> None:
    (workspace / "a.txt").write_text("alpha\n")
    (workspace / "b.txt").write_text("beta\n")
    model_server.respond_with(_two_tasks)
    result = cli(model_server, workspace, env, "run", "do both", "--json")
    assert result.returncode == 0, result.stderr
    events = [event_adapter.validate_json(line) for line in result.stdout.splitlines()]
    answer = "".join(e.text for e in events if e.type == "text_delta" and not e.parent_tool_call_id)
    assert answer == "a.txt says alpha + b.txt says beta"
    reads = {e.tool_call_id for e in events if e.type == "tool_call" and e.parent_tool_call_id}
    assert reads == {"call_0/call_0", "call_1/call_0"}  # unique though both sent call_0


def _stalled_tasks(request: RecordedRequest) -> FakeResponse:
    """The parent asks for three tasks; every sub-agent streams a little, then stalls."""
    if messages(request)[1]["content"] == "do three":
        return tool_call_reply([task_call(n, f"Task {n}") for n in ("A", "B", "C")])
    return text_reply("working on it", stall_after=2)


def test_tasks_run_at_once_up_to_the_cap_and_cancel_stops_them_all(
    model_server: FakeModelServer,
    workspace: Path,  # noqa: F811
    env: dict[str, str],  # noqa: F811
) -> None:
    (workspace / ".lsp-agent.toml").write_text("[agents]\nmaxConcurrent = 2\n")
    model_server.respond_with(_stalled_tasks)
    proc = start_run(model_server, workspace, env, "do three")
    try:
        # Two sub-agents stream at once (neither can finish: both stall) ...
        assert model_server.wait_for_chat_requests(3)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
        rest = proc.stderr.read() if proc.stderr else ""
        assert rest.count("— Interrupted") == 3, rest  # every task call keeps a result
        # ... both streams were closed, and the third task never got a slot.
        assert model_server.wait_for_disconnects(2)
        assert len(model_server.chat_requests) == 3
    finally:
        proc.kill()
        proc.wait()


def test_budget_exhausted_inside_a_sub_agent_stops_the_whole_run(
    model_server: FakeModelServer,
    workspace: Path,  # noqa: F811
    env: dict[str, str],  # noqa: F811
) -> None:
    (workspace / ".lsp-agent.toml").write_text("[limits]\nmaxModelCalls = 3\n")
    model_server.script(
        tool_call_reply([task_call("Loop", "Read forever")]),
        tool_call_reply([("read_file", {"path": "notes.txt"})]),
        tool_call_reply([("read_file", {"path": "notes.txt"})]),
        tool_call_reply([("read_file", {"path": "notes.txt"})]),  # never asked for
    )
    result = cli(model_server, workspace, env, "run", "go", "--json")
    assert result.returncode == 3, result.stderr
    assert len(model_server.chat_requests) == 3  # parent 1 + sub-agent 2: the limit
    events = [event_adapter.validate_json(line) for line in result.stdout.splitlines()]
    finished = events[-1]
    assert finished.type == "run_finished"
    assert (finished.stop_reason, finished.limit) == ("budget", "maxModelCalls")
    task_result = next(
        e for e in events if e.type == "tool_call_finished" and e.tool_call_id == "call_0"
    )
    assert task_result.output.startswith(
        "The sub-agent stopped before finishing: budget (maxModelCalls)."
    )


def test_cancel_during_a_sub_agent_closes_its_stream(
    model_server: FakeModelServer,
    workspace: Path,  # noqa: F811
    env: dict[str, str],  # noqa: F811
) -> None:
    model_server.script(
        tool_call_reply([task_call("Think", "Think hard")]),
        text_reply("I am thinking\nvery hard about it", stall_after=6),  # the sub-agent
    )
    proc = start_run(model_server, workspace, env, "go")
    try:
        assert proc.stderr is not None
        lines = iter(proc.stderr.readline, "")
        assert "▸ Task: Think\n" in lines
        assert next(lines) == "  │ I am thinking\n"  # its text streamed, then it stalls
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
        rest = proc.stderr.read()
        assert "✗ Task: Think — Interrupted" in rest
        assert "cancelled" in rest
        assert model_server.wait_for_disconnect()  # the sub-agent's stream was closed
        assert len(model_server.chat_requests) == 2
    finally:
        proc.kill()
        proc.wait()


def test_what_a_sub_agent_writes_is_asked_at_the_terminal(
    model_server: FakeModelServer,
    workspace: Path,  # noqa: F811
    env: dict[str, str],  # noqa: F811
) -> None:
    agents = workspace / ".lsp-agent" / "agents"
    agents.mkdir(parents=True)
    (agents / "writer.md").write_text("---\ntools: write_file\n---\nYou write files.\n")
    (agents / "broken.md").write_text("---\ndescription: no body\n---\n")
    calls = [("write_file", {"path": name, "content": "x\n"}) for name in ("a.txt", "b.txt")]
    model_server.script(
        tool_call_reply([task_call("Write", "Write a.txt and b.txt", agent="writer")]),
        tool_call_reply(calls),  # the sub-agent
        text_reply("Wrote a.txt; b.txt was denied."),
        text_reply("Half done."),
    )
    result = cli(model_server, workspace, env, "run", "write them", stdin="y\nn\n")
    assert result.returncode == 0, result.stderr
    assert (workspace / "a.txt").exists() and not (workspace / "b.txt").exists()
    assert result.stderr.count("[y]es / [n]o / [a]lways") == 2  # asked as the parent's are
    assert "  ✓ Write a.txt" in result.stderr and "  ⊘ Write b.txt" in result.stderr
    assert "! agent file" in result.stderr and "broken.md skipped" in result.stderr
