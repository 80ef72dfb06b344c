"""`lsp-agent run` against a hostile model: odd text, endless streams, huge lines and
arguments. The run always ends, with a clear stop reason, and nothing it writes breaks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from lsp_agent.agent.events import event_adapter
from tests.e2e import test_cli
from tests.e2e.test_cli import LSP_AGENT, cli
from tests.fakes.model_server import FakeModelServer, text_reply, tool_call_reply

LONE = "\ud800"
workspace = test_cli.workspace  # the same fixtures
env = test_cli.env  # json.dumps sends it as the escape "\ud800", as a hostile server would


def surrogate_script(server: FakeModelServer) -> None:
    server.script(
        tool_call_reply(
            [
                # a raw lone surrogate inside the arguments text, and an escaped one
                ("write_file", {"path": f"a{LONE}.txt", "content": f"x{LONE}y"}),
                ("read_file", '{"path": "b\\ud800.txt"}'),
            ],
            text=f"looking {LONE}",
        ),
        text_reply(f"bad {LONE} text", reasoning=f"think {LONE}"),
    )


def test_lone_surrogates_from_the_model_never_end_the_run(
    model_server: FakeModelServer,
    workspace: Path,
    env: dict[str, str],
) -> None:
    for extra in ([], ["--json"]):
        model_server.clear()
        surrogate_script(model_server)
        result = cli(model_server, workspace, env, "run", "go", "--permission-mode", "auto", *extra)
        assert result.returncode == 0, result.stderr
        if extra:
            events = [event_adapter.validate_json(line) for line in result.stdout.splitlines()]
            assert events[-1].type == "run_finished"
            text = "".join(getattr(e, "text", "") for e in events if e.type == "text_delta")
            assert "bad \ufffd text" in text
        else:
            assert "bad \ufffd text" in result.stdout
        # every request the model got is valid UTF-8 JSON
        for request in model_server.chat_requests:
            json.loads(request.raw_body.decode("utf-8"))
    # the store kept the session, and shows it
    shown = subprocess.run(
        [*_sessions(env), "list", "--all"], capture_output=True, text=True, env=env, check=False
    )
    assert shown.returncode == 0, shown.stderr
    session_id = shown.stdout.split()[0]
    shown = subprocess.run(
        [*_sessions(env), "show", session_id], capture_output=True, text=True, env=env, check=False
    )
    assert shown.returncode == 0, shown.stderr
    assert "bad \ufffd text" in shown.stdout


def _sessions(env: dict[str, str]) -> list[str]:
    return [LSP_AGENT, "sessions", "--state-dir", env["LSP_AGENT_STATE_DIR"]]


def test_lone_surrogate_in_a_non_stream_answer(
    model_server: FakeModelServer,
    workspace: Path,
    env: dict[str, str],
) -> None:
    (workspace / ".lsp-agent.toml").write_text("[model]\nstream = false\n")
    model_server.script(text_reply(f"plain {LONE} answer"))
    result = cli(model_server, workspace, env, "run", "go")
    assert result.returncode == 0, result.stderr
    assert "plain \ufffd answer" in result.stdout


def _tool_results(server: FakeModelServer) -> list[str]:
    """The tool results the model got in its last request, in call order."""
    body = json.loads(server.chat_requests[-1].raw_body.decode("utf-8"))
    return [m["content"] for m in body["messages"] if m["role"] == "tool"]


def test_a_non_utf8_file_name_round_trips_through_the_tools(
    model_server: FakeModelServer,
    workspace: Path,
    env: dict[str, str],
) -> None:
    bad = workspace / "bad\udcff.txt"  # the name b"bad\xff.txt", as os.fsdecode spells it
    bad.write_bytes(b"hello from the bad name\n")
    shown = "bad\\xff.txt"  # what the tools show, and accept back
    model_server.script(
        tool_call_reply(
            [
                ("list_dir", {}),
                ("glob", {"pattern": "**"}),
                ("grep", {"pattern": "hello"}),
                ("read_file", {"path": shown}),
                ("edit_file", {"path": shown, "old_string": "hello", "new_string": "bye"}),
            ]
        ),
        text_reply("done"),
    )
    result = cli(model_server, workspace, env, "run", "go", "--permission-mode", "auto")
    assert result.returncode == 0, result.stderr
    listed, globbed, grepped, read, edited = _tool_results(model_server)
    assert shown in listed.splitlines()
    assert shown in globbed.splitlines()
    assert grepped.startswith(shown)
    assert "hello from the bad name" in read
    assert edited.startswith(f"Edited {shown}")
    assert bad.read_bytes() == b"bye from the bad name\n"


_PEAK_RSS = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def _peak_rss_kb(server: FakeModelServer, workspace: Path, env: dict[str, str]) -> int:
    """Peak RSS of one `lsp-agent run` (its own child of a fresh Python, so nothing else
    the test process ran counts)."""
    command = [LSP_AGENT, "run", "go", "--workspace", str(workspace), "--base-url"]
    out = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS, *command, server.base_url],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    return int(out.stdout)


def test_read_file_of_a_huge_single_line_stays_bounded(
    model_server: FakeModelServer,
    workspace: Path,
    env: dict[str, str],
) -> None:
    size = 50 * 1_048_576
    huge = workspace / "huge.min.js"
    with huge.open("wb") as f:
        f.write(b"x" * size + b"\nsecond line\n")
    calls = [
        ("read_file", {"path": "huge.min.js"}),
        ("read_file", {"path": "huge.min.js", "offset": 2}),
        ("read_file", {"path": "huge.min.js", "offset": 9}),
    ]
    model_server.script(tool_call_reply(calls), text_reply("done"))
    peak_huge = _peak_rss_kb(model_server, workspace, env)
    results = _tool_results(model_server)
    # The same run over a small file: the huge line may not add its size (or near it).
    huge.write_bytes(b"x" * 3000 + b"\nsecond line\n")
    model_server.clear()
    model_server.script(tool_call_reply(calls), text_reply("done"))
    peak_small = _peak_rss_kb(model_server, workspace, env)
    assert peak_huge - peak_small < 25 * 1024, (peak_huge, peak_small)
    first, second, past = results
    assert first.startswith("     1\t" + "x" * 2000 + "... [line clipped: ")
    assert f"{size - 2000} more bytes not shown]" in first
    assert "     2\tsecond line" in first
    assert second.startswith("     2\tsecond line")
    assert "offset 9 is past the end of huge.min.js, which has 2 lines." in past
