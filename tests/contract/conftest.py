"""The ACP traffic test starts `lsp-agent acp` as tests/acp does."""

from tests.acp.conftest import model, state, workspace

__all__ = ["model", "state", "workspace"]
