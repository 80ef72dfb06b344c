"""Permission modes, allow/deny rules, the shell classifier, and the gate interface.

- `interface`: PermissionRequest, PermissionGate, Decision, Verdict (shared with front ends)
- `policy`: Permissions, the per-session decision maker
- `rules`: rule syntax and matching
- `shell_parser`, `shell_programs`, `shell_classifier`: read-only / normal / destructive
"""

from lsp_agent.permissions.interface import (
    Decision,
    Outcome,
    PermissionGate,
    PermissionRequest,
    Verdict,
)
from lsp_agent.permissions.policy import Permissions
from lsp_agent.permissions.rules import Rule, parse_rule
from lsp_agent.permissions.shell_classifier import Analysis, Part, Risk, analyze, classify

__all__ = [
    "Analysis",
    "Decision",
    "Outcome",
    "Part",
    "PermissionGate",
    "PermissionRequest",
    "Permissions",
    "Risk",
    "Rule",
    "Verdict",
    "analyze",
    "classify",
    "parse_rule",
]
