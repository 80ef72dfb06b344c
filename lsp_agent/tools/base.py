"""How a tool is declared: a pydantic args model plus an async function, declared once."""

from __future__ import annotations

import copy
import functools
import inspect
import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, get_type_hints

from pydantic import BaseModel, ValidationError

from lsp_agent.agent.events import Diff, Event, OutputStream, ToolKind, ToolOutputDelta
from lsp_agent.config import Settings
from lsp_agent.secrets import StreamRedactor
from lsp_agent.workspace import Workspace

if TYPE_CHECKING:
    from lsp_agent.permissions.policy import Permissions

A = TypeVar("A", bound=BaseModel)


class ToolError(Exception):
    """A failure the model should see and can fix; the message says how. `denied`: the
    user said no (the call is reported as denied, not failed)."""

    def __init__(self, message: str, *, denied: bool = False) -> None:
        super().__init__(message)
        self.denied = denied


@dataclass
class ToolResult:
    output: str
    diff: Diff | None = None
    edited: list[Path] = field(default_factory=list)
    diffs: list[Diff] = field(default_factory=list)  # one per file of a multi-file edit


class Delegate(Protocol):
    """Runs sub-agents for the `task` tool (the agent loop supplies it)."""

    async def run(self, prompt: str, agent: str | None, parent_tool_call_id: str) -> str: ...


@dataclass
class ToolContext:
    workspace: Workspace
    settings: Settings
    tool_call_id: str
    emit: Callable[[Event], None]
    approved: Diff | None = None  # the change permission was given for, if one was shown
    permissions: Permissions | None = None  # the mode and rules: the sandbox obeys them too
    user_approved: bool = False  # the user said yes at a prompt for this very call
    secrets: tuple[str, ...] = ()  # redacted from streamed output
    delegate: Delegate | None = None  # sub-agents, where the run allows them
    _streams: dict[OutputStream, StreamRedactor] = field(default_factory=dict)

    def output(self, text: str, stream: str = "stdout") -> None:
        """Stream a piece of output to the user while the tool runs (secrets redacted)."""
        name: OutputStream = "stderr" if stream == "stderr" else "stdout"
        if self.secrets:
            redactor = self._streams.setdefault(name, StreamRedactor(self.secrets))
            text = redactor.feed(text)
        if text:
            self.emit(ToolOutputDelta(tool_call_id=self.tool_call_id, stream=name, text=text))

    def flush_output(self) -> None:
        """What output redaction held back, at the end of the call."""
        for name, redactor in self._streams.items():
            if text := redactor.flush():
                self.emit(ToolOutputDelta(tool_call_id=self.tool_call_id, stream=name, text=text))


ToolFn = Callable[[A, ToolContext], Awaitable[ToolResult]]
PreviewFn = Callable[[A, ToolContext], Awaitable[Diff | None]]


@dataclass(frozen=True)
class Tool(Generic[A]):
    name: str
    kind: ToolKind
    description: str
    args_model: type[A]
    run: ToolFn[A]
    preview: PreviewFn[A] | None = None  # the diff shown when asking permission
    title_of: Callable[[A], str] | None = None
    # False: it does not take one of the read-only calls' slots (it has its own cap)
    slotted: bool = True

    @functools.cached_property
    def spec(self) -> dict[str, Any]:
        """The OpenAI `tools` entry (built once: pydantic's schema generation is slow)."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": parameters_schema(self.args_model),
            },
        }

    def parse(self, raw: str) -> A:
        """Arguments as the model sent them -> the args model; ToolError says what is wrong."""
        try:
            data = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError as e:
            raise ToolError(
                f"The arguments for {self.name} are not valid JSON ({e.msg} at position "
                f"{e.pos}). Send one JSON object matching the tool's schema."
            ) from None
        if not isinstance(data, dict):
            raise ToolError(f"The arguments for {self.name} must be a JSON object.")
        try:
            return self.args_model.model_validate(data)
        except ValidationError as e:
            problems = "; ".join(
                f"'{'.'.join(str(p) for p in err['loc']) or 'arguments'}': {err['msg']}"
                for err in e.errors()
            )
            raise ToolError(f"Invalid arguments for {self.name}: {problems}.") from None

    def title(self, args: A) -> str:
        if self.title_of is not None:
            return self.title_of(args)
        first = next(iter(args.model_dump().values()), None)
        return f"{self.name} {first}" if isinstance(first, str) else self.name

    def subject(self, args: A) -> str | None:
        """What permission rules match against: the command, else the path."""
        for key in ("command", "path"):
            value = getattr(args, key, None)
            if isinstance(value, str):
                return value
        return None


def tool(
    kind: ToolKind,
    *,
    preview: PreviewFn[Any] | None = None,
    title: Callable[[Any], str] | None = None,
    slotted: bool = True,
) -> Callable[[ToolFn[Any]], Tool[Any]]:
    """Declare a tool from `async def name(args: ArgsModel, ctx: ToolContext) -> ToolResult`.

    The function's name is the tool's name and its docstring the description.
    """

    def declare(fn: ToolFn[Any]) -> Tool[Any]:
        hints = get_type_hints(fn)
        first = next(iter(inspect.signature(fn).parameters))
        args_model = hints[first]
        if not (isinstance(args_model, type) and issubclass(args_model, BaseModel)):
            raise TypeError(f"{fn.__name__}: first parameter must be a pydantic model")
        return Tool(
            name=fn.__name__,
            kind=kind,
            description=inspect.cleandoc(fn.__doc__ or ""),
            args_model=args_model,
            run=fn,
            preview=preview,
            title_of=title,
            slotted=slotted,
        )

    return declare


class ToolSet:
    def __init__(self, tools: Iterable[Tool[Any]]) -> None:
        self._tools = {t.name: t for t in tools}

    def get(self, name: str) -> Tool[Any] | None:
        return self._tools.get(name)

    def names(self) -> list[str]:
        return list(self._tools)

    def specs(self) -> list[dict[str, Any]]:
        return [t.spec for t in self._tools.values()]

    def __iter__(self) -> Any:
        return iter(self._tools.values())


def parameters_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The args model's JSON Schema, made once per model (tools are rebuilt per session,
    and pydantic takes ~1.5 ms a model); each spec gets its own copy."""
    return copy.deepcopy(_schema_of(model))


@functools.cache
def _schema_of(model: type[BaseModel]) -> dict[str, Any]:
    return _clean_schema(model.model_json_schema())


def _clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop pydantic's auto titles: they cost tokens and tell the model nothing."""

    def clean(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: clean(v) for k, v in node.items() if not (k == "title" and isinstance(v, str))
            }
        if isinstance(node, list):
            return [clean(v) for v in node]
        return node

    out: dict[str, Any] = clean(schema)
    out.setdefault("properties", {})
    return out
