import pytest

from lsp_agent.agent.budget import Budget, cost_usd
from lsp_agent.config import LimitSettings, Price
from lsp_agent.model.wire import Usage


def test_cost_uses_cached_price_for_cached_tokens() -> None:
    usage = Usage(prompt_tokens=1_000_000, completion_tokens=500_000, cached_tokens=400_000)
    price = Price(input=2.0, output=8.0, cached_input=0.5)
    assert cost_usd(usage, price) == pytest.approx(0.6 * 2.0 + 0.4 * 0.5 + 0.5 * 8.0)
    assert cost_usd(usage, Price(input=2.0, output=8.0)) == pytest.approx(2.0 + 4.0)
    assert cost_usd(usage, None) is None


@pytest.mark.parametrize(
    ("limits", "spend", "expected"),
    [
        ({"max_tool_calls": 3}, {"tool_calls": 3}, "maxToolCalls"),
        ({"max_model_calls": 2}, {"model_calls": 2}, "maxModelCalls"),
        ({"max_input_tokens": 100}, {"usage": Usage(prompt_tokens=100)}, "maxInputTokens"),
        ({"max_output_tokens": 10}, {"usage": Usage(completion_tokens=11)}, "maxOutputTokens"),
        ({"max_tokens": 50}, {"usage": Usage(prompt_tokens=30, completion_tokens=20)}, "maxTokens"),
        ({"max_tool_calls": 3}, {"tool_calls": 2}, None),
    ],
)
def test_exhausted_names_the_limit(limits: dict, spend: dict, expected: str | None) -> None:
    budget = Budget(LimitSettings(**limits))
    for key, value in spend.items():
        setattr(budget, key, value)
    assert budget.exhausted() == expected


def test_cost_limit() -> None:
    budget = Budget(LimitSettings(max_cost_usd=0.01), Price(input=10.0, output=10.0))
    budget.add_usage(Usage(prompt_tokens=500, completion_tokens=400))
    assert budget.exhausted() is None
    budget.add_usage(Usage(prompt_tokens=100))
    assert budget.exhausted() == "maxCostUsd"
