"""Real OS processes: a kill -9 mid-run loses nothing committed, two writers share a store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from lsp_agent.model.wire import UserMessage
from lsp_agent.store import SessionStore

ROOT = Path(__file__).resolve().parents[3]

# Appends forever, printing after each commit how many messages are committed.
APPENDER = """
import sys
from pathlib import Path
from lsp_agent.model.wire import UserMessage
from lsp_agent.store import SessionStore

store = SessionStore(Path(sys.argv[1]))
for i in range(10**9):
    store.append_message(sys.argv[2], UserMessage(content=f"message {i} " + "x" * 3000), i // 10)
    print(f"committed {i + 1}", flush=True)
"""

# Waits for "go" on stdin, then writes COUNT messages to its own session (and to a shared
# one, when given) and COUNT events to the shared one.
WRITER = """
import sys
from pathlib import Path
from lsp_agent.agent.events import TextDelta
from lsp_agent.model.wire import UserMessage
from lsp_agent.store import SessionStore

path, shared, name, count = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
print("ready", flush=True)
sys.stdin.readline()
store = SessionStore(path)
own = store.create_session("/ws/" + name).id
for i in range(count):
    store.append_message(own, UserMessage(content=f"{name} {i}"), i)
    if shared != "-":
        store.append_message(shared, UserMessage(content=f"{name} {i}"), i)
        store.append_event(shared, TextDelta(text=f"{name} {i}"))
store.close()
print("done", own, flush=True)
"""


def python(script: str, *args: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


def expect_line(proc: subprocess.Popen[str], prefix: str) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith(prefix):
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"expected {prefix!r}, got {line!r}; stderr:\n{err}")
    return line.strip()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_kill_9_loses_no_committed_message(db_path: Path) -> None:
    with SessionStore(db_path) as store:
        sid = store.create_session("/ws").id
    child = python(APPENDER, str(db_path), sid)
    committed = 0
    try:
        while committed < 200:
            committed = int(expect_line(child, "committed ").split()[1])
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate()
    assert child.returncode == -signal.SIGKILL

    with SessionStore(db_path) as store:
        assert store.check() == []
        messages = store.load_messages(sid)
        assert len(messages) >= committed
        assert messages[:committed] == [
            UserMessage(content=f"message {i} " + "x" * 3000) for i in range(committed)
        ]
        # The store still works after the crash.
        store.append_message(sid, UserMessage(content="after"), 99)
        assert store.load_messages(sid)[-1] == UserMessage(content="after")


def run_writers(db_path: Path, shared: str, count: int) -> list[str]:
    writers = [python(WRITER, str(db_path), shared, name, str(count)) for name in ("w1", "w2")]
    for w in writers:
        expect_line(w, "ready")
    for w in writers:  # start both only when both are up, so their writes overlap
        assert w.stdin is not None
        w.stdin.write("go\n")
        w.stdin.flush()
    own = []
    for w in writers:
        out, err = w.communicate()
        assert w.returncode == 0, err
        assert "locked" not in err
        own.append(out.split()[-1])
    return own


def test_two_processes_append_to_one_session(db_path: Path) -> None:
    count = 150
    with SessionStore(db_path) as store:
        shared = store.create_session("/ws").id
    own = run_writers(db_path, shared, count)

    with SessionStore(db_path) as store:
        assert store.check() == []
        messages = store.load_messages(shared)
        assert len(messages) == 2 * count
        for name in ("w1", "w2"):  # each writer's messages in its own order, none lost
            assert [m.content for m in messages if m.content.startswith(name)] == [  # type: ignore[union-attr]
                f"{name} {i}" for i in range(count)
            ]
        assert [e.seq for e in store.load_events(shared)] == list(range(2 * count))
        for sid in own:
            assert len(store.load_messages(sid)) == count


def test_two_processes_create_a_fresh_store_at_once(db_path: Path) -> None:
    count = 100
    own = run_writers(db_path, "-", count)
    with SessionStore(db_path) as store:
        assert store.check() == []
        assert len(store.list_sessions()) == 2
        for sid in own:
            assert len(store.load_messages(sid)) == count
