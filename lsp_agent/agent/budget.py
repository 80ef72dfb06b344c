"""Run limits: what has been spent, and which limit (if any) now stops the run."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from lsp_agent.config import LimitSettings, Price
from lsp_agent.model.wire import Usage


def cost_usd(usage: Usage, price: Price | None) -> float | None:
    if price is None:
        return None
    cached = min(usage.cached_tokens, usage.prompt_tokens)
    cached_price = price.input if price.cached_input is None else price.cached_input
    return (
        (usage.prompt_tokens - cached) * price.input
        + cached * cached_price
        + usage.completion_tokens * price.output
    ) / 1_000_000


@dataclass
class Budget:
    limits: LimitSettings
    price: Price | None = None
    usage: Usage = field(default_factory=Usage)
    turns: int = 0
    model_calls: int = 0
    tool_calls: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def cost(self) -> float | None:
        return cost_usd(self.usage, self.price)

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.started

    def add_usage(self, usage: Usage) -> None:
        self.usage = self.usage + usage

    def exhausted(self, streaming_tokens: int = 0) -> str | None:
        """The name of the first limit reached, e.g. "maxCostUsd"; None while within budget.

        `streaming_tokens`: output of a stream still running, estimated (its usage comes at
        its end, if ever), so a stream that never ends is held to the budget too."""
        lim, u = self.limits, self.usage
        if streaming_tokens:  # per streamed chunk: only the limits a chunk can reach
            reachable = (lim.max_output_tokens, lim.max_tokens, lim.max_cost_usd, lim.timeout_s)
            if all(limit is None for limit in reachable):
                return None
            u = u + Usage(completion_tokens=streaming_tokens)
        checks = [
            ("maxModelCalls", lim.max_model_calls, self.model_calls),
            ("maxToolCalls", lim.max_tool_calls, self.tool_calls),
            ("maxInputTokens", lim.max_input_tokens, u.prompt_tokens),
            ("maxOutputTokens", lim.max_output_tokens, u.completion_tokens),
            ("maxTokens", lim.max_tokens, u.total_tokens),
            ("maxCostUsd", lim.max_cost_usd, cost_usd(u, self.price)),
            ("timeoutS", lim.timeout_s, self.elapsed_s),
        ]
        for name, limit, spent in checks:
            if limit is not None and spent is not None and spent >= limit:
                return name
        return None

    def tool_calls_left(self) -> int | None:
        if self.limits.max_tool_calls is None:
            return None
        return max(0, self.limits.max_tool_calls - self.tool_calls)
