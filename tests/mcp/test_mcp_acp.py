"""MCP servers an ACP client passes in session/new: stdio and Streamable HTTP, real
servers (the SDK-written demo), through the real `lsp-agent acp` subprocess."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from acp.schema import EnvVariable, HttpHeader, HttpMcpServer, McpServerStdio

from tests.acp.harness import acp_agent, prompt_of
from tests.fakes.model_server import FakeModelServer, text_reply, tool_call_reply
from tests.mcp.http_server import serving

DEMO = str(Path(__file__).parent / "servers" / "demo.py")
TOKEN = "header-token-7f3a9c1e55"


@pytest.fixture
def model() -> Iterator[FakeModelServer]:
    with FakeModelServer() as server:
        yield server


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / ".lsp-agent.toml").write_text('[permissions]\nmode = "auto"\n')
    return root.resolve()


@pytest.fixture
def http_demo(tmp_path: Path) -> Iterator[str]:
    marks = tmp_path / "http-marks"
    marks.mkdir()

    def command(port: int) -> tuple[list[str], dict[str, str]]:
        return [sys.executable, DEMO, "--http", str(port)], {
            "PATH": "/usr/bin:/bin",
            "DEMO_MARKS": str(marks),
        }

    with serving(command, "HTTP demo server") as url:
        yield url


async def test_stdio_and_http_servers_from_session_new_stay_up_across_prompts(
    workspace: Path, tmp_path: Path, model: FakeModelServer, http_demo: str
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    stdio = McpServerStdio(
        name="local",
        command=sys.executable,
        args=[DEMO],
        env=[EnvVariable(name="DEMO_MARKS", value=str(marks))],
    )
    http = HttpMcpServer(
        type="http",
        name="remote",
        url=http_demo,
        headers=[HttpHeader(name="Authorization", value=f"Bearer {TOKEN}")],
    )
    model.script(
        tool_call_reply(
            [("mcp__local__echo", {"text": "one"}), ("mcp__remote__echo", {"text": "two"})]
        ),
        text_reply("first"),
        tool_call_reply([("mcp__local__echo", {"text": "three"})]),
        text_reply("second"),
    )
    async with acp_agent(workspace, tmp_path / "state", model) as agent:
        made = await agent.conn.new_session(cwd=str(workspace), mcp_servers=[stdio, http])
        sid = made.session_id
        await agent.conn.prompt(session_id=sid, prompt=prompt_of("call them"))
        first = [
            m["content"] for m in model.chat_requests[-1].body["messages"] if m["role"] == "tool"
        ]
        await agent.conn.prompt(session_id=sid, prompt=prompt_of("again"))
        last = model.chat_requests[-1].body["messages"]
        second = [m["content"] for m in last if m["role"] == "tool"]
        # What the agent sent (the client's own session/new holds the token, of course).
        frames = repr([f for way, f in agent.client.frames if way != "outgoing"])
    local, remote = first
    assert "echo: one" in local and f"cwd {workspace}" in local
    assert "echo: two" in remote
    pid = local.split("pid ")[1].split(",")[0]
    assert f"pid {pid}," in second[-1]  # the same process: it stayed up across prompts
    assert TOKEN not in frames
