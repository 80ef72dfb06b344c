"""Scrubbing secrets (API keys, secret environment values) out of what gets stored."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

REDACTED = "[REDACTED]"
# Shorter "secrets" (an env value like "1" or "on") would shred every stored text.
MIN_SECRET_LENGTH = 4


class Redactor:
    """Replaces every occurrence of any of the secrets with REDACTED, in one regex pass."""

    def __init__(self, secrets: Iterable[str], min_length: int = MIN_SECRET_LENGTH) -> None:
        kept = {s for s in secrets if len(s.strip()) >= max(min_length, 1)}
        # Longest first, so a secret that contains another is removed whole.
        ordered = sorted(kept, key=lambda s: (-len(s), s))
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def text(self, text: str) -> str:
        return self._pattern.sub(REDACTED, text) if self._pattern is not None else text

    def value(self, value: Any) -> Any:
        """Redact every string (and dict key) inside a JSON-like value.

        Working on values rather than on the dumped JSON text also catches secrets that JSON
        would escape (quotes, backslashes, non-ASCII) and cannot break the JSON's syntax.
        """
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.value(k): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every non-empty secret replaced by REDACTED (no minimum length here)."""
    return Redactor(secrets, min_length=1).text(text)
