"""Language servers the daemon starts itself, and the tools that use them (issue 13).

`with_langservers` adds the tools to a run's set when a source of language intelligence
exists (the editor, or servers the daemon starts: `source.py`), else says why not.
pygls (its LanguageClient) loads only when the daemon starts a server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsp_agent.langserver.manager import LangServers
from lsp_agent.langserver.source import LanguageSource, LanguageSources

if TYPE_CHECKING:
    from lsp_agent.tools.base import ToolSet


def with_langservers(manager: LanguageSources | None, base: ToolSet) -> tuple[ToolSet, list[str]]:
    """The run's tools with the language-server ones, and a note when there are none."""
    if manager is None or not manager.has_sources():
        return base, []
    if not manager.available:
        if manager.noted:
            return base, []
        manager.noted = True
        return base, [manager.why_none()]
    from lsp_agent.langserver.tools import Lsp, with_tools

    if manager.lsp is None:
        manager.lsp = Lsp(manager)
    return with_tools(manager.lsp, base), manager.new_failures()


__all__ = ["LangServers", "LanguageSource", "LanguageSources", "with_langservers"]
