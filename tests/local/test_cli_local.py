"""`lsp-agent run --model local:PATH` as a user runs it: llama.cpp starts in the background
with a progress line, the answer streams, and nothing is left running afterwards."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.local.helpers import processes_with_env

LSP_AGENT = str(Path(sys.executable).parent / "lsp-agent")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    # Gemma 270M is a base model that never ends its turn: keep the run short.
    (root / ".lsp-agent.toml").write_text(
        "[model]\nmaxOutputTokens = 8\ntemperature = 0\n[local]\ncontextSize = 4096\nparallel = 1\n"
    )
    return root


def run(
    workspace: Path, tmp_path: Path, *args: str, marker: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "HF_"))}
    env.update(
        LSP_AGENT_STATE_DIR=str(tmp_path / "state"),
        HF_HOME=str(tmp_path / "hf"),
        NO_COLOR="1",
        LSP_AGENT_TEST_MARKER=marker,
    )
    return subprocess.run(
        [LSP_AGENT, "run", *args, "--workspace", str(workspace)],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_a_run_on_the_local_provider_streams_and_cleans_up(
    gemma_gguf: Path, workspace: Path, tmp_path: Path
) -> None:
    marker = uuid.uuid4().hex
    result = run(
        workspace,
        tmp_path,
        "The capital of France is",
        "--model",
        f"local:{gemma_gguf}",
        "--max-turns",
        "1",
        marker=marker,
    )
    assert result.returncode in (0, 3), result.stderr  # done, or the turn limit
    assert result.stdout.strip()  # the model's words
    assert f"loading model: {gemma_gguf.name} (241 MiB), template gemma" in result.stderr
    assert f"{gemma_gguf.name} ready in " in result.stderr
    assert processes_with_env("LSP_AGENT_TEST_MARKER", marker) == []  # llama.cpp stopped
    assert list((tmp_path / "state" / "logs").glob("*.log")) == []  # a clean stop


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("local:", "--model local: needs a GGUF file"),
        ("local:/no/such.gguf", "model.path '/no/such.gguf' is not a file"),
    ],
)
def test_a_bad_local_model_is_a_usage_error(
    workspace: Path, tmp_path: Path, model: str, message: str
) -> None:
    result = run(workspace, tmp_path, "hi", "--model", model)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_file_that_is_not_a_model_is_a_usage_error(workspace: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_text("not a model")
    result = run(workspace, tmp_path, "hi", "--model", f"local:{bad}")
    assert result.returncode == 2
    assert "is not a GGUF file" in result.stderr


def test_ctrl_c_while_the_model_loads_stops_it_cleanly(
    gemma_gguf: Path, workspace: Path, tmp_path: Path
) -> None:
    marker = uuid.uuid4().hex
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "HF_"))}
    env.update(LSP_AGENT_STATE_DIR=str(tmp_path / "state"), LSP_AGENT_TEST_MARKER=marker)
    proc = subprocess.Popen(
        [LSP_AGENT, "run", "hi", "--model", f"local:{gemma_gguf}", "--workspace", str(workspace)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as a shell would
    )
    assert proc.stderr is not None
    assert proc.stderr.readline().startswith("loading model:")  # the load has begun
    proc.send_signal(signal.SIGINT)
    rest = proc.stderr.read()
    assert proc.wait(timeout=60) == 130
    assert "cancelled" in rest and "Traceback" not in rest
    assert processes_with_env("LSP_AGENT_TEST_MARKER", marker) == []


def test_doctor_checks_the_model_file_template_and_memory(
    gemma_gguf: Path, workspace: Path, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "HF_"))}
    env.update(LSP_AGENT_STATE_DIR=str(tmp_path / "state"), HF_HOME=str(tmp_path / "hf"))

    def doctor(model: str) -> subprocess.CompletedProcess[str]:
        command = [LSP_AGENT, "doctor", "--model", model, "--workspace", str(workspace)]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)

    good = doctor(f"local:{gemma_gguf}")
    assert good.returncode == 0, good.stdout
    assert f"ok      model {gemma_gguf} (Gemma 3 270m, gemma3, 0.24 GiB" in good.stdout
    assert "ok      chat template gemma (architecture gemma3)" in good.stdout
    assert "ok      memory: needs about " in good.stdout
    bad = tmp_path / "bad.gguf"
    bad.write_text("not a model")
    broken = doctor(f"local:{bad}")
    assert broken.returncode == 1
    assert "problem cannot use" in broken.stdout and "is not a GGUF file" in broken.stdout
