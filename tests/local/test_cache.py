"""The Hugging Face cache as lsp-agent reads it: where it is, what is in it, removing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lsp_agent.config import validate
from lsp_agent.local import cache
from lsp_agent.local.provider import launch_spec
from tests.local.helpers import fake_hub_entry, write_gguf


def test_the_cache_follows_huggingface_hubs_variables(tmp_path: Path) -> None:
    assert cache.hub_cache({"HF_HUB_CACHE": "/x/hub"}) == Path("/x/hub")
    assert cache.hub_cache({"HF_HOME": "/h", "XDG_CACHE_HOME": "/c"}) == Path("/h/hub")
    assert cache.hub_cache({"XDG_CACHE_HOME": "/c"}) == Path("/c/huggingface/hub")


def test_lists_gguf_files_only(hub: Path) -> None:
    fake_hub_entry(hub, "org/a-GGUF", "a-q4_k_m.gguf", b"GGUF one")
    fake_hub_entry(hub, "org/a-GGUF", "README.md", b"readme")
    fake_hub_entry(hub, "org/b-GGUF", "sub/b.gguf", b"GGUF two!")
    models = cache.list_models()
    assert [(m.ref, m.size) for m in models] == [
        ("org/a-GGUF:a-q4_k_m.gguf", 8),
        ("org/b-GGUF:sub/b.gguf", 9),
    ]


def test_finds_a_model_by_ref_file_or_repo(hub: Path) -> None:
    fake_hub_entry(hub, "org/a-GGUF", "a.gguf", b"GGUF a")
    fake_hub_entry(hub, "org/b-GGUF", "b.gguf", b"GGUF b")
    assert cache.find_model("org/a-GGUF:a.gguf").file == "a.gguf"
    assert cache.find_model("b.gguf").repo == "org/b-GGUF"
    assert cache.find_model("org/b-GGUF").file == "b.gguf"
    with pytest.raises(cache.NotCached, match="models pull"):
        cache.find_model("c.gguf")


def test_an_ambiguous_name_lists_the_matches(hub: Path) -> None:
    fake_hub_entry(hub, "org/a-GGUF", "model.gguf", b"GGUF a")
    fake_hub_entry(hub, "org/b-GGUF", "model.gguf", b"GGUF b")
    with pytest.raises(
        cache.NotCached, match=re.escape("org/a-GGUF:model.gguf, org/b-GGUF:model.gguf")
    ):
        cache.find_model("model.gguf")


def test_remove_deletes_entry_blob_and_the_empty_repository(hub: Path) -> None:
    entry = fake_hub_entry(hub, "org/a-GGUF", "a.gguf", b"GGUF a")
    blob = entry.resolve()
    cache.remove_model(cache.find_model("a.gguf"))
    assert not blob.exists()
    assert not (hub / "models--org--a-GGUF").exists()
    assert cache.list_models() == []


def test_remove_keeps_the_other_files_of_a_repository(hub: Path) -> None:
    fake_hub_entry(hub, "org/a-GGUF", "a-q4.gguf", b"GGUF a4")
    fake_hub_entry(hub, "org/a-GGUF", "a-q8.gguf", b"GGUF a8")
    cache.remove_model(cache.find_model("a-q4.gguf"))
    assert [m.file for m in cache.list_models()] == ["a-q8.gguf"]


def test_a_pulled_model_is_launched_by_its_file_name_and_keeps_it(
    hub: Path, tmp_path: Path
) -> None:
    gguf = write_gguf(tmp_path / "m.gguf", {"general.architecture": "gemma3"})
    entry = fake_hub_entry(hub, "org/gemma-GGUF", "gemma.gguf", gguf.read_bytes())
    settings = validate({"model": {"provider": "local", "path": "gemma.gguf"}})
    spec, resolved = launch_spec(settings)
    assert spec.model == entry  # the snapshot's name, not the blob's hash
    assert spec.template.name == "gemma"
    assert resolved.info.architecture == "gemma3"
