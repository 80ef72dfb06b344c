"""A hostile model over LSP: what it streams never fails a prompt or the connection."""

from __future__ import annotations

from tests.fakes.model_server import text_reply, tool_call_reply
from tests.lsp.harness import AgentClient

LONE = "\ud800"


async def test_lone_surrogates_stream_as_replacement_characters(agent: AgentClient) -> None:
    agent.server.script(
        tool_call_reply(
            [
                ("write_file", {"path": agent.rel(f"a{LONE}.txt"), "content": f"x{LONE}"}),
                ("read_file", '{"path": "b\\ud800.txt"}'),
            ],
            text=f"looking {LONE}",
        ),
        text_reply(f"bad {LONE} text", reasoning=f"hmm {LONE}"),
    )
    agent.editor.permission_answers.append("allow_once")
    session = await agent.new_session()
    result = await agent.prompt(session, "go")
    assert result["stopReason"] == "end_turn"
    assert "bad \ufffd text" in agent.editor.text_of(session)
    assert len(agent.editor.calls(session)) == 2
    # the session was stored: it loads again, and the next prompt works
    agent.server.script(text_reply("fine"))
    assert (await agent.prompt(session, "again"))["stopReason"] == "end_turn"
