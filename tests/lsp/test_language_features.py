"""The editor as the language tools' source (issue 13, §2.1): a client with
`capabilities.experimental.lspAgent.languageFeatures` answers `agent/languageFeature`
from its own language servers (here a small fake that, like them, reads the editor's
buffers, unsaved text included), and the agent's definition/references/rename/diagnostics
tools use those answers. Rename edits go through permission and versioned applyEdit."""

from __future__ import annotations

import re
from typing import Any

import pytest

from lsp_agent.server.uris import path_to_uri, uri_to_path
from tests.fakes.model_server import text_reply, tool_call_reply
from tests.lsp.harness import AgentClient, tool_names, tool_results

LIB = 'def greet(name):\n    return "hi " + name\n'
APP = 'from lib import greet\n\nprint(greet("bob"))\n'
TYPED = APP + 'print(greet("ann"))\n'  # the user's unsaved line
WORD = re.compile(r"[A-Za-z_]\w*")


class EditorServers:
    """What the editor's language servers answer, computed from the editor's view of the
    two files (open buffers win over disk), in LSP JSON as a shim sends it."""

    def __init__(self, agent: AgentClient) -> None:
        self.agent = agent
        self.uris = [path_to_uri(agent.path("lib.py")), path_to_uri(agent.path("app.py"))]

    def text(self, uri: str) -> str:
        return self.agent.editor.text(uri)

    def word_at(self, uri: str, pos: dict[str, int]) -> str:
        line = self.text(uri).split("\n")[pos["line"]]
        for m in WORD.finditer(line):
            if m.start() <= pos["character"] <= m.end():
                return m.group()
        return ""

    def occurrences(self, word: str) -> list[dict[str, Any]]:
        found = []
        for uri in self.uris:
            for n, line in enumerate(self.text(uri).split("\n")):
                for m in re.finditer(rf"\b{re.escape(word)}\b", line):
                    rng = {
                        "start": {"line": n, "character": m.start()},
                        "end": {"line": n, "character": m.end()},
                    }
                    found.append({"uri": uri, "range": rng})
        return found

    def diagnostics(self, uri: str) -> list[dict[str, Any]]:
        defined = set(re.findall(r"def (\w+)", self.text(self.uris[0])))
        out = []
        for n, line in enumerate(self.text(uri).split("\n")):
            for m in re.finditer(r"(\w+)\(", line):
                if m.group(1) not in defined | {"print", "def"} and not line.startswith("def"):
                    out.append(
                        {
                            "range": {
                                "start": {"line": n, "character": m.start()},
                                "end": {"line": n, "character": m.end(1)},
                            },
                            "severity": 1,
                            "source": "basedpyright",
                            "message": f'"{m.group(1)}" is not defined',
                        }
                    )
        return out

    def __call__(self, method: str, params: dict[str, Any]) -> Any:
        doc = params.get("textDocument", {}).get("uri")
        if method == "textDocument/definition":
            word = self.word_at(doc, params["position"])
            return [o for o in self.occurrences(word) if o["uri"] == self.uris[0]][:1]
        if method == "textDocument/references":
            return self.occurrences(self.word_at(doc, params["position"]))
        if method == "textDocument/rename":
            changes: dict[str, list[Any]] = {}
            for o in self.occurrences(self.word_at(doc, params["position"])):
                changes.setdefault(o["uri"], []).append(
                    {"range": o["range"], "newText": params["newName"]}
                )
            return {"changes": changes}
        if method == "textDocument/codeAction":
            start = {"line": 0, "character": 0}
            insert = {"range": {"start": start, "end": start}, "newText": "import os\n"}
            return [
                {"title": 'Import "os"', "kind": "quickfix", "edit": {"changes": {doc: [insert]}}},
                {"title": "Organize imports", "command": "editor.action.organizeImports"},
            ]
        if method == "textDocument/diagnostic":
            return {"kind": "full", "items": self.diagnostics(doc)}
        if method == "workspace/diagnostic":
            items = [
                {"uri": u, "kind": "full", "version": None, "items": self.diagnostics(u)}
                for u in self.uris
            ]
            return {"items": items}
        return None


def project(agent: AgentClient) -> EditorServers:
    agent.write("lib.py", LIB)
    agent.write("app.py", APP)
    servers = EditorServers(agent)
    agent.editor.language = servers
    return servers


