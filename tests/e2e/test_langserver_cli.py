"""Language-server tools through the real CLI (issue 13): real basedpyright and ruff servers
started by the daemon, the scripted fake model server driving the tool calls."""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_cli import cli_env
from tests.fakes.model_server import (
    FakeModelServer,
    FakeResponse,
    RecordedRequest,
    text_reply,
    tool_call_reply,
)

LSP_AGENT = str(Path(sys.executable).parent / "lsp-agent")
BIN = str(Path(sys.executable).parent)

pytestmark = pytest.mark.skipif(
    not (shutil.which("basedpyright-langserver", path=BIN) and shutil.which("ruff", path=BIN)),
    reason="basedpyright and ruff come with the test extras: pip install -e '.[test]'",
)

A = 'def greet(name: str) -> str:\n    return "hi " + name\n'
B = 'from a import greet\n\nprint(greet("x"))\nprint(greet("y"))\n'


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "0"\n')
    # a generous cap: the wait ends at the server's publish, the cap only bounds it
    (root / ".lsp-agent.toml").write_text("[langserver]\ndiagnosticsWaitS = 30\n")
    (root / "a.py").write_text(A)
    (root / "b.py").write_text(B)
    return root


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = cli_env(tmp_path, "sk-test")
    clean["PATH"] = BIN + os.pathsep + clean.get("PATH", "")
    return clean


def run(server: FakeModelServer, root: Path, env: dict[str, str]) -> str:
    command = [
        LSP_AGENT, "run", "go", "--workspace", str(root), "--base-url", server.base_url,
        "--permission-mode", "auto",
    ]  # fmt: skip
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stderr


def tool_results(server: FakeModelServer) -> list[str]:
    last = server.chat_requests[-1].body["messages"]
    return [m["content"] for m in last if m["role"] == "tool"]


def tool_names(server: FakeModelServer) -> list[str]:
    return [t["function"]["name"] for t in server.chat_requests[0].body["tools"]]


def test_definition_references_and_rename_across_files(
    model_server: FakeModelServer, project: Path, env: dict[str, str]
) -> None:
    model_server.script(
        # line 3 names greet at column 7; the position is found from the symbol's name
        tool_call_reply([("definition", {"path": "b.py", "line": 3, "symbol": "greet"})]),
        tool_call_reply([("references", {"path": "a.py", "line": 1, "symbol": "greet"})]),
        tool_call_reply(
            [("rename", {"path": "a.py", "line": 1, "symbol": "greet", "new_name": "welcome"})]
        ),
        text_reply("Renamed."),
    )
    run(model_server, project, env)
    definition, references, rename = tool_results(model_server)
    assert definition.strip() == "a.py:1:5  def greet(name: str) -> str:"
    assert "a.py:1:5  def greet(name: str) -> str:" in references
    assert 'b.py:3:7  print(greet("x"))' in references
    assert 'b.py:4:7  print(greet("y"))' in references
    assert "b.py:1:15  from a import greet" in references
    assert "Changed 2 file(s)" in rename
    assert (project / "a.py").read_text() == A.replace("greet", "welcome")
    assert (project / "b.py").read_text() == B.replace("greet", "welcome")
    assert {"definition", "references", "rename", "diagnostics"} <= set(tool_names(model_server))


def test_a_rename_as_the_first_call_changes_every_file_and_undo_restores_them(
    model_server: FakeModelServer, project: Path, env: dict[str, str]
) -> None:
    # before basedpyright has set up its workspace folder it answers in its default
    # workspace, in one file: the first request waits for the server's first diagnostics
    model_server.script(
        tool_call_reply(
            [("rename", {"path": "a.py", "line": 1, "symbol": "greet", "new_name": "welcome"})]
        ),
        text_reply("Renamed."),
    )
    run(model_server, project, env)
    (rename,) = tool_results(model_server)
    assert rename.startswith("Changed 2 file(s): a.py, b.py."), rename
    assert (project / "b.py").read_text() == B.replace("greet", "welcome")

    # every file of the multi-file edit has its undo snapshot
    undo = subprocess.run(
        [LSP_AGENT, "undo"], cwd=project, capture_output=True, text=True, env=env, timeout=60
    )
    assert undo.returncode == 0, undo.stderr
    assert f"reverted {project / 'a.py'}" in undo.stdout
    assert f"reverted {project / 'b.py'}" in undo.stdout
    assert (project / "a.py").read_text() == A
    assert (project / "b.py").read_text() == B


