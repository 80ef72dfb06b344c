"""Which language a file is, and the error of a server gone: what the language tools need
without importing pygls or lsprotocol (the tools declare themselves before any server runs)."""

from __future__ import annotations

from pathlib import Path

LANGUAGE_IDS = {
    ".py": "python",
    ".pyi": "python",
    ".ts": "typescript",
    ".tsx": "typescriptreact",
    ".js": "javascript",
    ".jsx": "javascriptreact",
    ".mjs": "javascript",
    ".cjs": "javascript",
}


def language_of(path: Path) -> str | None:
    return LANGUAGE_IDS.get(path.suffix.lower())


class ServerDied(Exception):
    """The server's process ended before it answered: it is started again on next use."""
