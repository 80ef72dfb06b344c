"""The language server: a pygls server holding the daemon's state, built by a factory."""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import logging
import sys
import threading
from collections.abc import Generator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import cattrs
from lsprotocol.types import (
    INITIALIZE,
    METHOD_TO_TYPES,
    InitializeParams,
    InitializeResult,
    ResponseError,
)
from pydantic import BaseModel, ValidationError
from pygls.exceptions import JsonRpcException, JsonRpcInternalError, JsonRpcInvalidParams
from pygls.io_ import run_async
from pygls.lsp.server import LanguageServer
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCProtocol,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
    LanguageServerProtocol,
    lsp_method,
)

from lsp_agent import __version__
from lsp_agent.config import Settings
from lsp_agent.safe_text import utf8
from lsp_agent.server import pipes
from lsp_agent.server import protocol as p
from lsp_agent.server.settings import SettingsManager

if TYPE_CHECKING:  # the engine loads on first use: startup stays close to pygls's own
    from lsp_agent.agent.service import SessionService
    from lsp_agent.local.provider import LocalProvider

log = logging.getLogger(__name__)


@functools.cache
def plain_converter() -> cattrs.Converter:
    """lsprotocol's converter, but custom params and results stay plain dicts (pygls would
    turn them into namedtuples, renaming keys that are not identifiers). One for the
    process: making one costs ~15 ms, and its generated hooks are cached in it."""
    from lsprotocol import converters

    converter = converters.get_converter()
    for cls in (JsonRPCRequestMessage, JsonRPCNotification, JsonRPCResponseMessage):
        converter.register_structure_hook(cls, lambda obj, c: c(**obj))
    return converter


_ANSWERED = object()  # a message already dealt with while it was being read
INVALID_REQUEST = -32600


def _describe_structure_error(error: BaseException | None) -> str:
    if isinstance(error, cattrs.BaseValidationError):
        return "; ".join(
            m.replace("$.params.", "").replace("$.result.", "")
            for m in cattrs.transform_error(error)
        )
    return str(error) if error is not None else "unreadable message"


