"""The update_plan tool: the model's visible to-do list."""

from __future__ import annotations

from pydantic import BaseModel, Field

from lsp_agent.agent.events import PlanEntry, PlanStatus, PlanUpdated
from lsp_agent.tools.base import ToolContext, ToolResult, tool


class PlanItem(BaseModel):
    content: str = Field(min_length=1, description="One concrete step, in a short sentence.")
    status: PlanStatus = Field("pending", description="pending, in_progress or completed.")


class UpdatePlanArgs(BaseModel):
    entries: list[PlanItem] = Field(
        description="The whole plan, in order; it replaces the previous one."
    )


@tool(kind="think", title=lambda a: "Update plan")
async def update_plan(args: UpdatePlanArgs, ctx: ToolContext) -> ToolResult:
    """Show the user your plan for a multi-step task, and keep it current.

    Send the complete list every time (it replaces the previous one). Keep exactly one
    step in_progress while working, and mark steps completed as soon as they are done.
    Skip this tool for simple one-step requests.
    """
    entries = [PlanEntry(content=e.content, status=e.status) for e in args.entries]
    ctx.emit(PlanUpdated(entries=entries))
    done = sum(e.status == "completed" for e in entries)
    current = [e.content for e in entries if e.status == "in_progress"]
    message = f"Plan updated: {done}/{len(entries)} completed."
    if current:
        message += " In progress: " + "; ".join(current) + "."
    return ToolResult(message)
