"""Settings from initializationOptions and from `workspace/configuration` (pulled at start
and on `workspace/didChangeConfiguration`). An invalid value is reported once with
`window/showMessage`, and the previous valid settings stay in force."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types as t

from lsp_agent.server.settings import SettingsManager
from tests.fakes.model_server import FakeModelServer, text_reply, tool_call_reply
from tests.lsp.harness import AgentClient, start, stop

APPLIED = "applied the client's lspAgent settings"
KEPT = "the client's lspAgent settings are invalid"


@pytest_asyncio.fixture(loop_scope="session")
async def configured(tmp_path: Path, lsp_model: FakeModelServer) -> AsyncIterator[AgentClient]:
    (tmp_path / "ws").mkdir()
    lsp_model.clear()
    agent = await start(
        tmp_path / "ws",
        tmp_path / "state",
        lsp_model,
        settings={"limits": {"maxTurns": 7}},
        configuration={"limits": {"maxTurns": 1}},  # the client's settings win
    )
    try:
        yield agent
    finally:
        await stop(agent)


def logged(agent: AgentClient, text: str) -> int:
    return sum(text in m["message"] for m in agent.editor.logs)


async def reconfigure(agent: AgentClient, settings: dict[str, Any], outcome: str) -> None:
    """The user changes the settings; wait until the server has taken them in."""
    before = logged(agent, outcome)
    agent.client.set_configuration(settings, section="lspAgent")
    agent.client.workspace_did_change_configuration(t.DidChangeConfigurationParams(settings=None))
    await agent.editor.until(lambda: logged(agent, outcome) > before)


async def edit_prompt(agent: AgentClient, session: str, name: str) -> dict[str, Any]:
    path = agent.write(name, "x = 1\n")
    agent.server.clear()  # maxTurns may have left the last reply unused
    agent.server.script(
        tool_call_reply([("edit_file", {"path": path, "old_string": "1", "new_string": "2"})]),
        text_reply("done"),
    )
    result: dict[str, Any] = await agent.prompt(session, f"edit {name}")
    return result


async def test_settings_from_the_client_and_invalid_values(configured: AgentClient) -> None:
    agent = configured
    await agent.editor.until(lambda: logged(agent, APPLIED) == 1)  # pulled after `initialized`
    session = await agent.new_session()
    agent.editor.permission_answers.append("allow_once")
    result = await edit_prompt(agent, session, "a.py")
    assert result["stopReason"] == "max_turns"  # maxTurns: 1 from workspace/configuration
    assert len(agent.editor.permission_requests) == 1  # mode "ask" from initializationOptions

    await reconfigure(agent, {"permissions": {"mode": "yolo"}}, KEPT)
    [shown] = agent.editor.shown
    assert shown["type"] == 1 and "permissions.mode" in shown["message"]
    assert "yolo" in shown["message"]
    await reconfigure(agent, {"permissions": {"mode": "yolo"}}, KEPT)
    assert len(agent.editor.shown) == 1  # reported once

    agent.editor.permission_answers.append("reject_once")
    result = await edit_prompt(agent, session, "b.py")
    assert len(agent.editor.permission_requests) == 2  # still "ask": the old settings hold
    assert agent.disk("b.py") == "x = 1\n"
    assert result["stopReason"] == "max_turns"  # and so does maxTurns

    await reconfigure(agent, {"permissions": {"mode": "auto"}}, APPLIED)
    result = await edit_prompt(agent, session, "c.py")
    assert len(agent.editor.permission_requests) == 2  # auto mode: not asked
    assert agent.disk("c.py") == "x = 2\n"
    assert result["stopReason"] == "end_turn"  # maxTurns is back to initializationOptions' 7
    assert len(agent.editor.shown) == 1


@pytest.mark.parametrize("bad_layer", ["init", "client"])
def test_an_invalid_layer_does_not_block_the_others(tmp_path: Path, bad_layer: str) -> None:
    reports: list[str] = []
    manager = SettingsManager(tmp_path, reports.append)
    good = {"limits": {"maxTurns": 3}}
    bad = {"limits": {"maxTurns": "many"}}
    if bad_layer == "init":
        assert not manager.set_initialization_options({"lspAgent": bad})
        assert manager.set_client_settings(good)
    else:
        assert manager.set_initialization_options(good)
        assert not manager.set_client_settings(bad)
    assert manager.current.limits.max_turns == 3
    assert len(reports) == 1 and "limits.maxTurns" in reports[0]
    # a config file changes: it applies, though a layer was invalid earlier
    (tmp_path / ".lsp-agent.toml").write_text("[shell]\ntimeoutS = 5\n")
    assert manager.reload()
    assert manager.current.shell.timeout_s == 5 and manager.current.limits.max_turns == 3
