"""Known secret values (the API key, secret-looking environment values) are redacted from
every tool output before it is emitted, stored or sent to the model."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

from lsp_agent.store.redact import REDACTED, Redactor

MIN_SECRET = 8  # shorter "secret" values ("1", "true") are flags and would shred output


def known_secrets(api_key: str | None, environ: Mapping[str, str] | None = None) -> list[str]:
    """The API key and every secret-looking environment value, also reversed (`rev`)."""
    from lsp_agent.tools.shell import is_secret

    env = os.environ if environ is None else environ
    found = [v for k, v in env.items() if len(v.strip()) >= MIN_SECRET and is_secret(k, v)]
    values = [api_key, *found] if api_key else found
    return sorted({form for v in values for form in (v, v[::-1])})


class StreamRedactor:
    """Redacts a stream that arrives in pieces: a secret split between two pieces is held
    back until it is whole, so no piece ever carries part of it."""

    def __init__(self, secrets: Iterable[str]) -> None:
        kept = sorted({s for s in secrets if len(s) >= MIN_SECRET}, key=lambda s: (-len(s), s))
        self._pattern = re.compile("|".join(map(re.escape, kept))) if kept else None
        self._secrets = kept
        self._hold = max((len(s) for s in kept), default=1) - 1
        self._tail = ""

    def feed(self, text: str) -> str:
        if self._pattern is None:
            return text
        buf = self._tail + text
        redacted = self._pattern.sub(REDACTED, buf)
        # Hold back only an ending that could be the start of a secret; the rest goes now.
        held = self._partial(redacted)
        self._tail = redacted[len(redacted) - held :] if held else ""
        return redacted[: len(redacted) - held]

    def _partial(self, text: str) -> int:
        for k in range(min(self._hold, len(text)), 0, -1):
            end = text[-k:]
            if any(s.startswith(end) for s in self._secrets):
                return k
        return 0

    def flush(self) -> str:
        rest, self._tail = self._tail, ""
        return self._pattern.sub(REDACTED, rest) if self._pattern is not None else rest


def redactor(secrets: Iterable[str]) -> Redactor:
    return Redactor(secrets, min_length=MIN_SECRET)
