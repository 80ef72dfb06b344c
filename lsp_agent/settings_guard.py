"""A settings file that changes while the daemon runs may have been written by the agent, so
no change there widens what the agent may do: that needs the user (a restart the user
starts). Narrowing changes (a new deny rule, a stricter mode) apply at once."""

from __future__ import annotations

from lsp_agent.config import Settings

_MODE_RANK = {"read-only": 0, "ask": 1, "accept-edits": 2, "auto": 3}


def hold_widening(trusted: Settings, new: Settings) -> tuple[Settings, list[str]]:
    """`new` with every change that widens permissions (or could send the key elsewhere)
    replaced by the trusted value; and what was held back, for the message."""
    held: list[str] = []
    perms = new.permissions
    old_perms = trusted.permissions
    mode = perms.mode
    if _MODE_RANK[mode] > _MODE_RANK[old_perms.mode]:
        held.append(f"permissions.mode = {mode!r}")
        mode = old_perms.mode
    allow = [r for r in perms.allow if r in old_perms.allow]
    held += [f"permissions.allow {r!r}" for r in perms.allow if r not in old_perms.allow]
    removed = [r for r in old_perms.deny if r not in perms.deny]
    held += [f"removing permissions.deny {r!r}" for r in removed]
    deny = [*perms.deny, *removed]
    shell = new.shell
    shell_update: dict[str, object] = {}
    if shell.sandbox != trusted.shell.sandbox:
        held.append(f"shell.sandbox = {shell.sandbox!r}")
        shell_update["sandbox"] = trusted.shell.sandbox
    if _network_on(shell.network, mode) and not _network_on(trusted.shell.network, mode):
        held.append("shell.network = true")
        shell_update["network"] = trusted.shell.network
    extra = [p for p in shell.writable_paths if p not in trusted.shell.writable_paths]
    if extra:
        held += [f"shell.writablePaths {p!r}" for p in extra]
        shell_update["writable_paths"] = [p for p in shell.writable_paths if p not in extra]
    for field in ("max_processes", "max_file_mb"):
        if getattr(shell, field) > getattr(trusted.shell, field):
            held.append(f"shell.{field}")
            shell_update[field] = getattr(trusted.shell, field)
    model_update: dict[str, object] = {}
    for field in ("base_url", "api_key_env", "headers"):  # where the key goes, and which key
        if getattr(new.model, field) != getattr(trusted.model, field):
            held.append(f"model.{field}")
            model_update[field] = getattr(trusted.model, field)
    hooks = new.hooks
    if hooks != trusted.hooks:  # a hook is a command run unasked: any change waits
        held.append("hooks")
        hooks = trusted.hooks
    mcp = new.mcp
    if mcp != trusted.mcp:  # an MCP server is a command run unasked, like a hook: it waits
        held.append("mcp")
        mcp = trusted.mcp
    langserver = new.langserver
    if langserver.servers != trusted.langserver.servers:  # a command run unasked, like MCP
        held.append("langserver.servers")
        langserver = langserver.model_copy(update={"servers": trusted.langserver.servers})
    if not held:
        return new, []
    guarded = new.model_copy(
        update={
            "permissions": perms.model_copy(update={"mode": mode, "allow": allow, "deny": deny}),
            "shell": shell.model_copy(update=shell_update),
            "model": new.model.model_copy(update=model_update),
            "hooks": hooks,
            "mcp": mcp,
            "langserver": langserver,
        }
    )
    return guarded, held


def _network_on(setting: bool | None, mode: str) -> bool:
    return setting if setting is not None else mode != "read-only"
