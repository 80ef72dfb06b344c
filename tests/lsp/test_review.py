"""Review before it lands (editor.review "hunks" / "file"): the editor's user accepts or
rejects each hunk of an agent edit, only the accepted ones are written, and the model is
told the truth. A closed review, an unusable answer or a user change during the review
writes nothing; a plain client gets change annotations it confirms itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.fakes.model_server import FakeModelServer, text_reply, tool_call_reply
from tests.lsp.harness import ALL_AGENT_CAPS, AgentClient, start, stop, tool_results

REVIEW_CAPS = {**ALL_AGENT_CAPS, "review": True}
ORIGINAL = "one\ntwo\nthree\nfour\nfive\n"
PROPOSED = "one\nTWO\nthree\nfour\nFIVE\nsix\n"  # hunk 0: line 2; hunk 1: lines 5 (+6)


def write_turn(name: str, content: str = PROPOSED) -> list[dict[str, Any]]:
    return [tool_call_reply([("write_file", {"path": name, "content": content})]), text_reply("ok")]


async def review_client(
    tmp_path: Path,
    model: FakeModelServer,
    settings: dict[str, Any],
    caps: dict[str, bool] | None = REVIEW_CAPS,
) -> AgentClient:
    """A client on a fresh workspace, as an editor with the review capability unless other
    `caps` are given."""
    (tmp_path / "ws").mkdir()
    return await start(
        tmp_path / "ws", tmp_path / "state", model, agent_caps=caps, settings=settings
    )


def final(client: AgentClient, session: str) -> dict[str, Any]:
    update = client.editor.calls(session)[-1].final
    assert update is not None
    return dict(update["rawOutput"])


async def test_accepting_some_hunks_writes_only_those_and_tells_the_model(
    tmp_path: Path, lsp_model: FakeModelServer
) -> None:
    lsp_model.clear()
    lsp_model.script(*write_turn("a.txt"), *write_turn("a.txt", "only\n"))
    client = await review_client(tmp_path, lsp_model, {"editor": {"review": "hunks"}})
    try:
        client.write("a.txt", ORIGINAL)
        uri = client.open("a.txt")
        client.editor.review_answers.append({"accepted": [0], "rejected": [1]})
        session = await client.new_session()
        await client.prompt(session, "edit a.txt")
        told = tool_results(lsp_model)[-1]
        first = final(client, session)
        # the per-session switch back to "auto": no review, the permission prompt asks
        switched = await client.request(
            "agent/session/config", {"sessionId": session, "review": "auto"}
        )
        client.editor.permission_answers.append("allow_once")
        await client.prompt(session, "again")
        buffer = client.editor.docs[uri].text
    finally:
        await stop(client)

    [request] = client.editor.review_requests
    assert request["granularity"] == "hunks" and request["version"] == 1
    assert (request["original"], request["proposed"]) == (ORIGINAL, PROPOSED)
    assert request["path"] == "a.txt" and request["uri"] == uri
    assert request["toolCallId"] and request["title"] == "Write a.txt"
    assert [(h["id"], h["originalStart"], h["originalLines"]) for h in request["hunks"]] == [
        (0, 1, 1),
        (1, 4, 1),
    ]
    assert request["hunks"][1]["proposedText"] == "FIVE\nsix\n"
    assert client.editor.permission_requests[:-1] == []  # the review was the only question
    assert first["status"] == "completed"
    assert "accepted 1 of 2 hunks" in told
    assert "Hunk 1 (line 2): accepted; line 2 now read:\nTWO" in told
    assert "Hunk 2 (line 5): rejected" in told
    assert switched["review"] == "auto"
    assert len(client.editor.review_requests) == 1 and len(client.editor.permission_requests) == 1
    assert buffer == "only\n"
    # what the first edit wrote: hunk 0 only (the buffer's version at the second edit)
    first_edit = client.editor.applied_edits[0]["edit"]["documentChanges"][0]
    assert first_edit["textDocument"]["version"] == 1
    assert [e["newText"] for e in first_edit["edits"]] == ["TWO\n"]


async def test_a_closed_review_or_an_unusable_answer_writes_nothing(
    tmp_path: Path, lsp_model: FakeModelServer
) -> None:
    answers: list[Any] = [
        {"accepted": [], "rejected": [], "closed": True},
        {"accepted": "all"},
        {"accepted": [7]},
        {"accepted": list(range(20_000))},
        {"accepted": [True]},
        42,
        RuntimeError("the view failed"),
        {"accepted": [0, 1], "rejected": [1]},
        {"accepted": [], "rejected": [0, 1]},
    ]
    lsp_model.clear()
    for _ in answers:
        lsp_model.script(*write_turn("b.txt"))
    client = await review_client(tmp_path, lsp_model, {"editor": {"review": "hunks"}})
    outputs, statuses = [], []
    try:
        client.write("b.txt", ORIGINAL)  # not open: the review is of the disk file
        client.editor.review_answers.extend(answers)
        session = await client.new_session()
        for _ in answers:
            await client.prompt(session, "edit b.txt")
            outputs.append(tool_results(lsp_model)[-1])
            statuses.append(final(client, session)["status"])
        disk = client.disk("b.txt")
    finally:
        await stop(client)

    assert disk == ORIGINAL
    assert [r["version"] for r in client.editor.review_requests] == [None] * len(answers)
    assert statuses == ["denied"] * len(answers)
    assert "closed the review" in outputs[0] and "the file is unchanged" in outputs[0]
    for garbage in outputs[1:-1]:
        assert "could not be used" in garbage and "the file is unchanged" in garbage
    assert "not a list" in outputs[1] and "hunk 7" in outputs[2] and "20000 ids" in outputs[3]
    assert "a boolean" in outputs[4] and "not an object" in outputs[5]
    assert "error" in outputs[6] and "both accepted and rejected" in outputs[7]
    assert outputs[-1].startswith("The user rejected the edit to b.txt (2 hunks)")


async def test_a_user_change_during_the_review_refuses_the_edit(
    tmp_path: Path, lsp_model: FakeModelServer
) -> None:
    lsp_model.clear()
    lsp_model.script(*write_turn("c.txt"))
    client = await review_client(tmp_path, lsp_model, {"editor": {"review": "file"}})
    typed = "one\nmine\nthree\nfour\nfive\n"
    try:
        client.write("c.txt", ORIGINAL)
        uri = client.open("c.txt")

        def user_types_then_accepts(params: dict[str, Any]) -> dict[str, Any]:
            client.type_text(uri, typed)  # sent before the answer, unsaved
            return {"accepted": [0, 1]}

        client.editor.review_answers.append(user_types_then_accepts)
        session = await client.new_session()
        await client.prompt(session, "edit c.txt")
        told = tool_results(lsp_model)[-1]
        status = final(client, session)["status"]
        buffer = client.editor.docs[uri].text
    finally:
        await stop(client)

    assert client.editor.review_requests[0]["granularity"] == "file"
    assert buffer == typed and client.disk("c.txt") == ORIGINAL
    assert client.editor.applied_edits == []  # refused before anything was sent
    assert status == "failed"
    assert "accepted 2 of 2 hunks of the edit to c.txt, but it was not written" in told
    assert "c.txt changed in the editor since you read it" in told


async def test_a_plain_client_confirms_annotated_hunks(
    tmp_path: Path, lsp_model: FakeModelServer
) -> None:
    lsp_model.clear()
    lsp_model.script(*write_turn("d.txt"), *write_turn("d.txt", "x\n"))
    # VS Code's capabilities: changeAnnotationSupport, no review
    plain = {"editor": {"review": "hunks"}, "permissions": {"mode": "auto"}}
    client = await review_client(tmp_path, lsp_model, plain, caps=ALL_AGENT_CAPS)
    try:
        client.write("d.txt", ORIGINAL)
        uri = client.open("d.txt")
        client.editor.confirm = lambda note: note["label"].startswith("Hunk 1 ")
        session = await client.new_session()
        await client.prompt(session, "edit d.txt")
        told = [tool_results(lsp_model)[-1]]
        client.editor.confirm = lambda note: False
        await client.prompt(session, "again")
        told.append(tool_results(lsp_model)[-1])
        buffer = client.editor.docs[uri].text
    finally:
        await stop(client)

    edit = client.editor.applied_edits[0]["edit"]
    notes = edit["changeAnnotations"]
    assert sorted(n["label"] for n in notes.values()) == ["Hunk 1 (line 2)", "Hunk 2 (line 5)"]
    assert all(n["needsConfirmation"] is True for n in notes.values())
    assert all(e["annotationId"] in notes for e in edit["documentChanges"][0]["edits"])
    assert client.editor.review_requests == []
    assert "accepted 1 of 2 hunks" in told[0] and "Hunk 2 (line 5): rejected" in told[0]
    assert told[1].startswith("The user rejected the edit to d.txt (1 hunk)")
    assert buffer == "one\nTWO\nthree\nfour\nfive\n"


async def test_an_unanswered_review_is_withdrawn_and_rejects(
    tmp_path: Path, lsp_model: FakeModelServer
) -> None:
    lsp_model.clear()
    lsp_model.script(*write_turn("e.txt"))
    client = await review_client(
        tmp_path, lsp_model, {"editor": {"review": "hunks", "reviewTimeoutS": 0.2}}
    )
    try:
        client.write("e.txt", ORIGINAL)
        client.editor.review_answers.append("never")
        session = await client.new_session()
        await client.prompt(session, "edit e.txt")
        told = tool_results(lsp_model)[-1]
        await client.editor.until(lambda: "agent/review" in client.editor.cancelled)
    finally:
        await stop(client)

    assert client.disk("e.txt") == ORIGINAL
    assert "did not answer in time" in told and "the file is unchanged" in told


async def test_a_deny_rule_denies_without_a_review(
    tmp_path: Path, lsp_model: FakeModelServer
) -> None:
    lsp_model.clear()
    lsp_model.script(*write_turn("locked/f.txt"))
    client = await review_client(
        tmp_path,
        lsp_model,
        {"editor": {"review": "hunks"}, "permissions": {"deny": ["edit(locked/**)"]}},
    )
    try:
        client.write("locked/f.txt", ORIGINAL)
        session = await client.new_session()
        await client.prompt(session, "edit it")
        told = tool_results(lsp_model)[-1]
    finally:
        await stop(client)

    assert client.editor.review_requests == [] and client.editor.permission_requests == []
    assert "deny: edit(locked/**)" in told and client.disk("locked/f.txt") == ORIGINAL
