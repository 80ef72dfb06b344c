"""The engine's tools. `default_tools()` is the set a run gets.

The tool modules are imported on first use, so a helper process that needs one small
module (the regex search child, `grep_child`) starts without pydantic and the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lsp_agent.tools.base import ToolSet


def default_tools() -> ToolSet:
    from lsp_agent.tools.base import ToolSet
    from lsp_agent.tools.files import edit_file, list_dir, read_file, write_file
    from lsp_agent.tools.plan import update_plan
    from lsp_agent.tools.search import glob, grep
    from lsp_agent.tools.shell import bash
    from lsp_agent.tools.task import task

    return ToolSet(
        [read_file, list_dir, glob, grep, edit_file, write_file, bash, update_plan, task]
    )


__all__ = ["default_tools"]
