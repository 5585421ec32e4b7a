"""Export (GDPR arts. 15 and 20): a case as FHIR, JSON and HTML; `!export`, `!export me` and the command
line's `caseroom export`."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select

from bot.adapters.console import ConsoleAdapter
from bot.cli import main
from bot.core.export import export_case
from bot.domain.events import SendFile
from bot.storage.models import AuditEntry, Case, ConsentRecord, OutboxRow
from bot.storage.repo import Repo
from tests.harness import Harness


async def _consent(harness: Harness, ref: str, scope: str, given: bool, how: str | None) -> None:
    """A consent as the consent commands record it (a row of `consents`), written here directly so the
    export is tested on its own."""
    async with harness.app.sessions.begin() as session:
        repo = Repo(session)
        case = await repo.case_by_ref(ref)
        alice = await repo.user("console", "alice")
        assert case is not None and alice is not None
        session.add(
            ConsentRecord(
                case_id=case.id,
                scope=scope,
                given=given,
                how=how,
                recorded_by=alice.id,
                recorded_at=harness.clock.now(),
            )
        )


async def rich_case(harness: Harness) -> str:
    """Needs, plan items with log entries, reminders sent and personal, consents, a member who left."""
    ref = await harness.open_case("Mrs D at home")
    for scope in ("team", "carers", "reminders"):
        await _consent(harness, ref, scope, True, "paper form signed")
    await harness.team(ref)
    for who in ("bob", "carol", "dora", "olga"):  # the console's people accept at once: they joined
        assert await harness.say(who, "!help", ref)
    await harness.say("alice", "!need add health Diabetes follow-up", ref)
    await harness.say("alice", "!need add housing Stairs unsafe", ref)
    await harness.one("alice", "!plan add Insulin injections owner bob due tomorrow 9:00 need 1", ref)
    await harness.one("alice", "!plan add Grab bars <script>alert(1)</script> owner carol need 2", ref)
    await harness.one("alice", "!plan add Weekly call owner alice every week", ref)
    await harness.one("bob", "!log #1 First visit, glucose fine", ref)
    await harness.one("bob", "!plan start 1", ref)
    await harness.one("carol", "!log Drove her to the pharmacy", ref)
    await harness.one("alice", "!remind bob in 1 hour bring the glucometer", ref)
    await harness.one("bob", "!remind me in 3 days call the GP privately", ref)
    await harness.advance(timedelta(hours=2))
    await harness.say("alice", "!remove carol", ref)
    await _consent(harness, ref, "reminders", False, None)
    return ref


async def _export(harness: Harness, ref: str, fmt: str) -> str:
    async with harness.app.sessions.begin() as session:
        repo = Repo(session)
        case = await repo.case_by_ref(ref)
        alice = await repo.user("console", "alice")
        assert case is not None
        file = await export_case(repo, harness.app.services, case, fmt, harness.clock.now(), alice)
    return file.data.decode("utf-8")


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "reference" and isinstance(inner, str):
                yield inner
            else:
                yield from _references(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _references(inner)


CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


def _codes(concept: dict[str, Any]) -> tuple[str, str]:
    """The (system, code) of a CodeableConcept's only coding."""
    (coding,) = concept["coding"]
    return str(coding["system"]), str(coding["code"])


def _of(document: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == kind]


