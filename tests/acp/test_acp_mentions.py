"""ACP prompts with line ranges: an embedded resource whose URI has a `#L2:3` fragment (Zed's
selection) is attached as the selection and never becomes the file's read view; a resource
link with `#L1-1` attaches only those lines."""

from __future__ import annotations

from pathlib import Path

from acp import text_block
from acp.schema import EmbeddedResourceContentBlock, ResourceContentBlock, TextResourceContents

from tests.acp.harness import acp_agent
from tests.fakes.model_server import FakeModelServer, text_reply, tool_call_reply


async def test_a_selection_is_attached_and_never_the_files_view(
    workspace: Path, state: Path, model: FakeModelServer
) -> None:
    target = workspace / "main.py"
    target.write_text("one = 1\ntwo = 2\nthree = 3\nfour = 4\n", encoding="utf-8")
    model.script(tool_call_reply([("read_file", {"path": "main.py"})]), text_reply("ok"))
    prompt = [
        text_block("explain"),
        EmbeddedResourceContentBlock(
            type="resource",
            resource=TextResourceContents(uri=target.as_uri() + "#L2:3", text="two = 2\nthree = 3"),
        ),
        ResourceContentBlock(type="resource_link", uri=target.as_uri() + "#L4-4", name="main.py"),
    ]
    async with acp_agent(workspace, state, model) as agent:
        sid = (await agent.conn.new_session(cwd=str(workspace))).session_id
        await agent.conn.prompt(session_id=sid, prompt=prompt)
    first = model.chat_requests[0].body["messages"][-1]["content"]
    assert "main.py:2-3 (the user's selection):\n```\ntwo = 2\nthree = 3\n```" in first
    assert "main.py:4 (attached):\n```\nfour = 4\n```" in first
    read = model.chat_requests[1].body["messages"][-1]["content"]
    assert "one = 1" in read and "four = 4" in read  # the whole file, from disk
