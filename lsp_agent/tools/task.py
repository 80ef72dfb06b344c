"""The `task` tool: delegate a self-contained sub-task to a sub-agent."""

from __future__ import annotations

from pydantic import BaseModel, Field

from lsp_agent.tools.base import ToolContext, ToolError, ToolResult, tool


class TaskArgs(BaseModel):
    description: str = Field(
        min_length=1, max_length=200, description="A short (3-5 word) title of the task."
    )
    prompt: str = Field(
        min_length=1,
        max_length=100_000,
        description="The whole task: the sub-agent sees nothing else of this conversation.",
    )
    agent: str | None = Field(None, description="The agent type; default: general.")


def _title(args: TaskArgs) -> str:
    return f"Task: {args.description}" + (f" ({args.agent})" if args.agent else "")


@tool("think", title=_title, slotted=False)
async def task(args: TaskArgs, ctx: ToolContext) -> ToolResult:
    """Delegate a self-contained sub-task (a search, an investigation, a review) to a
    sub-agent. It runs with its own fresh context and its agent type's tools (read-only by
    default), then returns its final report as this tool's result. Give it everything it
    needs in `prompt`. Several task calls in one turn run at the same time."""
    if ctx.delegate is None:
        raise ToolError("Sub-agents are not available here: do the task yourself.")
    return ToolResult(await ctx.delegate.run(args.prompt, args.agent, ctx.tool_call_id))
