"""Permission round trips: `agent/session/request_permission`, and the
`window/showMessageRequest` fallback for clients without the capability. Only an allow
option approves; anything else (reject, an error, cancelled, no answer) is a deny."""

from __future__ import annotations

import pytest

from tests.fakes.model_server import text_reply, tool_call_reply
from tests.lsp.conftest import one_flavour
from tests.lsp.harness import AgentClient, tool_results

ORIGINAL = "def add(a, b):\n    return a - b\n"
FIXED = "def add(a, b):\n    return a + b\n"
ALWAYS_EDITS = "Always allow edits in the workspace"  # the action names what it allows


def script_fix(agent: AgentClient, name: str, *, edits: int = 1) -> str:
    path = agent.write(name, ORIGINAL)
    replies = []
    for n in range(edits):
        old, new = ("a - b", "a + b") if n == 0 else ("a + b", f"a + b + {n}")
        replies.append(
            tool_call_reply([("edit_file", {"path": path, "old_string": old, "new_string": new})])
        )
    agent.server.script(*replies, text_reply("done"))
    return path


@pytest.mark.parametrize(
    ("answer", "approved"),
    [
        ("allow_once", True),
        ("reject_once", False),
        (None, False),  # the editor answers with an error
        ("cancelled", False),
        ("not-an-option", False),
    ],
)
async def test_permission_round_trip(
    agent: AgentClient, answer: str | None, approved: bool
) -> None:
    path = script_fix(agent, "calc.py")
    agent.editor.permission_answers.append(answer)
    session = await agent.new_session()
    result = await agent.prompt(session, "fix calc.py")
    assert result["stopReason"] == "end_turn"

    [asked] = agent.editor.permission_requests
    assert asked["sessionId"] == session
    call = asked["toolCall"]
    assert call["kind"] == "edit" and call["title"] == f"Edit {path}"
    assert call["rawInput"]["path"] == path
    assert call["content"] == [
        {"type": "diff", "path": str(agent.path("calc.py")), "oldText": ORIGINAL, "newText": FIXED}
    ]
    kinds = {o["kind"] for o in asked["options"]}
    assert {"allow_once", "allow_always", "reject_once"} <= kinds

    [view] = agent.editor.calls(session)
    assert view.id == call["toolCallId"]
    assert agent.disk("calc.py") == (FIXED if approved else ORIGINAL)
    [told] = tool_results(agent.server)
    if approved:
        assert view.final is not None and view.final["status"] == "completed"
        assert told.startswith("Edited")
    else:
        assert view.final is not None and view.final["rawOutput"]["status"] == "denied"
        assert "denied" in told and "Edited" not in told
        assert result["editedUris"] == []


async def test_allow_always_is_not_asked_again(agent: AgentClient) -> None:
    script_fix(agent, "calc.py", edits=2)
    agent.editor.permission_answers.append("allow_always")
    session = await agent.new_session()
    result = await agent.prompt(session, "fix calc.py twice")
    assert result["stopReason"] == "end_turn" and result["toolCalls"] == 2
    assert len(agent.editor.permission_requests) == 1
    assert agent.disk("calc.py") == "def add(a, b):\n    return a + b + 1\n"
    # and it holds for the session's next prompt too
    script_fix(agent, "other.py")
    result = await agent.prompt(session, "fix other.py")
    assert agent.disk("other.py") == FIXED
    assert len(agent.editor.permission_requests) == 1


async def test_allow_always_is_per_session(agent: AgentClient) -> None:
    script_fix(agent, "calc.py")
    agent.editor.permission_answers.append("allow_always")
    await agent.prompt(await agent.new_session(), "fix calc.py")
    script_fix(agent, "other.py")
    agent.editor.permission_answers.append("reject_once")
    await agent.prompt(await agent.new_session(), "fix other.py")
    assert len(agent.editor.permission_requests) == 2
    assert agent.disk("other.py") == ORIGINAL


@one_flavour
async def test_unanswered_permission_is_cancelled_with_the_prompt(agent: AgentClient) -> None:
    script_fix(agent, "calc.py")
    agent.editor.permission_answers.append("never")
    session = await agent.new_session()
    _, pending = agent.start_prompt(session, "fix calc.py")
    await agent.editor.until(lambda: bool(agent.editor.permission_requests))
    agent.notify("agent/session/cancel", {"sessionId": session})
    result = await pending
    assert result["stopReason"] == "cancelled"
    # the server withdrew its question, and the edit counts as denied
    assert agent.editor.cancelled == ["agent/session/request_permission"]
    assert agent.disk("calc.py") == ORIGINAL
    assert result["editedUris"] == []
    [view] = agent.editor.calls(session)
    assert view.final is not None and view.final["status"] == "failed"


@pytest.mark.parametrize(
    ("answer", "approved"),
    [("Allow", True), (ALWAYS_EDITS, True), ("Reject", False), (None, False)],
)
async def test_show_message_request_fallback(
    plain_agent: AgentClient, answer: str | None, approved: bool
) -> None:
    agent = plain_agent
    path = script_fix(agent, "calc.py")
    agent.editor.message_answers.append(answer)
    session = await agent.new_session()
    result = await agent.prompt(session, "fix calc.py")
    assert result["stopReason"] == "end_turn"
    [asked] = agent.editor.message_requests
    assert path in asked["message"]
    assert [a["title"] for a in asked["actions"]] == ["Allow", ALWAYS_EDITS, "Reject"]
    assert agent.disk("calc.py") == (FIXED if approved else ORIGINAL)
    assert ("denied" in tool_results(agent.server)[0]) is not approved


async def test_show_message_request_always_allow_is_remembered(plain_agent: AgentClient) -> None:
    agent = plain_agent
    script_fix(agent, "calc.py", edits=2)
    agent.editor.message_answers.append(ALWAYS_EDITS)
    result = await agent.prompt(await agent.new_session(), "fix calc.py twice")
    assert result["toolCalls"] == 2
    assert len(agent.editor.message_requests) == 1
    assert agent.disk("calc.py") == "def add(a, b):\n    return a + b + 1\n"
