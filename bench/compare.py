"""`python -m bench compare`: the same scripted runs with lsp-agent and with the agents a user
would pick instead, side by side.

Every system runs as its own process against the same fake model server, with the same
`read_file` tool, the same replies (each turn streams its text in 8-character chunks, then
a `read_file` call; the last turn answers), interleaved, 5 times; the figure is the
process's whole CPU time (user + system, from wait4), median and range. Peers:

- a plain synchronous urllib loop (bench/peers/reference.py): the floor, what an agent
  with nothing but the loop costs (a fresh interpreter, json and urllib);
- the OpenAI Agents SDK and pydantic-ai, installed by this bench from PyPI into their own
  venv (the user cache dir, reused); a peer that cannot be installed or run is reported as
  skipped, never faked.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

import platformdirs

from bench.common import Bench, Row, median
from bench.model import BenchModelServer
from tests.fakes.model_server import FakeResponse, text_reply, tool_call_reply

PEERS_DIR = Path(__file__).with_name("peers")
PEER_PACKAGES = ["openai-agents==0.24.0", "pydantic-ai-slim[openai]==2.78.0"]
CASES = [(1, 0), (20, 0), (40, 0), (20, 8000), (40, 2000)]  # (turns, chars streamed per turn)
SYSTEMS = ["lsp-agent", "reference", "openai-agents", "pydantic-ai"]
FILE_TEXT = "def add(a, b):\n    return a + b\n" * 10


def replies(turns: int, chars: int) -> list[FakeResponse]:
    text = ("word " * (chars // 5 + 1))[:chars]
    calls = []
    for n in range(turns - 1):
        reply = tool_call_reply(
            [("read_file", {"path": "app.py"})], text=text or None, chunk_size=8
        )
        for c in reply.chunks or []:  # unique ids, as real servers send (agents match on them)
            for choice in c.get("choices") or []:
                for call in choice.get("delta", {}).get("tool_calls") or []:
                    if "id" in call:
                        call["id"] = f"call_t{n}"
        calls.append(reply)
    return [*calls, text_reply(text or "Done.", chunk_size=8)]


def peers_python(bench: Bench) -> tuple[str | None, str]:
    """The peers' venv python (made once), or None and why not."""
    home = Path(platformdirs.user_cache_dir("lsp-agent")) / "bench-peers"
    python = home / "bin" / "python"
    stamp = home / "installed.txt"
    if stamp.exists() and stamp.read_text() == "\n".join(PEER_PACKAGES):
        return str(python), "cached"
    print(f"    installing {', '.join(PEER_PACKAGES)} into {home} …", file=sys.stderr)
    venv.create(home, with_pip=True, clear=True)
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        return None, f"pip install failed: {done.stderr.strip().splitlines()[-1:]}"
    stamp.write_text("\n".join(PEER_PACKAGES))
    return str(python), "installed"


def command(
    system: str, peers: str | None, base: str, ws: Path, state: Path, turns: int
) -> list[str]:
    if system == "lsp-agent":
        return [
            sys.executable, "-m", "lsp_agent", "run", "--workspace", str(ws),
            "--state-dir", str(state), "--base-url", base, "--model", "fake-model",
            "--permission-mode", "auto", "--max-turns", str(turns + 5),
            "Read the files, then explain.",
        ]  # fmt: skip
    script = {"reference": "reference.py", "openai-agents": "openai_agents_run.py"}.get(
        system, "pydantic_ai_run.py"
    )
    python = sys.executable if system == "reference" else peers
    assert python is not None
    return [python, str(PEERS_DIR / script), base, str(ws)]


