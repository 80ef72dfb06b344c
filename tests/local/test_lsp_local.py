"""The daemon with the local provider: the model loads in the background after
`initialized` with `$/progress`, a prompt is answered by it, and `shutdown` stops it."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.model_server import FakeModelServer
from tests.local.helpers import llama_children
from tests.lsp.harness import process_exit, start, stop


async def test_the_daemon_loads_the_model_with_progress_answers_and_stops_it(
    gemma_gguf: Path, tmp_path: Path
) -> None:
    (tmp_path / "ws").mkdir()
    settings = {
        "model": {
            "provider": "local",
            "path": str(gemma_gguf),
            "maxOutputTokens": 6,
            "temperature": 0,
            "contextWindow": None,
        },
        "local": {"contextSize": 4096, "parallel": 1},
    }
    with FakeModelServer() as unused:  # the harness wants one; the local model answers
        agent = await start(tmp_path / "ws", tmp_path / "state", unused, settings=settings)
        try:
            editor = agent.editor
            await editor.until(
                lambda: any(
                    v.get("kind") == "end" and "ready" in v.get("message", "")
                    for _, v in editor.progress
                )
            )
            [token] = [tok for tok, v in editor.progress if v.get("title") == "Loading model"]
            values = editor.progress_of(token)
            assert values[0]["message"] == f"{gemma_gguf.name} (241 MiB), template gemma"
            assert values[-1]["message"].startswith(f"{gemma_gguf.name} ready in ")
            daemon = agent.client._server.pid if agent.client._server else -1
            [child] = llama_children(daemon)

            session = await agent.new_session()
            result = await agent.prompt(session, "The capital of France is")
            assert result["stopReason"] in ("end_turn", "max_turns"), result
            assert editor.text_of(session).strip()
            assert unused.chat_requests == []  # nothing went to the configured base URL
            assert llama_children(daemon) == [child]  # the same server, loaded once
        finally:
            await stop(agent)
    await process_exit(child)
