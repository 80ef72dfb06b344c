import pytest
from pydantic import BaseModel, Field

from lsp_agent.tools.base import ToolContext, ToolError, ToolResult, ToolSet, tool


class GreetArgs(BaseModel):
    name: str = Field(description="Who to greet.")
    times: int = Field(1, ge=1, description="How often.")


@tool(kind="think")
async def greet(args: GreetArgs, ctx: ToolContext) -> ToolResult:
    """Greet someone.

    Use it politely."""
    return ToolResult(" ".join([f"hi {args.name}"] * args.times))


def test_declared_once_name_docstring_schema() -> None:
    spec = greet.spec["function"]
    assert spec["name"] == "greet"
    assert spec["description"] == "Greet someone.\n\nUse it politely."
    params = spec["parameters"]
    assert params["required"] == ["name"]
    assert params["properties"]["name"] == {"type": "string", "description": "Who to greet."}
    assert "title" not in params and "title" not in params["properties"]["times"]


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ('{"name": "bo"', "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"times": 2}', "'name': Field required"),
        ('{"name": "x", "times": 0}', "'times': Input should be greater than or equal to 1"),
        ("null", "must be a JSON object"),
    ],
)
def test_bad_arguments_become_tool_errors(raw: str, fragment: str) -> None:
    with pytest.raises(ToolError, match="greet") as e:
        greet.parse(raw)
    assert fragment in str(e.value)


def test_empty_arguments_mean_no_arguments() -> None:
    with pytest.raises(ToolError, match="'name': Field required"):
        greet.parse("  ")


def test_title_and_subject() -> None:
    args = greet.parse('{"name": "ann"}')
    assert greet.title(args) == "greet ann"
    assert greet.subject(args) is None


def test_toolset_lookup() -> None:
    tools = ToolSet([greet])
    assert tools.get("greet") is greet and tools.get("nope") is None
    assert [s["function"]["name"] for s in tools.specs()] == ["greet"]


def test_first_parameter_must_be_a_model() -> None:
    with pytest.raises(TypeError):

        @tool(kind="think")
        async def broken(args: int, ctx: ToolContext) -> ToolResult:
            return ToolResult("")
