"""A full prompt over LSP: updates in order with gapless seq, tool calls, the result."""

from __future__ import annotations

from tests.fakes.model_server import text_reply, tool_call_reply
from tests.lsp.harness import AgentClient


async def test_full_prompt_streams_updates_and_resolves(agent: AgentClient) -> None:
    agent.server.script(
        tool_call_reply([("read_file", {"path": "app.py"})]),
        text_reply("The add function subtracts; that is a bug.", chunk_size=3),
    )
    session = await agent.new_session()
    result = await agent.prompt(session, "review app.py")
    assert result["stopReason"] == "end_turn"
    assert result["turns"] == 2 and result["toolCalls"] == 1
    seqs = [u["seq"] for u in agent.editor.updates if u["sessionId"] == session]
    assert seqs == list(range(len(seqs)))
    kinds = [u["sessionUpdate"] for u in agent.editor.of(session)]
    assert kinds[0] == "user_message_chunk"
    first_tool = kinds.index("tool_call")
    assert kinds[first_tool + 1 : first_tool + 3] == ["tool_call_update", "tool_call_update"]
    assert agent.editor.text_of(session) == "The add function subtracts; that is a bug."
    # coalesced: far fewer chunks than the 14 deltas the model streamed
    assert len(agent.editor.of(session, "agent_message_chunk")) < 14
    call = agent.editor.of(session, "tool_call")[0]
    assert call["kind"] == "read" and call["rawInput"] == {"path": "app.py"}
    done = agent.editor.of(session, "tool_call_update")[-1]
    assert done["status"] == "completed" and "return a - b" in done["rawOutput"]["output"]
