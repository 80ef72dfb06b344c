"""Which chat template a model gets, and the override setting. (That llama.cpp parses tool
calls with each template is tested against the real server in test_real_model.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lsp_agent.local.gguf import read_gguf
from lsp_agent.local.templates import (
    EMBEDDED,
    FAMILIES,
    TemplateError,
    choose_template,
    render_template,
)
from tests.local.helpers import write_gguf

QWEN_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>{% endfor %}"
)
LLAMA3_TEMPLATE = "{{ bos_token }}<|start_header_id|>user<|end_header_id|>\n\n{{ x }}<|eot_id|>"


@pytest.mark.parametrize(
    ("metadata", "family"),
    [
        ({"general.architecture": "qwen2", "general.name": "Qwen2.5 Coder 0.5B"}, "chatml"),
        ({"general.architecture": "qwen3", "general.name": "Qwen3 4B"}, "chatml"),
        ({"general.architecture": "gemma3", "general.name": "Gemma 3 270m"}, "gemma"),
        ({"general.architecture": "llama", "general.name": "SmolLM2 360M Instruct"}, "chatml"),
        ({"general.architecture": "llama", "general.basename": "smollm3"}, "chatml"),
        ({"general.architecture": "llama", "general.name": "Mistral 7B Instruct v0.3"}, "mistral"),
        ({"general.architecture": "mistral3", "general.name": "Ministral 3 8B"}, "mistral"),
        (
            {
                "general.architecture": "llama",
                "general.name": "Llama 3.2 3B Instruct",
                "tokenizer.chat_template": LLAMA3_TEMPLATE,
            },
            "llama3",
        ),
        ({"general.architecture": "llama", "general.name": "Meta Llama 3.1 8B"}, "llama3"),
        (
            {"general.architecture": "phi3", "tokenizer.chat_template": QWEN_TEMPLATE},
            "chatml",
        ),
    ],
)
def test_the_family_comes_from_the_gguf_metadata(
    tmp_path: Path, metadata: dict[str, Any], family: str
) -> None:
    choice = choose_template(read_gguf(write_gguf(tmp_path / "m.gguf", metadata)))
    assert choice.name == family
    assert choice.source == render_template(family)
    assert choice.parses_tool_calls


def test_an_unknown_model_keeps_its_own_template_and_says_so(tmp_path: Path) -> None:
    info = read_gguf(write_gguf(tmp_path / "m.gguf", {"general.architecture": "rwkv7"}))
    choice = choose_template(info)
    assert choice.name == EMBEDDED
    assert choice.source is None
    assert "local.chatTemplate" in choice.reason


def test_the_setting_overrides_the_metadata(tmp_path: Path) -> None:
    info = read_gguf(write_gguf(tmp_path / "m.gguf", {"general.architecture": "qwen2"}))
    assert choose_template(info, "llama3").name == "llama3"
    assert choose_template(info, "embedded").source is None
    custom = tmp_path / "mine.jinja"
    custom.write_text("{{ messages }}")
    chosen = choose_template(info, str(custom))
    assert (chosen.name, chosen.source) == (str(custom), "{{ messages }}")


def test_a_setting_that_names_nothing_says_what_is_allowed(tmp_path: Path) -> None:
    info = read_gguf(write_gguf(tmp_path / "m.gguf", {"general.architecture": "qwen2"}))
    with pytest.raises(TemplateError, match="chatml, llama3, gemma, mistral, embedded"):
        choose_template(info, "qwen-please")


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_template_asks_for_and_renders_fenced_json_calls(family: str) -> None:
    source = render_template(family)
    assert "```json" in source  # the call form llama.cpp learns from the template
    assert "tool_calls" in source and "tools" in source
    assert "@" not in source.replace("'@", "")  # no placeholder left unfilled
    user_open = FAMILIES[family].user[0]
    assert repr(user_open) in source
