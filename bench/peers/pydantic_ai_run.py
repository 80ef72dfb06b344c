"""The same run with pydantic-ai (OpenAI chat model, streamed through `Agent.iter`).

python pydantic_ai_run.py BASE_URL WORKSPACE; runs in the peers' venv (bench/compare.py).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from pydantic_ai import Agent, UsageLimits  # type: ignore[import-not-found]
from pydantic_ai.models.openai import OpenAIChatModel  # type: ignore[import-not-found]
from pydantic_ai.providers.openai import OpenAIProvider  # type: ignore[import-not-found]


def main(base: str, workspace: str) -> None:
    model = OpenAIChatModel("fake-model", provider=OpenAIProvider(base_url=base, api_key="sk-b"))
    agent = Agent(model, instructions="You are a coding agent.")

    @agent.tool_plain
    def read_file(path: str) -> str:
        """Read a file of the workspace."""
        return (Path(workspace) / path).read_text()

    async def run() -> str:
        limits = UsageLimits(request_limit=None)
        async with agent.iter("Read the files, then explain.", usage_limits=limits) as run:
            async for node in run:
                if Agent.is_model_request_node(node):
                    async with node.stream(run.ctx) as stream:
                        async for _ in stream:
                            pass
        assert run.result is not None
        return str(run.result.output)

    sys.stdout.write(asyncio.run(run())[-40:] + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
