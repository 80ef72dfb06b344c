"""`schemas/`: JSON Schema for every custom method, update kind, the settings and the CLI's
JSONL events, generated from the pydantic models (never edited by hand)."""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter

from lsp_agent.agent.events import Event
from lsp_agent.config import Settings
from lsp_agent.server import protocol as p


def _schema(model: Any) -> dict[str, Any]:
    if isinstance(model, type) and issubclass(model, BaseModel):
        return model.model_json_schema(by_alias=True)
    return TypeAdapter(model).json_schema(by_alias=True)


def update_models() -> list[type[BaseModel]]:
    union = typing.get_args(p.SessionUpdate)[0]
    return list(typing.get_args(union))


def generate() -> dict[str, dict[str, Any]]:
    """File name -> schema."""
    files: dict[str, dict[str, Any]] = {}
    index: dict[str, Any] = {"protocolVersion": p.PROTOCOL_VERSION, "methods": {}, "updates": {}}
    for method, (params, result) in p.METHODS.items():
        stem = method.replace("/", ".")
        entry: dict[str, str | None] = {"params": None, "result": None}
        for role, model in (("params", params), ("result", result)):
            if model is not None:
                name = f"methods/{stem}.{role}.json"
                files[name] = _schema(model)
                entry[role] = name
        index["methods"][method] = entry
    for model in update_models():
        kind = model.model_fields["session_update"].default
        name = f"updates/{kind}.json"
        files[name] = _schema(model)
        index["updates"][kind] = name
    files.update(acp_schemas(index))
    files["settings.json"] = _schema(Settings)
    files["events.json"] = _schema(Event)
    files["index.json"] = index
    return files


# What `lsp-agent acp` sends: the ACP SDK's models (generated from the official schema).
ACP_RESULTS = {
    "initialize": "InitializeResponse",
    "authenticate": "AuthenticateResponse",
    "session/new": "NewSessionResponse",
    "session/load": "LoadSessionResponse",
    "session/resume": "ResumeSessionResponse",
    "session/list": "ListSessionsResponse",
    "session/close": "CloseSessionResponse",
    "session/delete": "DeleteSessionResponse",
    "session/set_mode": "SetSessionModeResponse",
    "session/set_config_option": "SetSessionConfigOptionResponse",
    "session/prompt": "PromptResponse",
}
ACP_REQUESTS = {
    "session/update": "SessionNotification",
    "session/request_permission": "RequestPermissionRequest",
    "fs/read_text_file": "ReadTextFileRequest",
    "fs/write_text_file": "WriteTextFileRequest",
}


def acp_schemas(index: dict[str, Any]) -> dict[str, dict[str, Any]]:
    from acp import PROTOCOL_VERSION
    from acp import schema as acp

    files: dict[str, dict[str, Any]] = {}
    entries: dict[str, dict[str, str]] = {}
    for role, table in (("result", ACP_RESULTS), ("params", ACP_REQUESTS)):
        for method, model in table.items():
            name = f"acp/{method.replace('/', '.')}.{role}.json"
            files[name] = _schema(getattr(acp, model))
            entries.setdefault(method, {})[role] = name
    index["acp"] = {"protocolVersion": PROTOCOL_VERSION, "methods": entries}
    return files


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(out: Path) -> list[Path]:
    """Write every schema, and remove the ones no longer generated."""
    files = generate()
    for name in _obsolete(out, files):
        (out / name).unlink()
    written = []
    for name, schema in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


def stale(out: Path) -> list[str]:
    """Files whose content differs from what the models generate, that are missing, or
    that are no longer generated (a removed method or update kind)."""
    files = generate()
    problems = []
    for name, schema in files.items():
        path = out / name
        if not path.is_file() or path.read_text(encoding="utf-8") != render(schema):
            problems.append(name)
    return problems + _obsolete(out, files)


def _obsolete(out: Path, files: dict[str, Any]) -> list[str]:
    if not out.is_dir():
        return []
    found = (p.relative_to(out).as_posix() for p in out.rglob("*.json"))
    return sorted(name for name in found if name not in files)