def methods(agent: AgentClient) -> list[str]:
    return [r["method"] for r in agent.editor.language_requests]


async def test_definition_and_references_come_from_the_editor(
    language_agent: AgentClient,
) -> None:
    agent = language_agent
    servers = project(agent)
    lib, app = agent.rel("lib.py"), agent.rel("app.py")
    agent.server.script(
        tool_call_reply([("definition", {"path": app, "line": 3, "symbol": "greet"})]),
        tool_call_reply([("references", {"path": lib, "line": 1, "symbol": "greet"})]),
        text_reply("done"),
    )
    result = await agent.prompt(await agent.new_session(), "where is greet used?")
    assert result["stopReason"] == "end_turn"
    offered = tool_names(agent.server)
    assert {"definition", "references", "rename", "diagnostics"} <= set(offered)

    definition, references = tool_results(agent.server)
    assert definition == f"{lib}:1:5  def greet(name):"
    assert references.startswith("3 reference(s):")
    for row in (f"{lib}:1:5  def greet(name):", f"{app}:1:17  from lib import greet"):
        assert row in references
    assert f'{app}:3:7  print(greet("bob"))' in references

    assert methods(agent) == ["textDocument/definition", "textDocument/references"]
    asked = agent.editor.language_requests[0]["params"]
    assert asked["textDocument"]["uri"] == servers.uris[1]
    assert asked["position"] == {"line": 2, "character": 6}  # found "greet" on line 3
    assert agent.editor.language_requests[1]["params"]["context"] == {"includeDeclaration": True}


async def test_rename_of_an_unsaved_symbol_goes_through_versioned_apply_edit(
    language_agent: AgentClient,
) -> None:
    agent = language_agent
    servers = project(agent)
    lib_uri, app_uri = servers.uris
    agent.open("app.py")
    agent.type_text(app_uri, TYPED)  # unsaved: the editor's servers see it, the disk not
    app = agent.rel("app.py")
    agent.server.script(
        tool_call_reply(
            [("rename", {"path": app, "line": 3, "symbol": "greet", "new_name": "welcome"})]
        ),
        text_reply("renamed"),
    )
    agent.editor.permission_answers.append("allow_once")
    session = await agent.new_session()
    result = await agent.prompt(session, "rename greet to welcome")
    assert result["stopReason"] == "end_turn"

    assert "textDocument/rename" in methods(agent)
    [asked] = [r["params"] for r in agent.editor.language_requests if "newName" in r["params"]]
    assert asked["newName"] == "welcome" and asked["position"] == {"line": 2, "character": 6}
    [permission] = agent.editor.permission_requests  # one approval for the whole rename
    assert permission["toolCall"]["title"] == "Rename greet → welcome"

    [applied] = agent.editor.applied_edits  # the open buffer: versioned applyEdit
    [change] = applied["edit"]["documentChanges"]
    assert change["textDocument"] == {"uri": app_uri, "version": 2}
    assert agent.editor.docs[app_uri].text == TYPED.replace("greet", "welcome")
    assert agent.disk("app.py") == APP  # the buffer stays unsaved
    assert agent.disk("lib.py") == LIB.replace("greet", "welcome")  # not open: on disk
    assert sorted(result["editedUris"]) == sorted([lib_uri, app_uri])
    [told] = tool_results(agent.server)
    assert told.startswith("Changed 2 file(s)")
    assert "introduced" not in told  # the rename broke nothing
    assert uri_to_path(lib_uri).read_text().count("welcome") == 1


async def test_an_edit_that_breaks_the_code_says_so_in_its_result(
    language_agent: AgentClient,
) -> None:
    agent = language_agent
    project(agent)
    app = agent.rel("app.py")
    agent.open("app.py")
    typo = {"path": app, "old_string": 'greet("bob")', "new_string": 'gret("bob")'}
    agent.server.script(
        tool_call_reply([("edit_file", typo)]),
        text_reply("oops"),
    )
    agent.editor.permission_answers.append("allow_once")
    result = await agent.prompt(await agent.new_session(), "edit app.py")
    assert result["stopReason"] == "end_turn"
    [told] = tool_results(agent.server)
    assert told.startswith("Edited")
    assert "This edit introduced these problems:" in told
    assert f'{app}:3:7  error: "gret" is not defined (basedpyright)' in told
    assert "textDocument/diagnostic" in methods(agent)


