"""What an ACP client may choose in a session: the permission mode (as a mode and as a
config option, as the spec now prefers), the model (from the server's `/models`), and the
slash commands it can offer."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

from acp.schema import (
    AvailableCommand,
    AvailableCommandInput,
    SessionConfigOptionSelect,
    SessionConfigSelectOption,
    SessionMode,
    SessionModeState,
    UnstructuredCommandInput,
)

from lsp_agent.agent.commands import BUILTINS, load_commands
from lsp_agent.config import MODES, PermissionMode, Settings

MODE_OPTION = "mode"
MODEL_OPTION = "model"
assert set(MODES) == set(get_args(PermissionMode))

COMMANDS = {name: BUILTINS[name] for name in ("compact", "clear", "undo", "sessions")}


def commands(root: Path | None = None) -> list[AvailableCommand]:
    """The built-ins, then the workspace's and the user's custom commands."""
    hint = AvailableCommandInput(UnstructuredCommandInput(hint="number of turns"))
    found = [
        AvailableCommand(name=name, description=text, input=hint if name == "undo" else None)
        for name, text in COMMANDS.items()
    ]
    custom = load_commands(root).found.values() if root is not None else []
    for c in custom:
        given = AvailableCommandInput(UnstructuredCommandInput(hint=c.hint)) if c.hint else None
        found.append(AvailableCommand(name=c.name, description=c.description, input=given))
    return found


def modes(current: PermissionMode) -> SessionModeState:
    return SessionModeState(
        current_mode_id=current,
        available_modes=[
            SessionMode(id=mode, name=name, description=text)
            for mode, (name, text) in MODES.items()
        ],
    )


def config_options(settings: Settings, models: list[str]) -> list[Any]:
    mode = SessionConfigOptionSelect(
        id=MODE_OPTION,
        name="Permission mode",
        category="mode",
        type="select",
        current_value=settings.permissions.mode,
        options=[
            SessionConfigSelectOption(value=m, name=name, description=text)
            for m, (name, text) in MODES.items()
        ],
    )
    current = settings.model.name
    names = models if current in models else [current, *models]
    model = SessionConfigOptionSelect(
        id=MODEL_OPTION,
        name="Model",
        category="model",
        type="select",
        current_value=current,
        options=[SessionConfigSelectOption(value=n, name=n) for n in names],
    )
    return [mode, model]


def parse_mode(value: str) -> PermissionMode | None:
    return next((m for m in MODES if m == value), None)
