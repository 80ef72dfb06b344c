"""A published MCP server, the reference `@modelcontextprotocol/server-everything` (npm,
installed by scripts/test from tests/mcp/published), over stdio and Streamable HTTP,
through the real CLI against the fake model server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.model_server import FakeModelServer, text_reply, tool_call_reply
from tests.mcp.http_server import serving

LSP_AGENT = str(Path(sys.executable).parent / "lsp-agent")
EVERYTHING = (
    Path(__file__).parent
    / "published/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
)
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(
    NODE is None or not EVERYTHING.is_file(),
    reason="needs node and tests/mcp/published installed (./scripts/test does it)",
)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    clean |= {"OPENAI_API_KEY": "sk-mcp-test-0123456789", "NO_COLOR": "1"}
    clean["LSP_AGENT_STATE_DIR"] = str(tmp_path / "state")
    return clean


@pytest.fixture
def http_url() -> Iterator[str]:
    assert NODE is not None
    node = NODE

    def command(port: int) -> tuple[list[str], dict[str, str]]:
        return [node, str(EVERYTHING), "streamableHttp"], {
            "PATH": os.environ["PATH"],
            "PORT": str(port),
        }

    with serving(command, "everything server") as url:
        yield url


def call_everything(
    server: FakeModelServer, workspace: Path, env: dict[str, str], config: str
) -> list[str]:
    (workspace / ".lsp-agent.toml").write_text(config)
    server.script(
        tool_call_reply(
            [
                ("mcp__everything__echo", {"message": "hello everything"}),
                ("mcp__everything__get-sum", {"a": 2, "b": 40}),
                ("mcp__everything__get-tiny-image", {}),
            ]
        ),
        text_reply("done"),
    )
    command = [
        LSP_AGENT, "run", "use it", "--workspace", str(workspace), "--base-url", server.base_url,
        "--permission-mode", "auto", "--json",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    started = json.loads(result.stdout.splitlines()[0])
    assert started["notes"] == []
    last = server.chat_requests[-1].body["messages"]
    return [m["content"] for m in last if m["role"] == "tool"]


def check(results: list[str]) -> None:
    echo, total, image = results
    assert "hello everything" in echo
    assert "42" in total
    assert "[image image/png" in image  # an image becomes a note, not base64 in the context


def test_everything_over_stdio(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str]
) -> None:
    config = (
        f"[mcp.servers.everything]\ncommand = {json.dumps(NODE)}\n"
        f"args = [{json.dumps(str(EVERYTHING))}, 'stdio']\n"
    )
    check(call_everything(model_server, workspace, env, config))


def test_everything_over_streamable_http(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str], http_url: str
) -> None:
    config = f"[mcp.servers.everything]\nurl = {json.dumps(http_url)}\n"
    check(call_everything(model_server, workspace, env, config))