@pytest.mark.parametrize(
    ("answer", "told"),
    [
        ({"uri": 42, "range": "line three"}, "answer to textDocument/definition is unusable"),
        ("garbage", "answer to textDocument/definition is unusable"),
        (RuntimeError("the language server crashed"), "could not answer textDocument/definition"),
    ],
)
async def test_a_bad_editor_answer_is_a_tool_error(
    language_agent: AgentClient, answer: Any, told: str
) -> None:
    agent = language_agent
    servers = project(agent)
    lib, app = agent.rel("lib.py"), agent.rel("app.py")

    def editor(method: str, params: dict[str, Any]) -> Any:
        return answer if method == "textDocument/definition" else servers(method, params)

    agent.editor.language = editor
    agent.server.script(
        tool_call_reply([("definition", {"path": app, "line": 3, "symbol": "greet"})]),
        tool_call_reply([("references", {"path": lib, "line": 1, "symbol": "greet"})]),
        text_reply("done"),
    )
    session = await agent.new_session()
    result = await agent.prompt(session, "where is greet?")
    assert result["stopReason"] == "end_turn"  # the run goes on
    failed, references = tool_results(agent.server)
    assert told in failed
    assert references.startswith("3 reference(s):")  # the next call still works
    first = agent.editor.calls(session)[0]
    assert first.final is not None and first.final["status"] == "failed"


async def test_a_code_action_from_the_editor_is_applied_like_an_edit(
    language_agent: AgentClient,
) -> None:
    agent = language_agent
    servers = project(agent)
    app_uri = servers.uris[1]
    agent.open("app.py")
    app = agent.rel("app.py")
    agent.server.script(
        tool_call_reply([("code_actions", {"path": app, "line": 3})]),
        tool_call_reply([("apply_code_action", {"path": app, "id": "1"})]),
        tool_call_reply([("apply_code_action", {"path": app, "id": "2"})]),
        text_reply("done"),
    )
    agent.editor.permission_answers += ["allow_once", "allow_once"]
    result = await agent.prompt(await agent.new_session(), "fix line 3")
    assert result["stopReason"] == "end_turn"
    listed, applied, command = tool_results(agent.server)
    assert listed == '1  Import "os"  (quickfix, editor)\n2  Organize imports  (command, editor)'
    assert applied.startswith("Changed 1 file(s)")
    [edit] = agent.editor.applied_edits
    assert edit["edit"]["documentChanges"][0]["textDocument"] == {"uri": app_uri, "version": 1}
    assert agent.editor.docs[app_uri].text == "import os\n" + APP
    # an action that is only an editor command is not run behind the permission's back
    assert "does not run workspace/executeCommand" in command
    assert "workspace/executeCommand" not in methods(agent)


class PartialRename(EditorServers):
    """A server whose rename leaves out a file its references name (one still indexing)."""

    def __call__(self, method: str, params: dict[str, Any]) -> Any:
        answer = super().__call__(method, params)
        if method == "textDocument/rename":
            answer["changes"].pop(self.uris[0], None)
        return answer


async def test_a_rename_that_misses_references_is_refused_and_changes_nothing(
    language_agent: AgentClient,
) -> None:
    agent = language_agent
    project(agent)
    servers = agent.editor.language = PartialRename(agent)
    app = agent.rel("app.py")
    agent.server.script(
        tool_call_reply(
            [("rename", {"path": app, "line": 3, "symbol": "greet", "new_name": "welcome"})]
        ),
        text_reply("could not rename"),
    )
    agent.editor.permission_answers.append("allow_once")
    session = await agent.new_session()
    await agent.prompt(session, "rename greet to welcome")
    [told] = tool_results(agent.server)
    assert "leaves references to 'greet' in" in told and "lib.py" in told
    assert "nothing was changed" in told
    assert agent.disk("lib.py") == LIB and agent.disk("app.py") == APP
    assert agent.editor.applied_edits == []
    renames = [r for r in agent.editor.language_requests if r["method"] == "textDocument/rename"]
    assert len(renames) == 3  # asked again twice before giving up
    assert servers.uris[0].endswith("lib.py")