async def test_the_fhir_bundle_validates_round_trips_and_holds_the_whole_case(harness: Harness) -> None:
    ref = await rich_case(harness)
    text = await _export(harness, ref, "fhir")
    parsed = Bundle.model_validate_json(text)
    assert parsed.type == "collection"
    assert parsed.model_dump_json(indent=2) == text  # parse -> serialise gives the same document
    document = json.loads(text)
    counts: dict[str, int] = {}
    for entry in document["entry"]:
        counts[entry["resource"]["resourceType"]] = counts.get(entry["resource"]["resourceType"], 0) + 1
    assert counts == {
        "Patient": 1,  # dora
        "Practitioner": 3,  # alice, bob, olga
        "RelatedPerson": 1,  # carol
        "Organization": 2,  # Home nursing, District council
        "Device": 1,  # caseroom, which sent the reminders and assembled the export
        "CareTeam": 1,
        "CarePlan": 1,
        "Condition": 2,
        "Goal": 2,
        "Task": 3,
        "Communication": 4,  # 3 log entries (2 actions, a status change) + 1 reminder sent
        "Consent": 4,
        "Provenance": 1,
    }, counts
    urls = [entry["fullUrl"] for entry in document["entry"]]
    assert len(set(urls)) == len(urls) and all(url.startswith("urn:uuid:") for url in urls)
    assert set(_references(document)) <= set(urls)  # every reference resolves inside the bundle

    (patient,) = _of(document, "Patient")
    patient_url = f"urn:uuid:{patient['id']}"
    assert patient["name"] == [{"text": "dora"}]
    (team,) = _of(document, "CareTeam")
    carol_url = next(
        e["fullUrl"] for e in document["entry"] if e["resource"].get("name") == [{"text": "carol"}]
    )
    carol = next(p for p in team["participant"] if p["member"]["reference"] == carol_url)
    assert carol["role"][0]["text"] == "carer" and "end" in carol["period"]  # removed: her period ended
    bob = next(p for p in team["participant"] if p["member"]["display"] == "bob")
    assert bob["onBehalfOf"]["display"] == "Home nursing" and "end" not in bob["period"]
    (plan,) = _of(document, "CarePlan")
    assert plan["status"] == "active" and len(plan["activity"]) == 3 and len(plan["goal"]) == 2
    tasks = {t["description"]: t for t in _of(document, "Task")}
    insulin = tasks["Insulin injections"]
    assert insulin["status"] == "in-progress" and insulin["owner"]["display"] == "bob"
    assert insulin["restriction"]["period"]["end"].startswith("2026-11-24T08:00:00")  # 9:00 in Paris
    assert any("First visit, glucose fine" in note["text"] for note in insulin["note"])
    conditions = _of(document, "Condition")
    # FHIR's own category (a problem on the list), then caseroom's need domain.
    assert {_codes(c["category"][0]) for c in conditions} == {(CONDITION_CATEGORY, "problem-list-item")}
    assert {c["category"][1]["coding"][0]["code"] for c in conditions} == {"health", "housing"}
    consents = _of(document, "Consent")
    assert [c["provision"]["type"] for c in consents] == ["permit", "permit", "permit", "deny"]
    assert [c["status"] for c in consents] == ["active", "active", "inactive", "active"]
    assert consents[0]["sourceAttachment"]["title"] == "paper form signed"
    for consent in consents:  # R4B: a privacy consent, LOINC "Patient Consent", the person as grantor
        assert _codes(consent["scope"]) == (CONSENT_SCOPE, "patient-privacy")
        assert _codes(consent["category"][0]) == ("http://loinc.org", "59284-0")
        assert consent["patient"] == {"reference": patient_url}
        assert consent["performer"][0] == {"reference": patient_url}
        assert consent["performer"][1]["display"] == "alice"  # who recorded it on her behalf
    scopes = [c["category"][1]["coding"][0]["code"] for c in consents]
    assert scopes == ["team", "carers", "reminders", "reminders"]
    rules = [_codes(c["policyRule"]) for c in consents]
    assert rules == [(ACT_CODE, "OPTIN")] * 3 + [(ACT_CODE, "OPTOUT")]
    sent = [c for c in _of(document, "Communication") if c["category"][0]["coding"][0]["code"] == "reminder"]
    assert [c["payload"][0]["contentString"] for c in sent] == ["bring the glucometer"]
    assert "call the GP privately" not in text  # a personal reminder is its owner's alone
    (provenance,) = _of(document, "Provenance")
    assert len(provenance["target"]) == len(urls) - 1
    assert provenance["agent"][0]["who"]["display"] == "alice"
    assert [_codes(a["type"])[1] for a in provenance["agent"]] == ["performer", "assembler"]


async def test_only_a_practitioner_acts_for_an_organisation_in_the_care_team(harness: Harness) -> None:
    """FHIR's invariant ctm-1: a carer who comes from an organisation (even one a professional acts for)
    is named with it in words, never `onBehalfOf`."""
    ref = await harness.open_case()
    await harness.consent(ref, "team", "carers")
    await harness.say("alice", "!invite bob as professional from Home nursing", ref)
    await harness.say("alice", "!invite carol as carer from Home nursing", ref)
    for who in ("bob", "carol"):
        assert await harness.say(who, "!help", ref)
    document = json.loads(await _export(harness, ref, "fhir"))
    kinds = {e["fullUrl"]: e["resource"]["resourceType"] for e in document["entry"]}
    (team,) = _of(document, "CareTeam")
    acting = [kinds[p["member"]["reference"]] for p in team["participant"] if "onBehalfOf" in p]
    assert acting == ["Practitioner"]  # bob, for Home nursing
    carol = next(p for p in team["participant"] if p["member"]["display"] == "carol")
    assert kinds[carol["member"]["reference"]] == "RelatedPerson"
    assert [role["text"] for role in carol["role"]] == ["carer", "for Home nursing"]
    assert [o["name"] for o in _of(document, "Organization")] == ["Home nursing"]


