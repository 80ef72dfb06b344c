"""Sub-agents over ACP: their tool calls and text name the parent `task` call in `_meta`;
what they may write is asked through the same client; cancel stops them."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.acp.harness import acp_agent, prompt_of
from tests.fakes.model_server import FakeModelServer, text_reply, tool_call_reply

PARENT_META = {"parentToolCallId": "call_0", "claudeCode": {"parentToolUseId": "call_0"}}


def task(description: str, prompt: str, agent: str | None = None) -> tuple[str, dict[str, Any]]:
    args = {"description": description, "prompt": prompt}
    return ("task", {**args, "agent": agent} if agent else args)


async def test_a_sub_agents_updates_carry_the_parent_task_call(
    workspace: Path, state: Path, model: FakeModelServer
) -> None:
    (workspace / "notes.txt").write_text("remember the milk\n", encoding="utf-8")
    model.script(
        tool_call_reply([task("Read the notes", "What does notes.txt say?")]),
        tool_call_reply([("read_file", {"path": "notes.txt"})]),
        text_reply("It says: remember the milk."),
        text_reply("Milk."),
    )
    async with acp_agent(workspace, state, model) as agent:
        sid = (await agent.conn.new_session(cwd=str(workspace), mcp_servers=[])).session_id
        result = await agent.conn.prompt(session_id=sid, prompt=prompt_of("notes?"))
        client = agent.client
        assert result.stop_reason == "end_turn"
        parent, nested = client.of("tool_call", sid)
        assert parent["toolCallId"] == "call_0" and parent["title"] == "Task: Read the notes"
        assert "_meta" not in parent
        assert nested["toolCallId"] == "call_0/call_0" and nested["title"] == "Read notes.txt"
        assert nested["_meta"] == PARENT_META
        nested_updates = [
            u for u in client.of("tool_call_update", sid) if u["toolCallId"] == "call_0/call_0"
        ]
        assert nested_updates and all(u["_meta"] == PARENT_META for u in nested_updates)
        # Its text is a thought under the task call; the answer is the parent's alone.
        thoughts = [u for u in client.of("agent_thought_chunk", sid) if u.get("_meta")]
        assert "".join(u["content"]["text"] for u in thoughts) == "It says: remember the milk."
        assert all(u["_meta"] == PARENT_META for u in thoughts)
        assert client.text(sid) == "Milk."
        [done] = [
            u
            for u in client.of("tool_call_update", sid)
            if u["toolCallId"] == "call_0" and u.get("status") == "completed"
        ]
        assert done["rawOutput"]["output"] == "It says: remember the milk."

        # A reloaded session replays the nesting from the store.
        before = len(client.updates)
        await agent.conn.load_session(session_id=sid, cwd=str(workspace), mcp_servers=[])
        replayed = [u for _, u in client.updates[before:] if u.get("sessionUpdate") == "tool_call"]
        assert [(u["toolCallId"], u.get("_meta")) for u in replayed] == [
            ("call_0", None),
            ("call_0/call_0", PARENT_META),
        ]


async def test_what_a_sub_agent_writes_is_asked_through_the_client(
    workspace: Path, state: Path, model: FakeModelServer
) -> None:
    agents = workspace / ".lsp-agent" / "agents"
    agents.mkdir(parents=True)
    (agents / "writer.md").write_text(
        "---\ndescription: Writes files.\ntools: write_file\n---\nYou write files.\n"
    )
    model.script(
        tool_call_reply([task("Write", "Write out.txt", agent="writer")]),
        tool_call_reply([("write_file", {"path": "out.txt", "content": "hi\n"})]),
        text_reply("I was not allowed to."),
        text_reply("Not written."),
    )
    async with acp_agent(workspace, state, model) as agent:
        agent.client.answer = "reject_once"
        sid = (await agent.conn.new_session(cwd=str(workspace), mcp_servers=[])).session_id
        result = await agent.conn.prompt(session_id=sid, prompt=prompt_of("write it"))
        assert result.stop_reason == "end_turn"
        [asked] = agent.client.permissions
        assert asked["toolCall"]["toolCallId"] == "call_0/call_0"  # the nested call shown
    assert not (workspace / "out.txt").exists()
    assert "denied" in model.chat_requests[2].body["messages"][-1]["content"].lower()


async def test_cancel_during_a_sub_agent(
    workspace: Path, state: Path, model: FakeModelServer
) -> None:
    model.script(
        tool_call_reply([task("Think", "Think hard")]),
        text_reply("thinking about it", chunk_size=4, stall_after=3),
    )
    async with acp_agent(workspace, state, model) as agent:
        sid = (await agent.conn.new_session(cwd=str(workspace))).session_id
        running = asyncio.ensure_future(agent.conn.prompt(session_id=sid, prompt=prompt_of("go")))
        assert await asyncio.to_thread(model.wait_for_chat_requests, 2)
        await agent.conn.cancel(session_id=sid)
        result = await running
        assert result.stop_reason == "cancelled"
        assert await model.wait_for_disconnect_async()
        [failed] = [
            u
            for u in agent.client.of("tool_call_update", sid)
            if u["toolCallId"] == "call_0" and u.get("status") == "failed"
        ]
        assert failed["rawOutput"]["output"].startswith("Interrupted")
