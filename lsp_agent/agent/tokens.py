"""Offline token counting: tiktoken with encodings shipped in the package, else a calibrated
byte estimate. Counts are estimates of what the server will bill for the prompt."""

from __future__ import annotations

import asyncio
import json
import math
import os
import threading
from importlib import resources
from typing import TYPE_CHECKING, Any

from lsp_agent.model.wire import AssistantMessage, Message, ToolMessage

if TYPE_CHECKING:
    import tiktoken

BYTES_PER_TOKEN = 3.6  # code and English prose with modern BPE vocabularies
PER_MESSAGE = 4  # role and framing tokens, per OpenAI's accounting
PER_REPLY = 3
DEFAULT_WINDOW = 16_384  # conservative: most local servers run 4k-32k
KNOWN_WINDOWS = (  # name prefix -> window, for servers that report none (OpenAI)
    ("gpt-4.1", 1_047_576),
    ("gpt-5", 400_000),
    ("gpt-4o", 128_000),
    ("o1", 200_000),
    ("o3", 200_000),
    ("o4", 200_000),
    ("gpt-4-turbo", 128_000),
    ("gpt-3.5-turbo", 16_385),
)

_load_lock = threading.Lock()


def encoding_for(model: str) -> str | None:
    """The tiktoken encoding of an OpenAI model name (provider prefixes ignored), else None."""
    from tiktoken.model import encoding_name_for_model

    name = model.rsplit("/", 1)[-1]
    try:
        encoding = encoding_name_for_model(name)
    except KeyError:
        return None
    return encoding if encoding in ("o200k_base", "cl100k_base") else None


def load_encoding(name: str) -> tiktoken.Encoding:
    """tiktoken's own loader, pointed at the copies in the package (hash still checked)."""
    import tiktoken

    with _load_lock:  # TIKTOKEN_CACHE_DIR is process-global; restore it for child processes
        saved = os.environ.get("TIKTOKEN_CACHE_DIR")
        os.environ["TIKTOKEN_CACHE_DIR"] = str(resources.files("lsp_agent") / "data" / "tiktoken")
        try:
            return tiktoken.get_encoding(name)
        finally:
            if saved is None:
                del os.environ["TIKTOKEN_CACHE_DIR"]
            else:
                os.environ["TIKTOKEN_CACHE_DIR"] = saved


def known_window(model: str) -> int | None:
    name = model.rsplit("/", 1)[-1]
    return next((w for prefix, w in KNOWN_WINDOWS if name.startswith(prefix)), None)


class TokenCounter:
    """Counts prompt tokens. `load()` fetches the encoding off the event loop; until then,
    and for models with an unknown tokenizer, bytes are scaled by a factor that each
    server-reported usage calibrates."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.encoding_name = encoding_for(model)
        self._encoding: tiktoken.Encoding | None = None
        self.scale = 1.0
        self._cache: dict[int, tuple[Message, int]] = {}
        # The last list counted, held (so ids stay unique), with its running sums: a
        # conversation only grows between compactions, so each turn counts only what is new.
        self._counted: list[Message] = []
        self._ids: list[int] = []
        self._sums: list[int] = []
        self._tools_key: tuple[int, ...] | None = None
        self._tools_count = 0
        self.exact_tools = False

    @property
    def exact(self) -> bool:
        return self._encoding is not None

    async def load(self) -> None:
        if self.encoding_name and self._encoding is None:
            self._encoding = await asyncio.to_thread(load_encoding, self.encoding_name)

    def text(self, text: str) -> int:
        if self._encoding is not None:
            return len(self._encoding.encode(text, disallowed_special=()))
        return math.ceil(len(text.encode("utf-8", "replace")) / BYTES_PER_TOKEN)

    def message(self, message: Message) -> int:
        cached = self._cache.get(id(message))
        if cached is not None and cached[0] is message:
            return cached[1]
        count = PER_MESSAGE + self.text(message.content or "")
        if isinstance(message, AssistantMessage):
            for call in message.tool_calls or []:
                count += PER_MESSAGE + self.text(call.function.name + call.function.arguments)
        elif isinstance(message, ToolMessage):
            count += self.text(message.tool_call_id) // 2
        self._cache[id(message)] = (message, count)
        return count

    def tools(self, specs: list[dict[str, Any]]) -> int:
        """Tool definitions cost thousands of tokens; the same specs are counted once."""
        key = tuple(id(s) for s in specs)  # specs are built once per tool (Tool.spec)
        if self._tools_key != key or self.exact_tools != self.exact:
            self._tools_key, self.exact_tools = key, self.exact
            self._tools_count = self.text(json.dumps(specs, separators=(",", ":"))) if specs else 0
        return self._tools_count

    def prompt(self, messages: list[Message], specs: list[dict[str, Any]]) -> int:
        """The estimated prompt size of a request, calibrated against the server."""
        raw = self.messages(messages) + self.tools(specs) + PER_REPLY
        return math.ceil(raw * self.scale)

    def messages(self, messages: list[Message]) -> int:
        """The messages' raw count: the longest prefix already counted costs nothing. The
        prefix is compared by identity in C (list of ids), and what was counted is kept
        and extended in place, so a long session costs little more per turn."""
        ids = list(map(id, messages))
        known = min(len(ids), len(self._ids))
        if ids[:known] != self._ids[:known]:  # a compaction replaced some: recount from there
            known = next(i for i, (a, b) in enumerate(zip(ids, self._ids, strict=False)) if a != b)
        if known < len(self._ids):
            del self._counted[known:], self._ids[known:], self._sums[known:]
        total = self._sums[-1] if self._sums else 0
        for m in messages[known:]:
            total += self.message(m)
            self._counted.append(m)
            self._sums.append(total)
        self._ids = ids
        return total

    def calibrate(self, messages: list[Message], specs: list[dict[str, Any]], actual: int) -> None:
        """Learn from the server's prompt_tokens for the request just sent."""
        raw = self.messages(messages) + self.tools(specs) + PER_REPLY
        if raw > 0 and actual > 0:
            ratio = min(max(actual / raw, 0.5), 3.0)
            self.scale = ratio if self.scale == 1.0 else 0.5 * self.scale + 0.5 * ratio

    def forget(self, keep: list[Message]) -> None:
        """Drop cached counts of messages no longer in the conversation."""
        alive = {id(m) for m in keep}
        self._cache = {k: v for k, v in self._cache.items() if k in alive}
        self._counted, self._ids, self._sums = [], [], []
