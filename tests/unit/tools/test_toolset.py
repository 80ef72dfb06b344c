from __future__ import annotations

import dataclasses
from typing import Any

from lsp_agent.agent.events import Event, PlanEntry, PlanUpdated
from lsp_agent.tools import default_tools
from lsp_agent.tools.base import ToolContext
from lsp_agent.tools.plan import update_plan
from tests.unit.tools.helpers import run


def test_default_tools_names_and_kinds() -> None:
    tools = default_tools()
    assert {t.name: t.kind for t in tools} == {
        "read_file": "read",
        "list_dir": "read",
        "glob": "search",
        "grep": "search",
        "edit_file": "edit",
        "write_file": "edit",
        "bash": "execute",
        "update_plan": "think",
        "task": "think",
    }
    assert {t.name for t in tools if t.preview is not None} == {"edit_file", "write_file"}


def _properties(schema: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(schema.get("properties", {}).values())
    for sub in schema.get("$defs", {}).values():
        found += _properties(sub)
    return found


def test_every_tool_and_argument_is_described() -> None:
    for spec in default_tools().specs():
        function = spec["function"]
        assert len(function["description"]) > 40, function["name"]
        for prop in _properties(function["parameters"]):
            assert prop.get("description"), (function["name"], prop)


async def test_update_plan_emits_the_plan(ctx: ToolContext, events: list[Event]) -> None:
    result = await run(
        update_plan,
        ctx,
        entries=[
            {"content": "Read the code", "status": "completed"},
            {"content": "Fix the bug", "status": "in_progress"},
            {"content": "Run the tests"},
        ],
    )
    assert result.output == "Plan updated: 1/3 completed. In progress: Fix the bug."
    assert events == [
        PlanUpdated(
            entries=[
                PlanEntry(content="Read the code", status="completed"),
                PlanEntry(content="Fix the bug", status="in_progress"),
                PlanEntry(content="Run the tests", status="pending"),
            ]
        )
    ]
    assert update_plan.title(update_plan.parse('{"entries": []}')) == "Update plan"


def test_a_rebuilt_tool_gets_its_own_copy_of_the_cached_schema() -> None:
    """Schemas are made once per args model; wrappers rebuild tools (dataclasses.replace),
    and a spec changed through one tool must not change another's."""
    read = default_tools().get("read_file")
    assert read is not None
    copies = [dataclasses.replace(read, description=f"copy {n}") for n in range(2)]
    a, b = (c.spec["function"]["parameters"] for c in copies)
    assert a == b == read.spec["function"]["parameters"] and a is not b
    a["properties"]["path"]["description"] = "changed"
    assert b["properties"]["path"]["description"] != "changed"
    assert read.spec["function"]["parameters"] == b
