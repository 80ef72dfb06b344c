"""The session store against unlucky input: large snapshots stay small on disk, and a store
lsp-agent cannot use is refused before anything is written to it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.e2e import test_cli_sessions as sessions
from tests.e2e.test_cli_sessions import lsp, run, session_id
from tests.fakes.model_server import FakeModelServer, text_reply, tool_call_reply

workspace, state, env = sessions.workspace, sessions.state, sessions.env  # the same fixtures


def test_large_snapshots_are_compressed_and_undo_restores_them(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str], state: Path
) -> None:
    big = workspace / "big.txt"
    original = b"".join(
        b"line %07d of a generated, compressible file\n" % i for i in range(110_000)
    )
    assert 4_500_000 < len(original) < 5_242_880  # under the whole-read limit
    big.write_bytes(original)
    model_server.script(text_reply("hello"))
    run(model_server, env, workspace, "warm up")  # the store exists, with one session
    store = state / "sessions.db"
    empty = store.stat().st_size  # the last connection folded the WAL into the file
    edit = {"path": "big.txt", "old_string": "line 0000000", "new_string": "LINE 0"}
    model_server.script(tool_call_reply([("edit_file", edit)]), text_reply("edited"))
    result = run(model_server, env, workspace, "edit it", "--continue")
    assert result.returncode == 0, result.stderr
    assert big.read_bytes() != original
    # Two snapshots (before and after) of ~5.2 MB each: stored raw that is ~10 MB, and the
    # edit's event held the diff's old and new text again (another ~10 MB). Now the diff's
    # texts are the snapshots' blobs, stored once, compressed.
    assert store.stat().st_size - empty < 2_000_000
    with sqlite3.connect(store) as conn:
        sizes, stored = conn.execute("SELECT sum(size), sum(length(data)) FROM blobs").fetchone()
    assert sizes > 10_000_000 and stored < 1_000_000, (sizes, stored)
    shown = lsp(env, workspace, "sessions", "show", session_id(result))
    assert shown.returncode == 0 and "→ edit_file" in shown.stdout, shown.stderr
    undone = lsp(env, workspace, "undo")
    assert undone.returncode == 0, undone.stderr
    assert big.read_bytes() == original


def test_a_store_missing_a_table_is_refused_untouched(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str], state: Path
) -> None:
    model_server.script(text_reply("hello"))
    assert run(model_server, env, workspace, "first").returncode == 0
    store = state / "sessions.db"
    conn = sqlite3.connect(store)
    conn.execute("DROP TABLE messages")
    conn.close()  # the last connection: the WAL is folded into the file
    damaged = store.read_bytes()
    model_server.clear()
    for command in (["run", "again"], ["run", "again", "--continue"], ["sessions", "list"]):
        args = [*command, "--workspace", str(workspace)] if command[0] == "run" else command
        if command[0] == "run":
            args += ["--base-url", model_server.base_url]
        result = lsp(env, workspace, *args)
        assert result.returncode == 2, (command, result.stderr)
        assert str(store) in result.stderr
        assert "lacks table messages" in result.stderr
        assert "Move it aside" in result.stderr
        assert "Traceback" not in result.stderr
        assert store.read_bytes() == damaged, command
    assert not model_server.chat_requests


def test_a_5mb_write_file_passes_the_default_caps_and_stays_small_in_the_store(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str], state: Path
) -> None:
    content = "".join(f"row {i:07d} of generated, compressible content\n" for i in range(110_000))
    assert len(content) > 5_000_000  # over the old 1 MB argument cap, under tools.maxWriteMb
    # A window that holds it, so nothing is compacted away (the caps stay the defaults).
    (workspace / ".lsp-agent.toml").write_text("[model]\ncontextWindow = 10000000\n")
    model_server.script(text_reply("hello"))
    run(model_server, env, workspace, "warm up")
    store = state / "sessions.db"
    empty = store.stat().st_size
    write = {"path": "gen.txt", "content": content}
    model_server.script(
        tool_call_reply([("write_file", write)], chunk_size=65_536), text_reply("written")
    )
    result = run(model_server, env, workspace, "write it", "--continue")
    assert result.returncode == 0, result.stderr
    assert (workspace / "gen.txt").read_text() == content
    # Raw: the arguments (message, event, tool_calls row), the diff's new text and unified
    # diff, and the snapshot: ~30 MB. Stored once each, compressed:
    assert store.stat().st_size - empty < 2_000_000
    model_server.script(text_reply("still here"))
    resumed = run(model_server, env, workspace, "and now?", "--continue")
    assert resumed.returncode == 0, resumed.stderr
    history = model_server.chat_requests[-1].body["messages"]
    [call] = [c for m in history for c in m.get("tool_calls") or []]
    assert call["function"]["name"] == "write_file"
    assert json.loads(call["function"]["arguments"])["content"] == content