def _parent(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def _descendants_running(ancestor: int, needle: str) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle not in (entry / "cmdline").read_bytes().decode(errors="replace"):
                continue
            pid = int(entry.name)
            up = pid
            while up > 1:
                up = _parent(up)
                if up == ancestor:
                    out.append(pid)
                    break
        except (OSError, ValueError, IndexError):
            continue
    return out


def _kill_and_wait(pid: int) -> None:
    """SIGKILL, then block on a pidfd until the process is gone (no polling)."""
    fd = os.pidfd_open(pid)
    try:
        os.kill(pid, signal.SIGKILL)
        select.select([fd], [], [], 30)
    finally:
        os.close(fd)


def test_a_language_server_that_crashes_mid_run_is_started_again(
    model_server: FakeModelServer, project: Path, env: dict[str, str]
) -> None:
    command = [
        LSP_AGENT, "run", "go", "--workspace", str(project), "--base-url",
        model_server.base_url, "--permission-mode", "auto",
    ]  # fmt: skip
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    killed: list[int] = []

    def between_calls(request: RecordedRequest) -> FakeResponse:
        # the definition call ran: basedpyright (node, under its Python launcher) is up
        if not killed:
            (node,) = _descendants_running(proc.pid, "langserver.index")
            # started without the agent's secrets
            assert b"OPENAI_API_KEY=" not in Path(f"/proc/{node}/environ").read_bytes()
            _kill_and_wait(node)
            killed.append(node)
            return tool_call_reply([("references", {"path": "a.py", "line": 1, "symbol": "greet"})])
        return text_reply("Done.")

    model_server.script(
        tool_call_reply([("definition", {"path": "b.py", "line": 3, "symbol": "greet"})])
    )
    model_server.respond_with(between_calls)
    _out, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert killed
    definition, references = tool_results(model_server)
    assert definition.strip() == "a.py:1:5  def greet(name: str) -> str:"
    assert "language server 'basedpyright' had stopped" in references
    assert "was started again" in references
    assert 'b.py:4:7  print(greet("y"))' in references
    assert "basedpyright" in stderr and "starting it again" in stderr


def test_an_edit_that_breaks_the_types_shows_the_error_in_its_result(
    model_server: FakeModelServer, project: Path, env: dict[str, str]
) -> None:
    model_server.script(
        tool_call_reply(
            [("edit_file", {"path": "b.py", "old_string": 'greet("y")', "new_string": "greet(2)"})]
        ),
        text_reply("Edited."),
    )
    run(model_server, project, env)
    (result,) = tool_results(model_server)
    assert "This edit introduced these problems:" in result
    assert "b.py:4:13  error:" in result and '"Literal[2]"' in result


def test_a_ruff_quick_fix_removes_an_unused_import(
    model_server: FakeModelServer, project: Path, env: dict[str, str]
) -> None:
    (project / "b.py").write_text("import os\n" + B)
    model_server.script(
        tool_call_reply([("code_actions", {"path": "b.py", "line": 1})]),
        text_reply("Looking."),
    )
    run(model_server, project, env)
    (listing,) = tool_results(model_server)
    fix = next(row for row in listing.splitlines() if "Remove unused import" in row)
    action_id = fix.split()[0]
    # code_actions' ids live for the session: ask for and apply in one run
    model_server.script(
        tool_call_reply([("code_actions", {"path": "b.py", "line": 1})]),
        tool_call_reply([("apply_code_action", {"path": "b.py", "id": action_id})]),
        text_reply("Fixed."),
    )
    run(model_server, project, env)
    assert "Changed 1 file(s): b.py" in tool_results(model_server)[1]
    assert (project / "b.py").read_text() == B


def test_without_any_language_server_the_tools_are_not_offered_and_the_run_says_why(
    model_server: FakeModelServer, project: Path, env: dict[str, str]
) -> None:
    (project / ".lsp-agent.toml").write_text(
        "[langserver.servers.basedpyright]\ncommand = ['basedpyright-langserver']\n"
        "filetypes = ['python']\nenabled = false\n"
        "[langserver.servers.ruff]\ncommand = ['ruff']\nfiletypes = ['python']\nenabled = false\n"
    )
    model_server.script(text_reply("Hi."))
    stderr = run(model_server, project, env)
    assert "definition" not in tool_names(model_server)
    assert "no language server is available" in stderr
