"""`lsp-agent doctor` for the local provider: llama.cpp installed, the model file, the
template choice, and memory against what the model needs. Nothing is loaded."""

from __future__ import annotations

import os
from importlib import metadata
from pathlib import Path

from lsp_agent.config import Settings
from lsp_agent.local.gguf import GGUFInfo
from lsp_agent.local.provider import launch_spec, xllamacpp_installed
from lsp_agent.local.server import LocalModelError

Finding = tuple[str, str]  # (ok | note | problem, text)
GIB = 1 << 30


def available_memory(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    """Bytes the system can give a new process without swapping, if known."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def kv_cache_bytes(info: GGUFInfo, tokens: int) -> int:
    """The f16 key-value cache for `tokens` tokens in all slots, from the GGUF's shape."""
    arch = info.architecture

    def num(key: str, default: int = 0) -> int:
        value = info.get(f"{arch}.{key}")
        return value if isinstance(value, int) else default

    layers, heads = num("block_count"), max(1, num("attention.head_count", 1))
    kv_heads = num("attention.head_count_kv", heads)
    head_dim = num("embedding_length") // heads
    key_len = num("attention.key_length", head_dim)
    value_len = num("attention.value_length", head_dim)
    return 2 * layers * tokens * kv_heads * (key_len + value_len)


def local_findings(settings: Settings, memory: int | None = None) -> list[Finding]:
    found: list[Finding] = []
    if xllamacpp_installed():
        found.append(("ok", f"llama.cpp server: xllamacpp {metadata.version('xllamacpp')}"))
    else:
        found.append(("problem", "xllamacpp is not installed: pip install 'lsp-agent[local]'"))
    try:
        spec, model = launch_spec(settings)
    except LocalModelError as e:
        return [*found, ("problem", str(e))]
    info = model.info
    if model.notice:
        found.append(("note", model.notice))
    found.append(
        (
            "ok",
            f"model {model.path} ({info.name}, {info.architecture or '?'}, "
            f"{info.size / GIB:.2f} GiB, GGUF v{info.version})",
        )
    )
    template = spec.template
    if template.parses_tool_calls:
        found.append(
            (
                "ok",
                f"chat template {template.name} ({template.reason}): llama.cpp parses tool calls",
            )
        )
    else:
        found.append(("note", f"chat template {template.name}: {template.reason}"))
    slots = spec.context_size * spec.parallel
    need = info.size + kv_cache_bytes(info, slots)
    found.append(
        (
            "ok",
            f"context {spec.context_size} tokens per session, {spec.parallel} at once "
            f"(local.contextSize, local.parallel)",
        )
    )
    memory = available_memory() if memory is None else memory
    if memory is None:
        found.append(("note", f"the model needs about {need / GIB:.1f} GiB of memory"))
    elif need > memory:
        found.append(
            (
                "problem",
                f"the model needs about {need / GIB:.1f} GiB but {memory / GIB:.1f} GiB is "
                "available: pick a smaller model or quant, or lower local.contextSize or "
                "local.parallel",
            )
        )
    else:
        found.append(
            ("ok", f"memory: needs about {need / GIB:.1f} GiB, {memory / GIB:.1f} GiB available")
        )
    return found