def cpu_s(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    """Run to the end; the process tree's CPU seconds (wait4) and its output."""
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {text[-400:]}")
    return usage.ru_utime + usage.ru_stime, text


async def run(bench: Bench) -> list[Row]:
    peers, how = peers_python(bench)
    systems = SYSTEMS if peers else SYSTEMS[:2]
    if not peers:
        bench.notes.append(f"Compare: openai-agents and pydantic-ai skipped: {how}.")
    ws = bench.scratch("compare")
    (ws / "app.py").write_text(FILE_TEXT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env |= {"OPENAI_API_KEY": "sk-bench", "NO_COLOR": "1"}
    samples: dict[tuple[str, int, int], list[float]] = {}
    failed: dict[str, str] = {}
    with BenchModelServer() as server:
        for _ in range(bench.n(5, 1)):
            for turns, chars in CASES:
                for system in systems:
                    if system in failed:
                        continue
                    server.clear()
                    server.script(*replies(turns, chars))
                    state = bench.scratch("compare-state")
                    argv = command(system, peers, server.base_url, ws, state, turns)
                    try:
                        spent, _ = cpu_s(argv, env, ws)
                        if server.pending or len(server.chat_requests) != turns:
                            raise RuntimeError(
                                f"{len(server.chat_requests)} model requests for {turns} turns"
                            )
                    except RuntimeError as e:
                        failed[system] = str(e)
                        continue
                    samples.setdefault((system, turns, chars), []).append(spent)
    bench.notes.append(
        "Compare: `reference` is a bare urllib loop (a fresh interpreter, json, urllib, no "
        "store, no permissions, no events), the floor an agent could reach; the issue's "
        "reference CLI (0.42 s to start) was a fuller program, so ratios to this floor are "
        "larger than the issue's."
    )
    for system, why in failed.items():
        bench.notes.append(f"Compare: {system} skipped, it failed: {why[-300:]!r}.")
    return rows(samples, [s for s in systems if s not in failed])


def rows(samples: dict[tuple[str, int, int], list[float]], systems: list[str]) -> list[Row]:
    def med(system: str, turns: int, chars: int) -> float:
        return median(samples.get((system, turns, chars), []))

    out = []
    for turns, chars in CASES:
        cells = []
        for system in systems:
            xs = samples.get((system, turns, chars), [])
            cells.append(f"{system} {median(xs):.2f} s [{min(xs):.2f}–{max(xs):.2f}]")
        ratio = med("lsp-agent", turns, chars) / med("reference", turns, chars)
        out.append(
            Row(
                "C",
                f"{turns} × {chars:,} chars: CPU",
                "; ".join(cells) + f"; ratio to reference {ratio:.2f}×",
            )
        )
    per_turn = {s: (med(s, 40, 0) - med(s, 20, 0)) / 20 * 1000 for s in systems}
    chunks = 20 * 8000 / 8
    per_chunk = {s: (med(s, 20, 8000) - med(s, 20, 0)) / chunks * 1e6 for s in systems}
    start = {s: med(s, 1, 0) for s in systems}
    out.append(
        Row(
            "C",
            "marginal CPU per turn (40 vs 20 turns)",
            ", ".join(f"{s} {v:.1f} ms" for s, v in per_turn.items()),
        )
    )
    out.append(
        Row(
            "C",
            "marginal CPU per 8-char chunk",
            ", ".join(f"{s} {v:.0f} µs" for s, v in per_chunk.items()),
        )
    )
    ratio = start["lsp-agent"] / start["reference"]
    out.append(
        Row(
            "C",
            "start + one request: lsp-agent / reference",
            f"{ratio:.2f}×",
            "≤ 1.1×",
            ratio <= 1.1,
        )
    )
    agents = [s for s in systems if s not in ("lsp-agent", "reference")]
    for label, figure in (("start + one request", start), ("marginal CPU per turn", per_turn)):
        if agents:  # the agents a user would pick instead: the fastest of them
            best = min(agents, key=lambda s: figure[s])
            ratio = figure["lsp-agent"] / figure[best]
            out.append(
                Row("C", f"{label}: lsp-agent / fastest peer ({best})", f"{ratio:.2f}×",
                    "< 1×", ratio < 1)
            )  # fmt: skip
    return out
