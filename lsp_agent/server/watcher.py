"""Watching the workspace with watchfiles (inotify: no CPU while idle) to reload settings
when a config file changes. Instruction files are read afresh for every prompt."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from watchfiles import DefaultFilter, awatch

log = logging.getLogger(__name__)
CONFIG_FILES = frozenset({".lsp-agent.toml", "pyproject.toml"})


class WorkspaceFilter(DefaultFilter):
    """watchfiles' defaults (.git, node_modules, __pycache__, virtualenvs …) plus the
    common build and tool folders."""

    ignore_dirs = (
        *DefaultFilter.ignore_dirs,
        "venv",
        "env",
        "dist",
        "build",
        "target",
        ".tox",
        ".nox",
        ".ruff_cache",
    )


async def watch_workspace(root: Path, reload_settings: Callable[[], Any]) -> None:
    try:
        async for changes in awatch(root, watch_filter=WorkspaceFilter(), recursive=True):
            if any(_is_config(root, path) for _, path in changes):
                log.info("configuration changed: reloading settings")
                reload_settings()
    except (OSError, RuntimeError) as e:  # e.g. out of inotify watches: run without it
        log.warning("not watching %s for changes: %s", root, e)


def _is_config(root: Path, path: str) -> bool:
    changed = Path(path)
    return changed.name in CONFIG_FILES and changed.parent == root
