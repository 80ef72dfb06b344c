"""A full prompt over LSP: updates in order with gapless seq, tool calls, the result."""

from __future__ import annotations

from tests.fakes.model_server import text_reply, tool_call_reply
from tests.lsp.harness import AgentClient


async def test_full_prompt_streams_updates_and_resolves(agent: AgentClient) -> None:
    app = agent.write("app.py", "def add(a, b):\n    return a - b\n")
    agent.server.script(
        tool_call_reply([("read_file", {"path": app})]),
        text_reply("The add function subtracts; that is a bug.", chunk_size=3),
    )
    session = await agent.new_session()
    result = await agent.prompt(session, "review app.py")
    assert result["stopReason"] == "end_turn"
    assert result["turns"] == 2 and result["toolCalls"] == 1
    seqs = agent.editor.seqs(session)
    assert seqs == list(range(len(seqs)))
    kinds = [u["sessionUpdate"] for u in agent.editor.of(session)]
    assert kinds[0] == "user_message_chunk"
    first_tool = kinds.index("tool_call")
    assert kinds[first_tool + 1 : first_tool + 3] == ["tool_call_update", "tool_call_update"]
    assert agent.editor.text_of(session) == "The add function subtracts; that is a bug."
    # coalesced: far fewer chunks than the 14 deltas the model streamed
    assert len(agent.editor.of(session, "agent_message_chunk")) < 14
    call = agent.editor.of(session, "tool_call")[0]
    assert call["kind"] == "read" and call["rawInput"] == {"path": app}
    done = agent.editor.of(session, "tool_call_update")[-1]
    assert done["status"] == "completed" and "return a - b" in done["rawOutput"]["output"]
    # the first prompt names the session
    assert agent.editor.of(session)[-1] == {
        "sessionUpdate": "session_info_update",
        "title": "review app.py",
    }
    agent.server.script(text_reply("Yes."))
    await agent.prompt(session, "sure?")
    assert len(agent.editor.of(session, "session_info_update")) == 1
    seqs = agent.editor.seqs(session)
    assert seqs == list(range(len(seqs)))


async def test_plan_usage_and_edit_diff_updates(agent: AgentClient) -> None:
    app = agent.write("calc.py", "def add(a, b):\n    return a - b\n")
    plan = [
        {"content": "Find the bug", "status": "completed"},
        {"content": "Fix add", "status": "in_progress"},
    ]
    agent.server.script(
        tool_call_reply([("update_plan", {"entries": plan})]),
        tool_call_reply(
            [("edit_file", {"path": app, "old_string": "a - b", "new_string": "a + b"})]
        ),
        text_reply("Fixed."),
    )
    agent.editor.permission_answers.append("allow_once")
    session = await agent.new_session()
    result = await agent.prompt(session, "fix calc.py\nplease")
    assert result["stopReason"] == "end_turn" and result["toolCalls"] == 2
    assert result["editedUris"] == [agent.uri("calc.py")]
    assert agent.disk("calc.py") == "def add(a, b):\n    return a + b\n"

    [shown] = agent.editor.of(session, "plan")
    assert shown["entries"] == [
        {"content": "Find the bug", "priority": "medium", "status": "completed"},
        {"content": "Fix add", "priority": "medium", "status": "in_progress"},
    ]
    usage = agent.editor.of(session, "usage_update")
    assert len(usage) == 3  # one per model call
    # 12 prompt + 5 completion tokens per fake reply; the size is initializationOptions'
    assert all(u["used"] == 17 and u["size"] == 32000 for u in usage)

    _, edit = agent.editor.calls(session)
    assert edit.call["kind"] == "edit" and edit.call["locations"] == [{"path": app}]
    done = edit.final
    assert done is not None and done["status"] == "completed"
    assert done["content"] == [
        {
            "type": "diff",
            "path": str(agent.path("calc.py")),
            "oldText": "def add(a, b):\n    return a - b\n",
            "newText": "def add(a, b):\n    return a + b\n",
        }
    ]
    seqs = agent.editor.seqs(session)
    assert seqs == list(range(len(seqs)))


async def test_progress_begin_report_end_on_a_server_created_token(agent: AgentClient) -> None:
    agent.write("notes.txt", "hello\n")
    agent.server.script(
        tool_call_reply([("read_file", {"path": agent.rel("notes.txt")})]),
        tool_call_reply([("list_dir", {"path": agent.rel("")})]),
        text_reply("done"),
    )
    session = await agent.new_session()
    created = len(agent.editor.progress_created)
    result = await agent.prompt(session, "  look at notes.txt\nand the rest\n")
    assert result["stopReason"] == "end_turn"
    [token] = agent.editor.progress_created[created:]
    values = agent.editor.progress_of(token)
    assert values[0] == {
        "kind": "begin",
        "title": "Agent",
        "message": "look at notes.txt",
        "cancellable": True,
    }
    assert [v["kind"] for v in values] == ["begin", "report", "report", "end"]
    assert values[1]["message"] == f"Read {agent.rel('notes.txt')}"
    assert values[3] == {"kind": "end", "message": "end_turn"}


async def test_progress_uses_the_work_done_token_given(agent: AgentClient) -> None:
    agent.server.script(text_reply("hi"))
    session = await agent.new_session()
    created = len(agent.editor.progress_created)
    token = f"editor-token-{agent.prefix}"
    result = await agent.prompt(session, "say hi", workDoneToken=token)
    assert result["stopReason"] == "end_turn"
    assert agent.editor.progress_created[created:] == []  # no server-created token
    values = agent.editor.progress_of(token)
    assert [v["kind"] for v in values] == ["begin", "end"]
    assert values[0]["message"] == "say hi" and values[0]["cancellable"] is True


async def test_a_compaction_is_an_update_with_its_token_counts(agent: AgentClient) -> None:
    """/compact from an editor, which sends the open document as context: still the command
    (the context is not appended to it), and its compaction is an update."""
    agent.write("app.py", "def add(a, b):\n    return a - b\n")
    agent.server.script(text_reply("the answer is long. " * 300))
    session = await agent.new_session()
    await agent.prompt(session, "explain everything")
    agent.server.script(text_reply("- the user asked for an explanation"))
    context = {"textDocument": {"uri": agent.uri("app.py")}}
    result = await agent.prompt(session, "/compact", context=context)
    assert len(agent.server.chat_requests) == 2  # the summary, not a prompt
    assert result["stopReason"] == "end_turn"
    [compaction] = agent.editor.of(session, "compaction")
    assert compaction["method"] == "summarize" and compaction["reason"] == "requested"
    assert compaction["tokensBefore"] > compaction["tokensAfter"] + 500 > 500
    seqs = agent.editor.seqs(session)
    assert seqs == list(range(len(seqs)))
