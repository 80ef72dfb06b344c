"""MCP tool names as function names: the allowed characters, at most 64, never two alike."""

import re

from lsp_agent.mcp.tools import tool_name

FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def test_a_short_name_is_spelled_as_is() -> None:
    assert tool_name("github", "create_issue") == "mcp__github__create_issue"
    assert tool_name("my server", "a.b/c") == "mcp__my_server__a_b_c"


def test_long_names_that_share_64_characters_stay_apart() -> None:
    stem = "x" * 70
    one, two = tool_name("docs", stem + "_one"), tool_name("docs", stem + "_two")
    assert one != two
    assert FUNCTION_NAME.fullmatch(one) and FUNCTION_NAME.fullmatch(two)
    assert one.startswith("mcp__docs__xxx")


def test_any_bytes_a_server_sends_make_a_valid_name() -> None:
    for tool in ["\ud800", "é" * 80, "a\nb", "", "../../etc"]:
        assert FUNCTION_NAME.fullmatch(tool_name("s", tool)), tool
