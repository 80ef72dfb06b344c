from pathlib import Path

import pytest

from lsp_agent.config import ConfigError, load_settings


def test_defaults(tmp_path: Path) -> None:
    s = load_settings(tmp_path, environ={})
    assert s.permissions.mode == "ask"
    assert s.model.api_key_env == "OPENAI_API_KEY"
    assert s.model.connect_timeout_s == 10 and s.model.read_timeout_s == 120


def test_precedence_file_env_flags(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.lsp-agent.model]\n"
        'name = "from-file"\nbaseUrl = "http://file/v1"\ntemperature = 0.5\n'
    )
    env = {"OPENAI_MODEL": "from-env"}
    s = load_settings(tmp_path, environ=env)
    assert (s.model.name, s.model.base_url, s.model.temperature) == (
        "from-env",
        "http://file/v1",
        0.5,
    )
    s = load_settings(tmp_path, {"model": {"name": "from-flag"}}, environ=env)
    assert s.model.name == "from-flag" and s.model.temperature == 0.5


def test_dot_file_wins_over_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.lsp-agent.model]\nname = "py"\n')
    (tmp_path / ".lsp-agent.toml").write_text('[model]\nname = "dot"\n')
    assert load_settings(tmp_path, environ={}).model.name == "dot"


def test_snake_case_keys_accepted(tmp_path: Path) -> None:
    (tmp_path / ".lsp-agent.toml").write_text("[limits]\nmax_turns = 7\n")
    assert load_settings(tmp_path, environ={}).limits.max_turns == 7


def test_invalid_value_names_key_value_and_file(tmp_path: Path) -> None:
    (tmp_path / ".lsp-agent.toml").write_text('[model]\ntemperature = "hot"\n')
    with pytest.raises(ConfigError) as e:
        load_settings(tmp_path, environ={})
    msg = str(e.value)
    assert "model.temperature" in msg and "'hot'" in msg and ".lsp-agent.toml" in msg


def test_unknown_key_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown setting 'permissions\.mood'"):
        load_settings(tmp_path, {"permissions": {"mood": "ask"}}, environ={})


def test_bad_toml_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / ".lsp-agent.toml").write_text("[model\n")
    with pytest.raises(ConfigError, match="TOML"):
        load_settings(tmp_path, environ={})


def test_api_key_from_named_variable(tmp_path: Path) -> None:
    s = load_settings(tmp_path, {"model": {"apiKeyEnv": "MY_KEY"}}, environ={})
    assert s.api_key({"MY_KEY": "k1", "OPENAI_API_KEY": "other"}) == "k1"
    assert s.api_key({}) is None


@pytest.fixture
def user_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "user" / "config.toml"
    path.parent.mkdir()
    monkeypatch.setenv("LSP_AGENT_CONFIG", str(path))
    return path


def test_the_user_file_is_under_the_workspace_file(tmp_path: Path, user_file: Path) -> None:
    user_file.write_text(
        '[model]\nname = "user-model"\nbaseUrl = "http://user/v1"\n'
        '[mcp.servers.github]\ncommand = "gh-mcp"\n'
        '[permissions]\ndeny = ["bash(git push*)"]\n'
    )
    workspace = tmp_path / "ws"
    workspace.mkdir()
    assert load_settings(workspace, environ={}).model.name == "user-model"  # no workspace file

    (workspace / ".lsp-agent.toml").write_text(
        '[model]\nname = "ws-model"\n[mcp.servers.local]\ncommand = "local-mcp"\n'
        '[permissions]\ndeny = ["edit(.env)"]\n'
    )
    s = load_settings(workspace, environ={})
    assert (s.model.name, s.model.base_url) == ("ws-model", "http://user/v1")
    assert set(s.mcp.servers) == {"github", "local"}  # servers from both files
    # A workspace file adds deny rules; it never lifts the user's.
    assert s.permissions.deny == ["bash(git push*)", "edit(.env)"]


def test_a_bad_user_file_is_named_in_the_error(tmp_path: Path, user_file: Path) -> None:
    user_file.write_text("[limits]\nmaxTurns = -3\n")
    with pytest.raises(ConfigError, match=r"config\.toml") as e:
        load_settings(tmp_path, environ={})
    assert "limits.maxTurns" in str(e.value)
    user_file.write_text("[model\n")
    with pytest.raises(ConfigError, match=r"cannot read .*config\.toml"):
        load_settings(tmp_path, environ={})