async def test_two_exports_of_the_same_data_differ_only_in_their_timestamps(harness: Harness) -> None:
    ref = await rich_case(harness)
    first = json.loads(await _export(harness, ref, "fhir"))
    harness.clock.advance(timedelta(minutes=5))
    second = json.loads(await _export(harness, ref, "fhir"))
    assert first != second
    for document in (first, second):
        document.pop("timestamp")
        _of(document, "Provenance")[0].pop("recorded")
    assert first == second


async def test_the_json_document_holds_the_same_data(harness: Harness) -> None:
    ref = await rich_case(harness)
    document = json.loads(await _export(harness, ref, "json"))
    assert document["format"] == "caseroom-case" and document["case"]["ref"] == ref
    assert [m["name"] for m in document["members"]] == ["alice", "bob", "carol", "dora", "olga"]
    carol = document["members"][2]
    assert carol["state"] == "left" and carol["left_at"] is not None
    assert [n["domain"] for n in document["needs"]] == ["health", "housing"]
    assert document["plan_items"][0]["due_at"] == "2026-11-24T08:00:00+00:00"
    assert document["plan_items"][2]["frequency"] is not None
    assert any(e["text"] == "Drove her to the pharmacy" for e in document["action_log"])
    personal = next(r for r in document["reminders"] if r["set_by"] == "bob")
    assert personal["text"] is None and personal["to"] == {"kind": "user", "member": "bob"}
    assert [c["given"] for c in document["consents"]] == [True, True, True, False]


async def test_the_html_summary_escapes_people_s_text_and_stands_alone(harness: Harness) -> None:
    ref = await rich_case(harness)
    page = await _export(harness, ref, "html")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Insulin injections" in page and "Drove her to the pharmacy" in page and "Care team" in page
    assert "http://" not in page and "https://" not in page and "src=" not in page  # nothing fetched
    assert "call the GP privately" not in page
    assert "<td>1</td><td>bob</td><td>bring the glucometer</td>" in page  # sent once, to bob
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en"' in page


async def test_the_html_summary_is_in_the_case_s_language(harness: Harness) -> None:
    await harness.say("zoe", "!lang fr")
    messages = await harness.say("zoe", "!case open Famille M")
    ref = next(m.room for m in messages if m.room.startswith("C-"))
    await harness.say("zoe", "!need add housing Logement humide", ref)
    page = await _export(harness, ref, "html")
    assert '<html lang="fr"' in page and "Logement humide" in page
    # Role and domain names, the state of a need and dates, as French readers read them.
    for french in ("gestionnaire de cas", "<td>logement</td>", "NON COUVERT", "lun. 23 nov. 2026"):
        assert french in page, french
    assert "case manager" not in page and "UNMET" not in page


async def test_export_goes_to_the_case_manager_s_direct_chat_only(harness: Harness) -> None:
    ref = await rich_case(harness)
    for who in ("bob", "dora", "olga"):
        answer = await harness.one(who, "!export", ref)
        assert "cannot use !export" in answer
    assert harness.adapter.files == []
    answer = await harness.one("alice", "!export", ref)
    assert "direct chat" in answer and "{" not in answer
    ((room, file),) = harness.adapter.files
    assert (
        room == "dm:alice" and file.name.startswith(f"{ref}-2026-11-23") and file.name.endswith(".fhir.json")
    )
    Bundle.model_validate_json(base64.b64decode(file.data))
    await harness.one("alice", "!export html", ref)
    assert harness.adapter.files[-1][1].mimetype == "text/html"
    refused = await harness.one("alice", "!export pdf", ref)
    assert "pdf" in refused and "!export [fhir|json|html]" in refused
    assert len(harness.adapter.files) == 2
    await harness.say("alice", "!close all goals reached", ref)
    await harness.one("alice", "!export json", ref)  # a closed case can still be exported
    assert json.loads(base64.b64decode(harness.adapter.files[-1][1].data))["case"]["status"] == "closed"
    async with harness.app.sessions() as session:
        entries = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "export")))
        case_id = (await Repo(session).case_by_ref(ref) or Case()).id
        rows = list(await session.scalars(select(OutboxRow)))
    assert [e.outcome for e in entries] == ["refused"] * 3 + ["ok", "ok", "invalid", "ok"]
    assert {e.case_ref for e in entries} == {ref}
    # The files wait in the outbox tied to their case, which erasing it removes with the rest.
    files = [row for row in rows if row.payload["kind"] == "send_file"]
    assert len(files) == 3 and {(r.room_id, r.case_id) for r in files} == {("dm:alice", case_id)}


