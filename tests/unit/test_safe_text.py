"""safe_text: lone surrogates never fail an encode; clean text passes through untouched."""

from __future__ import annotations

import json

from lsp_agent import safe_text


def test_lone_surrogates_become_replacement_characters() -> None:
    assert safe_text.clean("a\ud800b\udcffc") == "a\ufffdb\ufffdc"
    assert safe_text.utf8("x\udfff") == "x\ufffd".encode()
    assert json.loads(safe_text.dumps({"k\ud800": ["v\ud800", 1]})) == {"k\ufffd": ["v\ufffd", 1]}


def test_clean_text_is_returned_as_is() -> None:
    text = "héllo 😀 " * 10
    assert safe_text.clean(text) is text
    assert safe_text.is_clean(text) and not safe_text.is_clean("\ud800")


def test_escape_precheck_finds_surrogate_escapes_only() -> None:
    assert safe_text.may_hold_surrogates('{"a": "\\ud800"}')
    assert safe_text.may_hold_surrogates('{"a": "\\uDFFF"}')
    assert not safe_text.may_hold_surrogates('{"a": "\\u00e9"}')
    assert not safe_text.may_hold_surrogates('{"a": "plain"}')