class AgentProtocol(LanguageServerProtocol):
    """Adds `capabilities.experimental.lspAgent` to pygls's initialize result, and forgets
    handlers once they are done."""

    def _execute_handler(
        self,
        msg_id: Any,
        handler: Any,
        callback: Any,
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        # pygls keeps the future of every notification handler (and of every step of a
        # builtin one) in `_request_futures` for good: one per didChange, so a daemon
        # that lives for days would grow with every keystroke.
        def done(future: Any) -> None:
            try:
                callback(future)
            finally:
                if self._request_futures.get(msg_id) is future:
                    del self._request_futures[msg_id]

        super()._execute_handler(msg_id, handler, done, args, kwargs)

    def structure_message(self, data: dict[str, Any]) -> Any:
        # pygls passes this as json.loads' object_hook, so it runs on every nested object
        # too: params holding a "jsonrpc" key would be taken for a message and the request
        # dropped. Only the whole message is structured, in handle_message.
        return data

    def _structure(self, data: dict[str, Any]) -> Any:
        """pygls cannot answer a message it fails to structure: a request with bad params
        would never get a response, and the answer to one of our requests would leave it
        waiting forever. Answer the one with InvalidParams, fail the other."""
        request = "jsonrpc" in data and "id" in data and "method" in data
        if request and not isinstance(data["method"], str):
            return self._refuse(data["id"], 'invalid request: "method" must be a string')
        try:
            return super().structure_message(data)
        except (JsonRpcInvalidParams, JsonRpcInternalError) as e:
            problem = _describe_structure_error(e.__cause__)
            if "method" in data and "id" in data:
                error = JsonRpcInvalidParams(message=f"invalid params: {problem}")
                self._send_response(data["id"], error=error.to_response_error())
                return _ANSWERED
            if "id" in data and (future := self._request_futures.pop(data["id"], None)):
                future.set_exception(JsonRpcInternalError(message=f"unusable answer: {problem}"))
                return _ANSWERED
            raise

    def handle_message(self, message: Any) -> None:
        if isinstance(message, dict):
            message = self._structure(message)
        if message is _ANSWERED:
            return
        get = message.get if isinstance(message, dict) else partial(getattr, message)
        if get("jsonrpc", None) != JsonRPCProtocol.VERSION:  # pygls would drop it, or crash
            if get("id", None) is not None and get("method", None) is not None:
                self._refuse(get("id", None), 'invalid request: "jsonrpc" must be "2.0"')
            else:
                log.warning("ignoring a message that is not JSON-RPC 2.0")
            return
        super().handle_message(message)

    def _refuse(self, msg_id: Any, message: str) -> object:
        self._send_response(msg_id, error=ResponseError(code=INVALID_REQUEST, message=message))
        return _ANSWERED

    @lsp_method(INITIALIZE)
    def lsp_initialize(self, params: InitializeParams) -> Generator[Any, Any, InitializeResult]:
        result: InitializeResult = yield from super().lsp_initialize(params)
        result.capabilities.experimental = {"lspAgent": p.ServerAgentCapabilities().dump()}
        return result


class AgentServer(LanguageServer):
    def __init__(self, state_dir: Path | None = None) -> None:
        # Two workers at least: a thread handler awaiting a client reply must not deadlock.
        super().__init__(
            "lsp-agent",
            __version__,
            protocol_cls=AgentProtocol,
            converter_factory=plain_converter,
            max_workers=4,
        )
        self.state_dir = state_dir
        self.settings = SettingsManager(Path.cwd(), self.show_error)
        self.agent_caps = p.ClientAgentCapabilities()
        # The session service (the engine) is loaded off the loop after initialize.
        self.service_opening: asyncio.Task[SessionService] | None = None
        # Set by `initialized` (or the first request that needs the engine): loading it
        # waits, so the initialize answer does not share the CPU with the engine's imports.
        self.engine_wanted = asyncio.Event()
        self.background: set[asyncio.Task[Any]] = set()
        self.config_pulls = 0  # only the newest workspace/configuration answer applies
        self._json = plain_converter()
        self.local: LocalProvider | None = None  # the local provider's llama.cpp server
        self._shown: set[str] = set()

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """Serve the client over stdio: over asyncio pipes when they are pipes (pipes.py)."""
        if stdin is None or stdout is None or not pipes.usable(stdin, stdout):
            super().start_io(stdin, stdout)
            return
        stop = self._stop_event = threading.Event()
        code: int | str | None = 0
        try:
            asyncio.run(self._serve_pipes(stdin, stdout, stop))
        except BrokenPipeError:
            log.error("the client closed the connection: shutting down")
        except KeyboardInterrupt:
            pass
        except SystemExit as e:  # `exit`: 0 after `shutdown`, else 1
            code = e.code
        finally:
            self.shutdown()  # type: ignore[no-untyped-call]
        if code:
            sys.exit(code)

    async def _serve_pipes(self, stdin: BinaryIO, stdout: BinaryIO, stop: threading.Event) -> None:
        reader, writer = await pipes.connect(stdin, stdout)
        log.debug("stdio: asyncio pipes")
        # Writes per loop iteration, closes when drained: pygls awaits whichever is awaitable.
        self.protocol.set_writer(writer)  # type: ignore[arg-type]
        await run_async(
            stop_event=stop,
            reader=reader,
            protocol=self.protocol,
            logger=log,
            error_handler=self.report_server_error,
        )

    # --- state -----------------------------------------------------------------

    @property
    def config(self) -> Settings:
        return self.settings.current

    async def require_service(self) -> SessionService:
        """The session service, once initialize has loaded it (sessions may be unavailable:
        the service then says why)."""
        if self.service_opening is None:
            raise JsonRpcException(message="sessions are unavailable: initialize first")
        self.engine_wanted.set()
        return await asyncio.shield(self.service_opening)

    @property
    def service(self) -> SessionService | None:
        """The session service if it is loaded (None before, or if loading failed)."""
        opening = self.service_opening
        if opening is None or not opening.done() or opening.cancelled():
            return None
        return opening.result() if opening.exception() is None else None

    def cancel(self, session_id: str) -> bool:
        """Cancel a session's running prompt; False if none runs."""
        return self.service is not None and self.service.cancel(session_id)

    @property
    def root(self) -> Path:
        return self.settings.root

    def roots(self) -> list[Path]:
        from lsp_agent.server.uris import NotAFileUri, uri_to_path

        found = []
        for folder in self.workspace.folders.values():
            try:
                found.append(uri_to_path(folder.uri))
            except NotAFileUri:
                continue
        return found or [self.root]

    def spawn(self, job: Any) -> asyncio.Task[Any]:
        """A background task the server keeps a reference to (and cancels on shutdown)."""
        task: asyncio.Task[Any] = asyncio.ensure_future(job)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task

    async def close(self) -> None:
        if self.service is not None:
            await self.service.close()
        if self.local is not None:
            await self.local.aclose()

    # --- talking to the client ----------------------------------------------------------

    def notify(self, method: str, params: dict[str, Any]) -> None:
        """Send a notification. Framed here rather than through pygls, whose attrs and
        cattrs round trip costs more than the rest of a streamed update put together."""
        writer = self.protocol.writer
        if writer is None:
            return
        message = {"jsonrpc": "2.0", "method": method, "params": params}
        body = utf8(json.dumps(message, ensure_ascii=False, separators=(",", ":")))
        if self.protocol._include_headers:
            body = b"Content-Length: %d\r\n\r\n%b" % (len(body), body)
        try:
            written = writer.write(body)
        except (BrokenPipeError, ConnectionError):
            log.warning("the client is gone: a %s notification was not sent", method)
            return
        if inspect.isawaitable(written):  # websockets: the write is a coroutine
            self.spawn(written)

    async def request(self, method: str, params: dict[str, Any], msg_id: str) -> Any:
        """Send a request to the client; the result comes back as plain JSON values."""
        result = await self.protocol.send_request_async(
            method, self._typed(method, params), msg_id=msg_id
        )
        return self._json.unstructure(result)

    def _typed(self, method: str, params: dict[str, Any]) -> Any:
        """Standard LSP methods need lsprotocol objects; our own methods send dicts."""
        known = METHOD_TO_TYPES.get(method)
        if known is None or known[2] is None:
            return params
        params_type: Any = known[2]
        return self._json.structure(params, params_type)

    def show_once(self, message: str, kind: int = 3) -> None:
        """A window/showMessage (info by default) that is shown once per daemon."""
        if message not in self._shown:
            self._shown.add(message)
            log.info("%s", message)
            if getattr(self.protocol, "writer", None) is not None:
                self.notify("window/showMessage", {"type": kind, "message": message})

    def show_error(self, message: str) -> None:
        log.warning("%s", message)
        if getattr(self.protocol, "writer", None) is not None:
            self.notify("window/showMessage", {"type": 1, "message": message})


def parse(model: type[BaseModel], params: Any) -> Any:
    """Params -> a pydantic model; anything invalid is InvalidParams with a clear message."""
    if params is None or params == []:  # Neovim's Lua encodes an empty table `{}` as `[]`
        params = {}
    if not isinstance(params, dict):
        raise JsonRpcInvalidParams(
            message=f"invalid params: params must be an object, not {_json_type(params)}"
        )
    try:
        return model.model_validate(params)
    except ValidationError as e:
        problems: list[str] = []
        for err in e.errors():
            problem = f"{_where(err['loc'])}: {err['msg']}"
            if problem not in problems:
                problems.append(problem)
        raise JsonRpcInvalidParams(message=f"invalid params: {'; '.join(problems)}") from None


def _where(loc: tuple[int | str, ...]) -> str:
    """`('prompt', 'list[tagged-union[TextBlock,ResourceLinkBlock]]', 0)` -> `prompt.0`:
    the members pydantic tried for a union are not part of the client's JSON."""
    parts = [str(x) for x in loc if not (isinstance(x, str) and (x in _UNION_MEMBERS or "[" in x))]
    return ".".join(parts) or "params"


_UNION_MEMBERS = frozenset({"str", "int", "float", "bool", "list", "dict", "none"})


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    return "a number" if isinstance(value, int | float) else type(value).__name__


def create_server(state_dir: Path | None = None) -> AgentServer:
    """A fresh server with every feature registered (there is no module-level server)."""
    from lsp_agent.server.features import code_actions, config, lifecycle, sessions

    server = AgentServer(state_dir)
    lifecycle.register(server)
    sessions.register(server)
    config.register(server)
    code_actions.register(server)
    return server
