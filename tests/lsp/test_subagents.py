"""Sub-agents over LSP: their updates go out in agent/session/update with `parentToolCallId`
naming the parent `task` call; the answer stays the parent's; cancel stops them."""

from __future__ import annotations

from typing import Any

from tests.fakes.model_server import text_reply, tool_call_reply
from tests.lsp.conftest import one_flavour
from tests.lsp.harness import AgentClient


def task(description: str, prompt: str) -> tuple[str, dict[str, Any]]:
    return ("task", {"description": description, "prompt": prompt})


async def test_nested_updates_carry_the_parent_task_call_id(agent: AgentClient) -> None:
    notes = agent.write("notes.txt", "remember the milk\n")
    agent.server.script(
        tool_call_reply([task("Read the notes", f"What does {notes} say?")]),
        tool_call_reply([("read_file", {"path": notes})]),
        text_reply("It says: remember the milk.", chunk_size=3),
        text_reply("Milk."),
    )
    session = await agent.new_session()
    result = await agent.prompt(session, "notes?")
    assert result["stopReason"] == "end_turn"
    assert result["turns"] == 4 and result["toolCalls"] == 2  # the sub-agent's count too
    seqs = agent.editor.seqs(session)
    assert seqs == list(range(len(seqs)))
    parent, nested = agent.editor.calls(session)
    assert parent.id == "call_0" and "parentToolCallId" not in parent.call
    assert parent.call["title"] == "Task: Read the notes"
    assert nested.id == "call_0/call_0" and nested.call["parentToolCallId"] == "call_0"
    assert nested.updates and all(u["parentToolCallId"] == "call_0" for u in nested.updates)
    assert "remember the milk" in nested.output
    # The sub-agent's text: thoughts under the task call (coalesced), not the answer.
    thoughts = agent.editor.of(session, "agent_thought_chunk")
    thoughts = [u for u in thoughts if "parentToolCallId" in u]
    assert "".join(u["content"]["text"] for u in thoughts) == "It says: remember the milk."
    assert {u["parentToolCallId"] for u in thoughts} == {"call_0"}
    assert len(thoughts) < 9  # coalesced like the parent's text
    assert agent.editor.text_of(session) == "Milk."
    assert parent.output == "It says: remember the milk."
    # The nested updates come between the task call's start and its end.
    updates = agent.editor.of(session)
    order = [(u.get("toolCallId"), u.get("status")) for u in updates if "toolCallId" in u]
    assert order.index(("call_0/call_0", "completed")) < order.index(("call_0", "completed"))


@one_flavour
async def test_cancel_during_a_sub_agent_closes_its_stream(agent: AgentClient) -> None:
    agent.server.script(
        tool_call_reply([task("Think", "Think hard")]),
        text_reply("thinking about it", chunk_size=4, stall_after=3),
    )
    session = await agent.new_session()
    _, pending = agent.start_prompt(session, "go")

    def sub_agent_speaks() -> bool:
        return any("parentToolCallId" in u for u in agent.editor.of(session, "agent_thought_chunk"))

    await agent.editor.until(sub_agent_speaks)
    agent.notify("agent/session/cancel", {"sessionId": session})
    result = await pending
    assert result["stopReason"] == "cancelled"
    assert await agent.server.wait_for_disconnect_async()
    [view] = agent.editor.calls(session)
    assert view.final is not None and view.final["status"] == "failed"
    assert view.output.startswith("Interrupted")
