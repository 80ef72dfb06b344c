"""Session config over ACP: the model option, the mode and model across a restart, the
session's cumulative cost in usage_update, and /undo with nothing to undo."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.acp.harness import acp_agent, prompt_of
from tests.fakes.model_server import FakeModelServer, text_reply


def _current(options: Sequence[Any] | None, option_id: str) -> Any:
    return next(o.current_value for o in options or [] if o.id == option_id)


async def test_the_model_option_lists_the_servers_models_and_changes_mid_session(
    workspace: Path, state: Path, model: FakeModelServer
) -> None:
    model.models = ["fake-model", "other-model"]
    model.script(text_reply("from the other model"))
    async with acp_agent(workspace, state, model) as agent:
        new = await agent.conn.new_session(cwd=str(workspace))
        sid = new.session_id
        option = next(o for o in new.config_options or [] if o.id == "model")
        assert option.category == "model"
        assert [o.value for o in option.options] == ["fake-model", "other-model"]
        answer = await agent.conn.set_config_option(
            config_id="model", session_id=sid, value="other-model"
        )
        assert answer is not None and _current(answer.config_options, "model") == "other-model"
        update = agent.client.of("config_option_update", sid)[-1]
        (shown,) = [o for o in update["configOptions"] if o["id"] == "model"]
        assert shown["currentValue"] == "other-model"
        await agent.conn.prompt(session_id=sid, prompt=prompt_of("hello"))
    assert model.chat_requests[-1].body["model"] == "other-model"


async def test_mode_and_model_survive_a_restart(
    workspace: Path, state: Path, model: FakeModelServer
) -> None:
    model.models = ["fake-model", "other-model"]
    async with acp_agent(workspace, state, model) as agent:
        sid = (await agent.conn.new_session(cwd=str(workspace))).session_id
        await agent.conn.set_session_mode(mode_id="accept-edits", session_id=sid)
        await agent.conn.set_config_option(config_id="model", session_id=sid, value="other-model")
    async with acp_agent(workspace, state, model) as agent:  # a new process
        loaded = await agent.conn.load_session(cwd=str(workspace), session_id=sid)
        assert loaded.modes is not None and loaded.modes.current_mode_id == "accept-edits"
        assert _current(loaded.config_options, "mode") == "accept-edits"
        assert _current(loaded.config_options, "model") == "other-model"
    async with acp_agent(workspace, state, model) as agent:
        resumed = await agent.conn.resume_session(cwd=str(workspace), session_id=sid)
        assert resumed.modes is not None and resumed.modes.current_mode_id == "accept-edits"
        assert _current(resumed.config_options, "model") == "other-model"
        model.script(text_reply("still the other model"))
        await agent.conn.prompt(session_id=sid, prompt=prompt_of("hello"))
    assert model.chat_requests[-1].body["model"] == "other-model"


async def test_usage_update_carries_the_sessions_cumulative_cost(
    workspace: Path, state: Path, model: FakeModelServer
) -> None:
    # $1 per million tokens each way: a reply of DEFAULT_USAGE costs total_tokens / 1e6.
    (workspace / ".lsp-agent.toml").write_text(
        '[model]\ncontextWindow = 32000\n[model.pricing."fake-model"]\ninput = 1.0\noutput = 1.0\n',
        encoding="utf-8",
    )
    model.script(text_reply("one"), text_reply("two"))
    async with acp_agent(workspace, state, model) as agent:
        sid = (await agent.conn.new_session(cwd=str(workspace))).session_id
        await agent.conn.prompt(session_id=sid, prompt=prompt_of("first"))
        first = agent.client.of("usage_update", sid)[-1]
        await agent.conn.prompt(session_id=sid, prompt=prompt_of("second"))
        second = agent.client.of("usage_update", sid)[-1]
    assert first["size"] == 32000 and first["used"] > 0
    assert first["cost"]["currency"] == "USD" and first["cost"]["amount"] > 0
    # Cumulative over the session, not this prompt's alone.
    assert abs(second["cost"]["amount"] - 2 * first["cost"]["amount"]) < 1e-12


async def test_usage_update_has_no_cost_without_a_price(
    workspace: Path, state: Path, model: FakeModelServer
) -> None:
    model.script(text_reply("one"))
    async with acp_agent(workspace, state, model) as agent:
        sid = (await agent.conn.new_session(cwd=str(workspace))).session_id
        await agent.conn.prompt(session_id=sid, prompt=prompt_of("first"))
        assert "cost" not in agent.client.of("usage_update", sid)[-1]


async def test_undo_with_nothing_to_undo_says_so(
    workspace: Path, state: Path, model: FakeModelServer
) -> None:
    async with acp_agent(workspace, state, model) as agent:
        sid = (await agent.conn.new_session(cwd=str(workspace))).session_id
        answer = await agent.conn.prompt(session_id=sid, prompt=prompt_of("/undo"))
        assert answer.stop_reason == "end_turn"
        assert agent.client.text(sid) == (
            "Nothing to undo: the agent changed no files in the last 1 turn(s)."
        )
    assert model.chat_requests == []
