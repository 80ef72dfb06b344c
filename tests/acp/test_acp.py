"""`lsp-agent acp` end to end: the ACP Python SDK's client side drives the real process
(a subprocess on stdio) against the fake model server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from acp import RequestError, text_block
from acp.schema import (
    EmbeddedResourceContentBlock,
    HttpMcpServer,
    ResourceContentBlock,
    TextResourceContents,
)

from tests.acp.harness import SECRET, RecordingClient, acp_agent, prompt_of
from tests.fakes.model_server import FakeModelServer, text_reply, tool_call_reply


async def test_a_prompt_streams_a_tool_call_and_the_answer(
    workspace: Path, state: Path, model: FakeModelServer
) -> None:
    (workspace / "notes.txt").write_text("remember the milk\n", encoding="utf-8")
    model.script(
        tool_call_reply([("read_file", {"path": "notes.txt"})]),
        text_reply("The note says: remember the milk.", chunk_size=2),
    )
    async with acp_agent(workspace, state, model) as agent:
        session = await agent.conn.new_session(cwd=str(workspace), mcp_servers=[])
        result = await agent.conn.prompt(
            session_id=session.session_id, prompt=prompt_of("What does notes.txt say?")
        )
        client, sid = agent.client, session.session_id
    assert result.stop_reason == "end_turn"
    assert result.usage is not None and result.usage.total_tokens > 0
    (call,) = client.of("tool_call", sid)
    assert call["kind"] == "read" and call["title"] == "Read notes.txt"
    assert call["locations"] == [{"path": str(workspace / "notes.txt")}]  # absolute
    done = [u for u in client.of("tool_call_update", sid) if u.get("status") == "completed"]
    assert "remember the milk" in done[0]["content"][0]["content"]["text"]
    assert client.text(sid) == "The note says: remember the milk."
    assert client.of("session_info_update", sid)[-1]["title"] == "What does notes.txt say?"
    assert client.of("usage_update", sid)[-1]["size"] == 32000
    assert [u["availableCommands"] for u in client.of("available_commands_update", sid)]
    assert SECRET not in repr(client.frames)


async def test_permission_shows_the_diff_and_a_reject_keeps_the_file(
    workspace: Path, state: Path, model: FakeModelServer
) -> None:
    target = workspace / "a.py"
    target.write_text("x = 1\n", encoding="utf-8")
    edit = {"path": "a.py", "old_string": "x = 1", "new_string": "x = 2"}
    model.script(tool_call_reply([("edit_file", edit)]), text_reply("rejected, fine"))
    model.script(tool_call_reply([("edit_file", edit)]), text_reply("edited"))
    client = RecordingClient(answer="reject_once")
    async with acp_agent(workspace, state, model, client) as agent:
        sid = (await agent.conn.new_session(cwd=str(workspace))).session_id
        await agent.conn.prompt(session_id=sid, prompt=prompt_of("make x 2"))
        assert target.read_text(encoding="utf-8") == "x = 1\n"
        asked = client.permissions[0]
        kinds = {o["kind"] for o in asked["options"]}
        assert {"allow_once", "allow_always", "reject_once"} <= kinds
        diff = next(c for c in asked["toolCall"]["content"] if c["type"] == "diff")
        assert diff == {
            "type": "diff",
            "path": str(target),
            "oldText": "x = 1\n",
            "newText": "x = 2\n",
        }
        failed = [u for u in client.of("tool_call_update", sid) if u.get("status") == "failed"]
        assert failed, "a rejected edit is a failed tool call"
        client.answer = "allow_once"
        await agent.conn.prompt(session_id=sid, prompt=prompt_of("now do it"))
    assert target.read_text(encoding="utf-8") == "x = 2\n"
    shown = [u for u in client.of("tool_call_update", sid) if u.get("status") == "completed"]
    assert any(c["type"] == "diff" for u in shown for c in u.get("content", []))


async def test_a_command_is_asked_whole(
    workspace: Path, state: Path, model: FakeModelServer
) -> None:
    command = "echo first\n" + "\n".join(f"echo line{i}" for i in range(40)) + "\nrm -rf build"
    model.script(tool_call_reply([("bash", {"command": command})]), text_reply("done"))
    client = RecordingClient(answer=None)  # dismissed: a deny
    async with acp_agent(workspace, state, model, client) as agent:
        sid = (await agent.conn.new_session(cwd=str(workspace))).session_id
        result = await agent.conn.prompt(session_id=sid, prompt=prompt_of("run it"))
    assert result.stop_reason == "end_turn"
    (asked,) = client.permissions
    assert asked["toolCall"]["kind"] == "execute"
    text = "\n".join(c["content"]["text"] for c in asked["toolCall"]["content"])
    assert "echo line39" in text and "rm -rf build" in text  # nothing cut


async def test_cancel_resolves_the_prompt_with_cancelled(
    workspace: Path, state: Path, model: FakeModelServer
) -> None:
    model.script(text_reply("never finished", stall_after=2))
    async with acp_agent(workspace, state, model) as agent:
        sid = (await agent.conn.new_session(cwd=str(workspace))).session_id
        before = len(model.requests)  # new_session asked for /models
        running = asyncio.ensure_future(
            agent.conn.prompt(session_id=sid, prompt=prompt_of("take your time"))
        )
        assert await model.wait_for_requests_async(before + 1)  # the model is streaming
        await agent.conn.cancel(session_id=sid)
        result = await running
        assert result.stop_reason == "cancelled"
        assert agent.client.text(sid, "user_message_chunk") == "take your time"
        # The session is usable again at once.
        model.script(text_reply("back"))
        again = await agent.conn.prompt(session_id=sid, prompt=prompt_of("hello?"))
        assert again.stop_reason == "end_turn"
        assert agent.client.text(sid).endswith("back")


async def test_cancel_while_the_user_is_asked(
    workspace: Path, state: Path, model: FakeModelServer
) -> None:
    model.script(tool_call_reply([("write_file", {"path": "n.txt", "content": "x"})]))
    client = RecordingClient(release=asyncio.Event())
    async with acp_agent(workspace, state, model, client) as agent:
        sid = (await agent.conn.new_session(cwd=str(workspace))).session_id
        running = asyncio.ensure_future(
            agent.conn.prompt(session_id=sid, prompt=prompt_of("write it"))
        )
        await client.asked.wait()
        await agent.conn.cancel(session_id=sid)
        assert (await running).stop_reason == "cancelled"
        client.release.set()  # type: ignore[union-attr]
    assert not (workspace / "n.txt").exists()


async def test_load_and_resume_after_the_process_restarts(
    workspace: Path, state: Path, model: FakeModelServer
) -> None:
    model.script(text_reply("first answer"))
    async with acp_agent(workspace, state, model) as agent:
        sid = (await agent.conn.new_session(cwd=str(workspace))).session_id
        await agent.conn.prompt(session_id=sid, prompt=prompt_of("first question"))
    async with acp_agent(workspace, state, model) as agent:
        listed = await agent.conn.list_sessions(cwd=str(workspace))
        assert [s.session_id for s in listed.sessions] == [sid]
        assert listed.sessions[0].title == "first question"
        loaded = await agent.conn.load_session(cwd=str(workspace), session_id=sid)
        assert loaded.modes is not None and loaded.modes.current_mode_id == "ask"
        # The history arrived before the answer to session/load.
        client = agent.client
        assert client.text(sid, "user_message_chunk") == "first question"
        assert client.text(sid) == "first answer"
        model.script(text_reply("second answer"))
        await agent.conn.prompt(session_id=sid, prompt=prompt_of("second question"))
    async with acp_agent(workspace, state, model) as agent:
        await agent.conn.resume_session(cwd=str(workspace), session_id=sid)
        assert agent.client.of("user_message_chunk") == []  # resume replays nothing
        model.script(text_reply("third answer"))
        await agent.conn.prompt(session_id=sid, prompt=prompt_of("third question"))
    sent = [m["content"] for m in model.chat_requests[-1].body["messages"] if m["role"] == "user"]
    assert sent[-3:] == ["first question", "second question", "third question"]


async def test_reads_and_writes_go_through_the_client_when_it_offers_fs(
    workspace: Path, state: Path, model: FakeModelServer
) -> None:
    target = workspace / "draft.md"
    target.write_text("saved text\n", encoding="utf-8")
    client = RecordingClient(buffers={str(target): "unsaved text\n"})
    model.script(
        tool_call_reply([("read_file", {"path": "draft.md"})]),
        tool_call_reply(
            [("edit_file", {"path": "draft.md", "old_string": "unsaved", "new_string": "new"})]
        ),
        text_reply("done"),
    )
    async with acp_agent(workspace, state, model, client, fs=True) as agent:
        sid = (await agent.conn.new_session(cwd=str(workspace))).session_id
        await agent.conn.prompt(session_id=sid, prompt=prompt_of("edit the draft"))
    read_result = model.chat_requests[1].body["messages"][-1]["content"]
    assert "unsaved text" in read_result  # the agent saw the editor's buffer
    assert client.writes == [(str(target), "new text\n")]
    assert target.read_text(encoding="utf-8") == "saved text\n"  # the editor decides


async def test_an_embedded_resource_is_the_read_view_of_its_file(
    workspace: Path, state: Path, model: FakeModelServer
) -> None:
    target = workspace / "main.py"
    target.write_text("print('disk')\n", encoding="utf-8")
    model.script(tool_call_reply([("read_file", {"path": "main.py"})]), text_reply("ok"))
    prompt = [
        text_block("Look at"),
        ResourceContentBlock(type="resource_link", uri=target.as_uri(), name="main.py"),
        EmbeddedResourceContentBlock(
            type="resource",
            resource=TextResourceContents(uri=target.as_uri(), text="print('buffer')\n"),
        ),
    ]
    async with acp_agent(workspace, state, model) as agent:
        sid = (await agent.conn.new_session(cwd=str(workspace))).session_id
        await agent.conn.prompt(session_id=sid, prompt=prompt)
    first = model.chat_requests[0].body["messages"][-1]["content"]
    assert f"[main.py]({target.as_uri()})" in first and "print('buffer')" in first
    assert "print('buffer')" in model.chat_requests[1].body["messages"][-1]["content"]


async def test_slash_commands_undo_and_list(
    workspace: Path, state: Path, model: FakeModelServer
) -> None:
    target = workspace / "a.txt"
    target.write_text("old\n", encoding="utf-8")
    write = {"path": "a.txt", "content": "new\n"}
    model.script(tool_call_reply([("write_file", write)]), text_reply("written"))
    async with acp_agent(workspace, state, model) as agent:
        sid = (await agent.conn.new_session(cwd=str(workspace))).session_id
        await agent.conn.prompt(session_id=sid, prompt=prompt_of("rewrite a.txt"))
        assert target.read_text(encoding="utf-8") == "new\n"
        undone = await agent.conn.prompt(session_id=sid, prompt=prompt_of("/undo"))
        assert undone.stop_reason == "end_turn"
        assert target.read_text(encoding="utf-8") == "old\n"
        assert "Undone: a.txt" in agent.client.text(sid)
        await agent.conn.prompt(session_id=sid, prompt=prompt_of("/sessions"))
        assert sid in agent.client.text(sid)
        with pytest.raises(RequestError) as bad:
            await agent.conn.prompt(session_id=sid, prompt=prompt_of("/undo lots"))
        assert bad.value.code == -32602 and "number of turns" in str(bad.value)
    assert len(model.chat_requests) == 2  # the slash commands never reached the model


async def test_changing_the_mode_mid_session(
    workspace: Path, state: Path, model: FakeModelServer
) -> None:
    write = {"path": "b.txt", "content": "hi\n"}
    model.script(tool_call_reply([("write_file", write)]), text_reply("written"))
    client = RecordingClient(answer=None)  # would deny, if asked
    async with acp_agent(workspace, state, model, client) as agent:
        sid = (await agent.conn.new_session(cwd=str(workspace))).session_id
        answer = await agent.conn.set_config_option(
            config_id="mode", session_id=sid, value="accept-edits"
        )
        assert answer is not None
        mode = next(o for o in answer.config_options if o.id == "mode")
        assert mode.current_value == "accept-edits"
        await agent.conn.prompt(session_id=sid, prompt=prompt_of("write b.txt"))
        assert client.permissions == []  # accept-edits: no question
        assert (workspace / "b.txt").read_text(encoding="utf-8") == "hi\n"
        await agent.conn.set_session_mode(mode_id="read-only", session_id=sid)
        assert client.of("current_mode_update", sid)[-1]["currentModeId"] == "read-only"
        with pytest.raises(RequestError) as bad:
            await agent.conn.set_session_mode(mode_id="yolo", session_id=sid)
        assert bad.value.code == -32602 and "yolo" in str(bad.value)


async def test_bad_requests_get_json_rpc_errors(
    workspace: Path, state: Path, model: FakeModelServer
) -> None:
    async with acp_agent(workspace, state, model) as agent:
        with pytest.raises(RequestError) as unknown:
            await agent.conn.prompt(session_id="nope", prompt=prompt_of("hi"))
        assert unknown.value.code == -32602 and "nope" in str(unknown.value)
        with pytest.raises(RequestError) as relative:
            await agent.conn.new_session(cwd="relative/dir")
        assert relative.value.code == -32602 and "cwd" in str(relative.value)
        sid = (await agent.conn.new_session(cwd=str(workspace))).session_id
        with pytest.raises(RequestError) as empty:
            await agent.conn.prompt(session_id=sid, prompt=[text_block("  ")])
        assert empty.value.code == -32602
        with pytest.raises(RequestError) as option:
            await agent.conn.set_config_option(config_id="colour", session_id=sid, value="red")
        assert option.value.code == -32602
        assert agent.process.returncode is None  # still serving


async def test_sessions_keep_their_mcp_servers_and_can_be_deleted(
    workspace: Path, state: Path, model: FakeModelServer
) -> None:
    server = HttpMcpServer(type="http", name="docs", url="http://127.0.0.1:9/mcp", headers=[])
    async with acp_agent(workspace, state, model) as agent:
        made = await agent.conn.new_session(cwd=str(workspace), mcp_servers=[server])
        assert made.field_meta == {
            "lspAgent": {"mcpServers": [{"name": "docs", "status": "configured"}]}
        }
        sid = made.session_id
        await agent.conn.close_session(session_id=sid)
        # The SDK's client has no delete_session (0.12.1): send the request itself.
        assert await agent.conn._conn.send_request("session/delete", {"sessionId": sid}) == {}
        listed = await agent.conn.list_sessions(cwd=str(workspace))
        assert listed.sessions == []
        with pytest.raises(RequestError):
            await agent.conn.load_session(cwd=str(workspace), session_id=sid)


async def test_a_missing_key_offers_the_environment_variable(
    workspace: Path, state: Path, model: FakeModelServer
) -> None:
    async with acp_agent(workspace, state, model, key=False) as agent:
        (method,) = agent.init.auth_methods
        dumped = method.model_dump(by_alias=True, exclude_none=True)
        assert dumped["type"] == "env_var" and dumped["vars"][0]["name"] == "OPENAI_API_KEY"
        with pytest.raises(RequestError) as still:
            await agent.conn.authenticate(method_id=dumped["id"])
        assert "OPENAI_API_KEY" in str(still.value.data)
