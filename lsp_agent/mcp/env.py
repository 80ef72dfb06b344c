"""`${VAR}` in an MCP server's env and headers: expanded at launch, and the values it
expands to, which are redacted wherever output goes. No MCP SDK import: the CLI needs the
secrets before it knows whether any server will start."""

from __future__ import annotations

import re
from collections.abc import Mapping

from lsp_agent.config import McpServer

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand(value: str, environ: Mapping[str, str]) -> str:
    """`${VAR}` -> its value now (at launch); an unset variable becomes empty."""
    return _VAR.sub(lambda m: environ.get(m.group(1), ""), value)


def secrets_of(server: McpServer, environ: Mapping[str, str]) -> tuple[str, ...]:
    """The values `${VAR}` references expand to: redacted wherever output goes."""
    names = {m for v in (*server.env.values(), *server.headers.values()) for m in _VAR.findall(v)}
    values = [environ.get(n, "") for n in sorted(names)]
    # Header values are credentials as a rule (Authorization: Bearer …), even when literal.
    values += [expand(v, environ) for v in server.headers.values()]
    return tuple(v for v in values if len(v) >= 4)
