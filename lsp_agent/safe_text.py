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


# --- file names that are not UTF-8 ------------------------------------------------------
# os.fsdecode turns each undecodable byte of a name into U+DC80..U+DCFF (surrogateescape).
# Tools show such a byte as the four characters `\xHH` and accept that form back, so the
# model can name the file: `bad\xff.txt` on output resolves to the name's real bytes.
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_SHOWN_BYTE = re.compile(r"\\x([89a-fA-F][0-9a-fA-F])")


def show_name(name: str) -> str:
    """A file name for tool output: undecodable bytes as `\\xHH`, other lone surrogates as
    U+FFFD, so it always encodes as UTF-8 and `unshow_name` maps it back."""
    if is_clean(name):
        return name
    return clean(_ESCAPED_BYTE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", name))


def unshow_name(name: str) -> str:
    """The inverse of `show_name` for the `\\xHH` escapes (HH >= 80): the name as
    os.fsdecode spells it."""
    if "\\x" not in name:
        return name
    return _SHOWN_BYTE.sub(lambda m: chr(0xDC00 + int(m.group(1), 16)), name)