async def test_export_without_a_known_direct_chat_says_how_to_open_one(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.say("zoe", "!help", ref)  # zoe is not a member: refused, and nothing sent
    await harness.say("alice", "!invite zoe as case-manager", ref)
    answer = await harness.one("zoe", "!export", ref)
    assert "direct chat" in answer and "!help" in answer
    assert harness.adapter.files == []
    await harness.say("zoe", "!help")  # now the bot knows zoe's direct chat
    await harness.one("zoe", "!export", ref)
    assert [room for room, _file in harness.adapter.files] == ["dm:zoe"]


def _personal(files: list[tuple[str, SendFile]]) -> dict[str, Any]:
    _room, file = files[-1]
    assert file.name.startswith("caseroom-me-") and file.mimetype == "application/json"
    return dict(json.loads(base64.b64decode(file.data)))


async def test_export_me_holds_the_member_s_own_data_and_nobody_else_s(harness: Harness) -> None:
    ref = await rich_case(harness)
    answer = await harness.one("bob", "!export me", ref)
    assert "direct chat" in answer and harness.adapter.files == []  # bob never wrote to the bot directly
    await harness.say("bob", "!help")
    answer = await harness.one("bob", "!export me", ref)
    assert harness.adapter.files[-1][0] == "dm:bob"
    document = _personal(harness.adapter.files)
    text = json.dumps(document, ensure_ascii=False)
    assert document["user"]["id"] == "bob"
    assert document["memberships"][0]["case"] == ref
    assert document["memberships"][0]["organisation"] == "Home nursing"
    assert [e["text"] for e in document["action_log_entries_written"] if e["kind"] == "action"] == [
        "First visit, glucose fine"
    ]
    assert [i["text"] for i in document["plan_items_owned"]] == ["Insulin injections"]
    texts = {r["text"] for r in document["reminders"] if r["kind"] == "reminder"}
    assert texts == {"bring the glucometer", "call the GP privately"}
    assert any(m["text"] == "!log #1 First visit, glucose fine" for m in document["messages_kept"])
    assert [a["action"] for a in document["audit"]][-2:] == ["export me", "help"]
    for other in ("alice", "carol", "dora", "olga", "Mrs D", "Drove her", "Grab bars", "District council"):
        assert other not in text, other
    # In the direct chat itself, the file comes with a word.
    await harness.one("dora", "!help")
    messages = await harness.say("dora", "!export me")
    assert [m.room for m in messages] == ["dm:dora"] and harness.adapter.files[-1][0] == "dm:dora"
    assert _personal(harness.adapter.files)["memberships"][0]["role"] == "person"


async def test_the_command_line_writes_the_file_and_refuses_an_unknown_case(
    harness: Harness, tmp_path: Path
) -> None:
    ref = await rich_case(harness)
    output = tmp_path / "case.html"
    runner = CliRunner()
    args = ["export", "--db", harness.db_url, "--case", ref, "--format", "html", "--output", str(output)]
    result = await asyncio.to_thread(runner.invoke, main, args)
    assert result.exit_code == 0, result.output
    assert "Insulin injections" in output.read_text(encoding="utf-8")
    assert output.stat().st_mode & 0o777 == 0o600  # personal data: readable by its owner only
    # An existing file is never overwritten.
    result = await asyncio.to_thread(runner.invoke, main, args)
    assert result.exit_code == 1 and "exists already" in result.output
    missing = tmp_path / "none.json"
    args = ["export", "--db", harness.db_url, "--case", "C-2026-9999", "--output", str(missing)]
    result = await asyncio.to_thread(runner.invoke, main, args)
    assert result.exit_code == 1 and "no case C-2026-9999" in result.output
    assert not missing.exists()
    async with harness.app.sessions() as session:
        entries = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "export")))
    assert [(e.actor_id, e.case_ref, e.outcome) for e in entries] == [(None, ref, "ok")]  # the refusal: none


async def test_the_console_writes_each_file_it_sends_and_prints_where(tmp_path: Path) -> None:
    out = io.StringIO()
    console = ConsoleAdapter(out, "run", tmp_path / "files")
    effect = SendFile("C-2026-0001-2026-11-23.json", "application/json", base64.b64encode(b"{}").decode())
    await console.deliver("dm:alice", effect, "1")
    await console.deliver("dm:alice", SendFile(effect.name, effect.mimetype, effect.data, "again"), "2")
    first, second = tmp_path / "files" / effect.name, tmp_path / "files" / "C-2026-0001-2026-11-23-2.json"
    assert first.read_bytes() == b"{}" and second.read_bytes() == b"{}"  # an earlier file is kept
    assert out.getvalue().splitlines() == [
        f"[dm:alice] * file {first}",
        f"[dm:alice] * file {second} — again",
    ]
