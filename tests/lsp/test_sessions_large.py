"""A session with a large edit (~240 KB, over the packing threshold) replays its full diff
after a restart, although the store keeps the diff's texts only once, as compressed blobs."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.model_server import FakeModelServer, text_reply, tool_call_reply
from tests.lsp.harness import start, stop

ORIGINAL = "".join(f"line {i:07d} of a generated, compressible file\n" for i in range(5_000))
EDITED = ORIGINAL.replace("line 0000000", "LINE 0", 1)


async def test_load_replays_a_large_diff_in_full(
    tmp_path: Path, lsp_model: FakeModelServer
) -> None:
    root, state = tmp_path / "ws", tmp_path / "state"
    root.mkdir()
    (root / "big.txt").write_text(ORIGINAL)
    lsp_model.clear()
    edit = {"path": "big.txt", "old_string": "line 0000000", "new_string": "LINE 0"}
    lsp_model.script(tool_call_reply([("edit_file", edit)]), text_reply("edited"))
    first = await start(root, state, lsp_model)
    try:
        first.editor.permission_answers.append("allow_once")
        session = await first.new_session()
        await first.prompt(session, "edit big.txt")
    finally:
        await stop(first)
    assert (root / "big.txt").read_text() == EDITED
    assert (state / "sessions.db").stat().st_size < len(ORIGINAL)  # not 4 raw copies

    second = await start(root, state, lsp_model)
    try:
        await second.request("agent/session/load", {"sessionId": session})
        [call] = second.editor.calls(session)
        assert call.final is not None
        [diff] = [c for c in call.final["content"] if c["type"] == "diff"]
        assert diff["oldText"] == ORIGINAL and diff["newText"] == EDITED
    finally:
        await stop(second)
