"""The GGUF header reader: real and synthetic files, and files that are not models."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from lsp_agent.local.gguf import GGUFError, read_gguf
from tests.local.helpers import write_gguf


def test_reads_the_real_models_metadata(gemma_gguf: Path) -> None:
    info = read_gguf(gemma_gguf)
    assert info.architecture == "gemma3"
    assert info.name == "Gemma 3 270m"
    assert info.context_length == 32768
    assert info.tensors == 236
    assert info.get("tokenizer.ggml.tokens") is None  # the 262k-token vocabulary is skipped
    assert info.size == gemma_gguf.stat().st_size


def test_reads_strings_numbers_bools_and_short_arrays(tmp_path: Path) -> None:
    path = write_gguf(
        tmp_path / "m.gguf",
        {
            "general.architecture": "llama",
            "general.name": "Tiny",
            "llama.context_length": 4096,
            "general.flag": True,
            "general.tags": ["a", "b"],
            "tokenizer.chat_template": "{{ messages }}",
        },
    )
    info = read_gguf(path)
    assert (info.architecture, info.name, info.context_length) == ("llama", "Tiny", 4096)
    assert info.get("general.flag") is True
    assert info.get("general.tags") == ["a", "b"]
    assert info.chat_template == "{{ messages }}"


def test_long_arrays_are_skipped_not_kept(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "m.gguf", {"big": list(range(1000)), "after": "still read"})
    info = read_gguf(path)
    assert info.get("big") is None
    assert info.get("after") == "still read"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04 a zip file", "not a GGUF file"),
        (b"GGUF", "ends inside its header"),
        (b"GGUF" + struct.pack("<I", 1) + b"\0" * 16, "version 1 is not supported"),
    ],
)
def test_files_that_are_not_usable_models(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "x.gguf"
    path.write_bytes(data)
    with pytest.raises(GGUFError, match=message):
        read_gguf(path)


def test_a_truncated_header_is_an_error_not_a_crash(tmp_path: Path) -> None:
    full = write_gguf(
        tmp_path / "m.gguf", {"general.name": "x" * 100, "general.architecture": "qwen2"}
    )
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(full.read_bytes()[:60])
    with pytest.raises(GGUFError, match="truncated"):
        read_gguf(cut)


def test_an_absurd_string_length_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.gguf"
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 1 << 40))
    with pytest.raises(GGUFError, match="not a valid GGUF"):
        read_gguf(path)
