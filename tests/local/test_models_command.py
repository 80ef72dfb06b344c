"""`lsp-agent models pull | list | rm` as a user runs them, against a local fake Hugging
Face endpoint (HF_ENDPOINT) that serves the test model's GGUF."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.local.fake_hub import COMMIT, FakeHub

LSP_AGENT = str(Path(sys.executable).parent / "lsp-agent")
REPO = "test-org/gemma-3-270m-GGUF"


@pytest.fixture
def fake_hub(gemma_gguf: Path, tmp_path: Path) -> Iterator[FakeHub]:
    readme = tmp_path / "README.md"
    readme.write_text("# test\n")
    with FakeHub({REPO: {gemma_gguf.name: gemma_gguf, "README.md": readme}}) as hub:
        yield hub


@pytest.fixture
def env(tmp_path: Path, fake_hub: FakeHub) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    clean.update(HF_ENDPOINT=fake_hub.url, HF_HOME=str(tmp_path / "hf"), HF_HUB_DISABLE_XET="1")
    return clean


def models(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LSP_AGENT, "models", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_pull_lays_out_the_cache_with_a_progress_bar_then_list_and_rm(
    env: dict[str, str], gemma_gguf: Path, tmp_path: Path, fake_hub: FakeHub
) -> None:
    pulled = models(env, "pull", REPO)  # no FILE: the repository's one GGUF is picked
    assert pulled.returncode == 0, pulled.stderr
    repo_dir = tmp_path / "hf" / "hub" / "models--test-org--gemma-3-270m-GGUF"
    entry = repo_dir / "snapshots" / COMMIT / gemma_gguf.name
    assert pulled.stdout.strip() == str(entry)
    assert (repo_dir / "refs" / "main").read_text() == COMMIT
    blob = entry.resolve()
    assert blob.parent == (repo_dir / "blobs").resolve()
    assert blob.name == fake_hub.etag(gemma_gguf)
    assert blob.stat().st_size == gemma_gguf.stat().st_size
    assert "100%" in pulled.stderr  # huggingface_hub's progress bar, on stderr
    assert f"--model local:{gemma_gguf.name}" in pulled.stderr
    assert f"GET /{REPO}/resolve/main/README.md" not in fake_hub.requests  # GGUFs only

    listed = models(env, "list")
    assert listed.returncode == 0
    assert listed.stdout == f"{REPO}:{gemma_gguf.name}  241 MiB\n"

    again = models(env, "pull", f"{REPO}:{gemma_gguf.name}")  # cached: nothing downloaded
    assert again.returncode == 0 and again.stdout.strip() == str(entry)

    removed = models(env, "rm", gemma_gguf.name)
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout == f"removed {REPO}:{gemma_gguf.name} (241 MiB)\n"
    assert not repo_dir.exists()
    assert models(env, "list").stdout == ""


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["pull", "not-a-repo"], 2, "a repository looks like ORG/NAME"),
        (["pull", f"{REPO}:README.md"], 2, "is not a .gguf file"),
        (["pull", "test-org/missing-GGUF"], 1, "no repository test-org/missing-GGUF"),
        (["pull", f"{REPO}:nope.gguf"], 1, "has no file nope.gguf"),
        (["rm", "nope.gguf"], 2, "no cached model matches 'nope.gguf'"),
    ],
)
def test_bad_requests_say_what_is_wrong(
    env: dict[str, str], args: list[str], code: int, message: str
) -> None:
    result = models(env, *args)
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_recommended_models_have_sizes(env: dict[str, str]) -> None:
    result = models(env, "list", "--recommended")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(lines) >= 4
    assert all(":" in line.split()[0] and " GB " in line for line in lines)
