"""Text that can always leave the process as UTF-8.

A Python str may hold lone surrogates (U+D800..U+DFFF): JSON's `"\\ud800"` decodes to one, and
`surrogateescape` decoding of a non-UTF-8 file name makes them. UTF-8 cannot encode them, so
one such character would fail a write to stdout, SQLite, an LSP notification or a request to
the model. Everything leaving the process goes through here; lone surrogates become U+FFFD.
"""

from __future__ import annotations

import json
import re
from typing import Any

REPLACEMENT = "\ufffd"
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# In JSON text: an escape that decodes to a surrogate (pairs decode to one valid character,
# but telling them apart is not worth it: cleaning a clean value changes nothing).
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def clean(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD (the same object if it has none)."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _LONE_SURROGATE.sub(REPLACEMENT, text)
    return text


def is_clean(text: str) -> bool:
    """Whether `text` encodes as UTF-8 (holds no lone surrogate)."""
    return clean(text) is text


def utf8(text: str) -> bytes:
    """`text` as UTF-8, lone surrogates replaced rather than raising."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _LONE_SURROGATE.sub(REPLACEMENT, text).encode("utf-8")


def clean_value(value: Any) -> Any:
    """Every string (and dict key) of a JSON-like value cleaned; other values kept."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean_value(k): clean_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_value(v) for v in value]
    return value


def may_hold_surrogates(json_text: str) -> bool:
    """Whether decoding this JSON text could produce a lone surrogate (a cheap pre-check)."""
    return "\\u" in json_text and _ESCAPED_SURROGATE.search(json_text) is not None


def dumps(value: Any) -> str:
    """Compact JSON (non-ASCII kept as is) that always encodes as UTF-8."""
    return clean(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
