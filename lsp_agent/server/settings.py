"""The server's settings: files and environment, then initializationOptions, then the
client's `lspAgent` configuration. A bad value is reported once; the last valid settings
stay in force. A settings file that changes later cannot widen permissions (see
settings_guard): the file as it was when the folder was opened is the trusted baseline."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from lsp_agent.config import (
    ConfigError,
    Settings,
    env_settings,
    file_settings,
    load_settings,
    merge,
    validate,
)
from lsp_agent.settings_guard import hold_widening

SECTION = "lspAgent"


class SettingsManager:
    def __init__(self, root: Path, report: Callable[[str], None]) -> None:
        self.root = root
        self._report = report
        self._init: dict[str, Any] = {}
        self._client: dict[str, Any] = {}
        self._last_error: str | None = None
        self._trusted_file = self._file_layer()
        self._held: list[str] = []
        self.current = self._load_or_defaults()

    def set_root(self, root: Path) -> None:
        self.root = root  # the folder the user opened: its settings file is trusted as it is
        self._trusted_file = self._file_layer()
        self.reload()

    def set_initialization_options(self, options: Any) -> bool:
        layer = self._valid(section(options), "initializationOptions")
        if layer is None:
            return False
        self._init = layer
        return self.reload()

    def set_client_settings(self, settings: Any) -> bool:
        layer = self._valid(section(settings), f"the client's {SECTION} settings")
        if layer is None:
            return False
        self._client = layer
        return self.reload()

    def reload(self) -> bool:
        """Re-resolve everything (a config file changed too); False if invalid."""
        try:
            raw, path = file_settings(self.root)
            from_file = validate(raw, str(path)) if raw else Settings()
            trusted = self._trusted_file or Settings()
            guarded, held = hold_widening(trusted, from_file)
            layers = merge(guarded.model_dump(by_alias=True), env_settings(os.environ))
            self.current = validate(merge(layers, merge(self._init, self._client)))
        except ConfigError as e:
            self._problem(e)
            return False
        self._last_error = None
        if held and held != self._held:
            self._report(
                f"lsp-agent: {path} now widens what the agent may do ({'; '.join(held)}). "
                "A settings file may have been written by the agent, so this takes effect "
                "only when you restart the language server."
            )
        self._held = held
        return True

    def _file_layer(self) -> Settings | None:
        try:
            raw, path = file_settings(self.root)
            return validate(raw, str(path)) if raw else Settings()
        except ConfigError:
            return None

    def _valid(self, layer: dict[str, Any], source: str) -> dict[str, Any] | None:
        """The layer if it is valid on its own; an invalid one is dropped (and reported),
        so the previous one stays, and the other sources can still change."""
        try:
            validate(layer, source)
        except ConfigError as e:
            self._problem(e)
            return None
        return layer

    def _problem(self, error: ConfigError) -> None:
        message = f"lsp-agent: invalid settings, keeping the previous ones: {error}"
        if message != self._last_error:  # once per distinct problem
            self._last_error = message
            self._report(message)

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
