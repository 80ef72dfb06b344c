"""The same run with the OpenAI Agents SDK (chat-completions model, streamed).

python openai_agents_run.py BASE_URL WORKSPACE; runs in the peers' venv (bench/compare.py).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from agents import (  # type: ignore[import-not-found]
    Agent,
    OpenAIChatCompletionsModel,
    RunConfig,
    Runner,
    function_tool,
    set_tracing_disabled,
)
from openai import AsyncOpenAI  # type: ignore[import-not-found]


def main(base: str, workspace: str) -> None:
    set_tracing_disabled(True)

    @function_tool
    def read_file(path: str) -> str:
        """Read a file of the workspace."""
        return (Path(workspace) / path).read_text()

    client = AsyncOpenAI(base_url=base, api_key="sk-bench")
    agent = Agent(
        name="coder",
        instructions="You are a coding agent.",
        tools=[read_file],
        model=OpenAIChatCompletionsModel(model="fake-model", openai_client=client),
    )

    async def run() -> str:
        result = Runner.run_streamed(
            agent, "Read the files, then explain.", max_turns=1000, run_config=RunConfig()
        )
        async for _ in result.stream_events():
            pass
        return str(result.final_output)

    sys.stdout.write(asyncio.run(run())[-40:] + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
