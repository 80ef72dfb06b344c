"""The local provider: settings -> a running llama.cpp server -> the settings the normal
model client uses against it. One server per process, shared by every session; a change of
model or server settings restarts it, and a crashed one starts again on the next request.
"""

from __future__ import annotations

import asyncio
import atexit
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lsp_agent.config import ModelSettings, Settings
from lsp_agent.local import cache
from lsp_agent.local.gguf import GGUFError, GGUFInfo, read_gguf
from lsp_agent.local.server import LaunchSpec, LocalConfigError, LocalServer, Progress
from lsp_agent.local.templates import TemplateError, choose_template

MAX_TURN_TOKENS = 4096
NO_PATH = (
    "model.provider is 'local' but no model is set: pass --model local:PATH.gguf, set "
    "model.path, or pull one with `lsp-agent models pull REPO:FILE`"
)


@dataclass(frozen=True)
class ResolvedModel:
    path: Path
    info: GGUFInfo
    notice: str | None  # said once to the user, e.g. which cached model was picked


def resolve_model(setting: str | None, hub: Path | None = None) -> ResolvedModel:
    """The GGUF that model.path names (a file, or a cached REPO:FILE / FILE); with none set,
    the only cached model. Raises LocalModelError naming the fix."""
    notice = None
    if not setting:
        models = cache.list_models(hub)
        if len(models) != 1:
            found = f" ({len(models)} are cached: name one)" if models else ""
            raise LocalConfigError(NO_PATH + found)
        path, notice = models[0].path, f"using the only cached model, {models[0].ref}"
    else:
        path = Path(setting).expanduser()
        if not path.is_file():
            try:
                path = cache.find_model(setting, hub).path
            except cache.NotCached as e:
                raise LocalConfigError(f"model.path {setting!r} is not a file, and {e}") from None
    try:
        info = read_gguf(path)
    except (GGUFError, OSError) as e:
        raise LocalConfigError(f"cannot use {path} as a model: {e}") from None
    return ResolvedModel(path.absolute(), info, notice)  # a cache entry keeps its name


def launch_spec(settings: Settings, hub: Path | None = None) -> tuple[LaunchSpec, ResolvedModel]:
    model = resolve_model(settings.model.path, hub)
    try:
        template = choose_template(model.info, settings.local.chat_template)
    except TemplateError as e:
        raise LocalConfigError(str(e)) from None
    local = settings.local
    context = local.context_size
    if model.info.context_length:  # more than the model was trained for only costs memory
        context = min(context, model.info.context_length)
    spec = LaunchSpec(
        model=model.path,
        size=model.info.size,
        template=template,
        context_size=context,
        parallel=local.parallel,
        threads=local.threads,
        gpu_layers=local.gpu_layers,
    )
    return spec, model


def model_name(path: Path) -> str:
    return path.stem


class LocalProvider:
    """Owns the process's one llama.cpp server."""

    def __init__(
        self,
        log_dir: Path,
        *,
        on_crash: Callable[[str], None] | None = None,
        hub: Path | None = None,
    ) -> None:
        self.log_dir = log_dir
        self.server: LocalServer | None = None
        self.notices: list[str] = []
        self._on_crash = on_crash
        self._hub = hub
        self._lock = asyncio.Lock()
        self._memo: dict[tuple[str | None, str], tuple[LaunchSpec, ResolvedModel, float]] = {}
        atexit.register(self.kill_now)

    async def model_settings(
        self, settings: Settings, progress: Progress | None = None
    ) -> ModelSettings:
        """Settings for the normal client, pointing at the running server (started, or
        restarted, as needed)."""
        spec, resolved = await self._spec(settings)
        async with self._lock:
            server = self.server
            if server is None or not server.alive or server.spec.key() != spec.key():
                if server is not None:
                    await server.stop()
                if resolved.notice:
                    self.notices.append(resolved.notice)
                server = await self._start(spec, settings, progress, crashed=server)
        assert server.url is not None
        # A small model that never writes its end-of-turn token would otherwise generate
        # until the context is full: cap a turn (a capped turn continues, bounded).
        cap = settings.model.max_output_tokens or min(MAX_TURN_TOKENS, spec.context_size // 2)
        return settings.model.model_copy(
            update={
                "base_url": server.url + "/v1",
                "name": model_name(spec.model),
                "max_output_tokens": cap,
            }
        )

    async def _spec(self, settings: Settings) -> tuple[LaunchSpec, ResolvedModel]:
        """The launch spec, remembered while the settings and the file stay the same (a
        vocabulary of 250k tokens takes a while to skip)."""
        key = (settings.model.path, settings.local.model_dump_json())
        memo = self._memo.get(key)
        if memo is not None and _mtime(memo[0].model) == memo[2]:
            return memo[0], memo[1]
        spec, resolved = await asyncio.to_thread(launch_spec, settings, self._hub)
        self._memo = {key: (spec, resolved, _mtime(spec.model))}
        return spec, resolved

    async def _start(
        self,
        spec: LaunchSpec,
        settings: Settings,
        progress: Progress | None,
        crashed: LocalServer | None,
    ) -> LocalServer:
        log_path = self.log_dir / f"llama-server-{os.getpid()}.log"
        server = LocalServer(spec, log_path, on_exit=self._exited)
        mib = spec.size / (1 << 20)
        again = " again after a crash" if crashed is not None and crashed.crashed else ""
        if progress:
            progress.begin(
                "Loading model",
                f"{spec.model.name} ({mib:.0f} MiB), template {spec.template.name}" + again,
            )
        try:
            await server.start(settings.local.load_timeout_s, progress)
        except BaseException as e:
            if progress:
                progress.end(f"failed: {str(e).splitlines()[0]}" if str(e) else "cancelled")
            raise
        self.server = server
        if progress:
            progress.end(f"{spec.model.name} ready in {server.load_s:.1f} s")
        return server

    def _exited(self, server: LocalServer) -> None:
        if server is self.server and self._on_crash is not None:
            self._on_crash(server.crash_report())

    async def aclose(self) -> None:
        async with self._lock:
            if self.server is not None:
                await self.server.stop()
                self.server = None

    def kill_now(self) -> None:
        if self.server is not None:
            self.server.kill_now()


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return -1.0


def xllamacpp_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("xllamacpp") is not None


def check_installed() -> None:
    if not xllamacpp_installed():
        raise LocalConfigError(
            "the local provider needs llama.cpp's server: pip install 'lsp-agent[local]'"
        )
