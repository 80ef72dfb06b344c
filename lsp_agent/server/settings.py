"""The server's settings: files and environment, then initializationOptions, then the
client's `lspAgent` configuration. A bad value is reported once; the last valid settings
stay in force."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from lsp_agent.config import ConfigError, Settings, load_settings, merge

SECTION = "lspAgent"


class SettingsManager:
    def __init__(self, root: Path, report: Callable[[str], None]) -> None:
        self.root = root
        self._report = report
        self._init: dict[str, Any] = {}
        self._client: dict[str, Any] = {}
        self._last_error: str | None = None
        self.current = self._load_or_defaults()

    def set_root(self, root: Path) -> None:
        self.root = root
        self.reload()

    def set_initialization_options(self, options: Any) -> None:
        self._init = section(options)
        self.reload()

    def set_client_settings(self, settings: Any) -> None:
        self._client = section(settings)
        self.reload()

    def reload(self) -> bool:
        """Re-resolve everything (a config file changed too); False if invalid."""
        try:
            self.current = load_settings(self.root, merge(self._init, self._client))
        except ConfigError as e:
            message = f"lsp-agent: invalid settings, keeping the previous ones: {e}"
            if message != self._last_error:  # once per distinct problem
                self._last_error = message
                self._report(message)
            return False
        self._last_error = None
        return True

    def _load_or_defaults(self) -> Settings:
        try:
            return load_settings(self.root)
        except ConfigError as e:
            self._last_error = f"lsp-agent: invalid settings, using the defaults: {e}"
            self._report(self._last_error)
            return Settings()


def section(value: Any) -> dict[str, Any]:
    """Accept `{lspAgent: {...}}` or the section itself; anything else is no settings."""
    if not isinstance(value, Mapping):
        return {}
    inner = value.get(SECTION, value)
    return dict(inner) if isinstance(inner, Mapping) else {}
