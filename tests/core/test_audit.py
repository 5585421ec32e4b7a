"""The audit trail: what is recorded for commands, answers, acknowledgements and membership changes, in the
transaction of what it records; the hash chain that reveals an edited, deleted or inserted row; `!audit`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import audit, cases
from bot.core.context import DONE, SNOOZE, Ctx
from bot.domain.events import ButtonPressed, JoinRequested, MemberLeft, ReactionAdded
from bot.domain.model import CaseStatus
from bot.storage.db import create_engine, session_factory
from bot.storage.models import AuditEntry, AuditHead, Case, User
from bot.storage.repo import Repo
from tests.conftest import START
from tests.harness import Harness


def _id() -> str:
    return uuid.uuid4().hex


async def trail(h: Harness) -> list[AuditEntry]:
    async with h.app.sessions() as session:
        return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


async def user_id(h: Harness, handle: str) -> int:
    async with h.app.sessions() as session:
        found = await session.scalar(select(User.id).where(User.handle == handle))
    assert found is not None, handle
    return found


async def case_row(h: Harness, ref: str) -> Case:
    async with h.app.sessions() as session:
        case = await session.scalar(select(Case).where(Case.ref == ref))
    assert case is not None
    return case


async def new_entries(h: Harness, action: Callable[[], Awaitable[object]]) -> list[AuditEntry]:
    """The entries that doing `action` appended."""
    before = len(await trail(h))
    await action()
    return (await trail(h))[before:]


def only(entries: list[AuditEntry], action: str) -> AuditEntry:
    found = [e for e in entries if e.action == action]
    assert len(found) == 1, [(e.action, e.outcome) for e in entries]
    return found[0]


async def test_commands_are_recorded_with_their_outcome(harness: Harness) -> None:
    h = harness
    opened = await new_entries(h, lambda: h.open_case())
    ref = opened[0].case_ref
    assert ref is not None
    case = await case_row(h, ref)
    alice = await user_id(h, "alice")
    entry = only(opened, "case open")  # written in the direct chat: the case it opened is named
    assert (entry.outcome, entry.actor_id, entry.case_id, entry.network, entry.at) == (
        "ok",
        alice,
        case.id,
        "console",
        h.clock.now(),
    )
    await h.team(ref)

    ok = only(await new_entries(h, lambda: h.say("alice", "!plan add Home help owner bob", ref)), "plan add")
    assert (ok.outcome, ok.actor_id, ok.case_id, ok.case_ref) == ("ok", alice, case.id, ref)

    refused = only(await new_entries(h, lambda: h.say("carol", "!invite eve as carer", ref)), "invite")
    assert (refused.outcome, refused.actor_id, refused.case_id) == (
        "refused",
        await user_id(h, "carol"),
        case.id,
    )

    usage = only(await new_entries(h, lambda: h.say("alice", "!plan done abc", ref)), "plan done")
    assert usage.outcome == "invalid"
    unknown_item = only(await new_entries(h, lambda: h.say("alice", "!plan done 99", ref)), "plan done")
    assert unknown_item.outcome == "invalid"

    assert await new_entries(h, lambda: h.say("alice", "!frobnicate", ref)) == []
    assert await new_entries(h, lambda: h.say("bob", "just talking", ref)) == []

    # From the direct chat, a command about a case (its only one) is recorded against that case.
    cancel = only(await new_entries(h, lambda: h.say("bob", "!cancel 99")), "cancel")
    assert (cancel.outcome, cancel.case_id, cancel.case_ref) == ("invalid", case.id, ref)
    probe = only(await new_entries(h, lambda: h.say("mallory", f"!cancel {ref} 1")), "cancel")
    assert (probe.outcome, probe.case_id, probe.actor_id) == ("refused", case.id, await user_id(h, "mallory"))
    direct_help = only(await new_entries(h, lambda: h.say("bob", "!help")), "help")
    assert (direct_help.outcome, direct_help.case_id, direct_help.case_ref) == ("ok", None, None)


async def test_dialog_answers_are_recorded_under_the_command_that_started_them(harness: Harness) -> None:
    h = harness
    for said in ("!case open", "Mr K at home", "klingon", "fr", "none"):
        await h.say("alice", said)
    entries = [e for e in await trail(h) if e.action.startswith("case open")]
    assert [(e.action, e.outcome) for e in entries] == [
        ("case open", "ok"),
        ("case open.answer", "ok"),
        ("case open.answer", "invalid"),
        ("case open.answer", "ok"),
        ("case open.answer", "ok"),
    ]
    # The last answer opened the case: its entry names it.
    assert [e.case_ref for e in entries] == [None, None, None, None, "C-2026-0001"]
    case = await case_row(h, "C-2026-0001")
    assert entries[-1].case_id == case.id


async def test_membership_changes_are_recorded(harness: Harness) -> None:
    h = harness
    ref = await h.open_case()
    alice = await user_id(h, "alice")
    await h.consent(ref, "team", "carers")  # Home nursing is another organisation than alice's
    invited = await new_entries(
        h, lambda: h.say("alice", "!invite bob as professional from Home nursing", ref)
    )
    bob = await user_id(h, "bob")
    assert [(e.action, e.actor_id) for e in invited if e.action.startswith("member.")] == [
        ("member.invited", alice),
        ("member.joined", bob),
    ]
    assert only(invited, "invite").outcome == "ok"
    await h.say("alice", "!invite carol as carer", ref)
    carol = await user_id(h, "carol")
    removed = await new_entries(h, lambda: h.say("alice", "!remove bob", ref))
    entry = only(removed, "member.removed")
    assert (entry.actor_id, entry.case_ref) == (alice, ref)
    left = await new_entries(h, lambda: h.event(MemberLeft("console", _id(), ref, "carol")))
    assert [(e.action, e.actor_id) for e in left] == [("member.left", carol)]


async def test_acknowledgements_snoozes_and_join_requests_are_recorded(harness: Harness) -> None:
    h = harness
    ref = await h.open_case()
    await h.team(ref)
    carol, olga = await user_id(h, "carol"), await user_id(h, "olga")
    await h.one("alice", "!remind carers in 1 hour call the pharmacy", ref)
    await h.one("alice", "!remind carers in 2 hours buy bread", ref)
    fired = await h.advance(timedelta(hours=2))
    first = next(m.event_id for m in fired if "pharmacy" in m.text)
    second = next(m.event_id for m in fired if "bread" in m.text)
    assert first is not None and second is not None

    observed = await new_entries(
        h, lambda: h.event(ReactionAdded("console", _id(), ref, "olga", first, "✅"))
    )
    assert [(e.action, e.outcome, e.actor_id) for e in observed] == [("ack.reaction", "refused", olga)]
    acked = await new_entries(h, lambda: h.event(ReactionAdded("console", _id(), ref, "carol", first, "✅")))
    assert [(e.action, e.outcome, e.actor_id) for e in acked] == [("ack.reaction", "ok", carol)]

    pressed = await new_entries(
        h, lambda: h.event(ButtonPressed("console", _id(), ref, "carol", second, SNOOZE))
    )
    assert [(e.action, e.outcome) for e in pressed] == [("snooze.button", "ok")]
    pressed = await new_entries(
        h, lambda: h.event(ButtonPressed("console", _id(), ref, "carol", second, DONE))
    )
    assert [(e.action, e.outcome) for e in pressed] == [("ack.button", "ok")]

    asked = await new_entries(
        h, lambda: h.event(JoinRequested("console", _id(), ref, "stranger", "Eve Stranger", "link"))
    )
    entry = only(asked, "member.join_request")
    assert (entry.outcome, entry.actor_id, entry.case_ref) == ("refused", None, ref)


async def test_a_command_that_fails_leaves_no_ok_entry_only_its_failure(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    ref = await h.open_case()
    await h.team(ref)
    real_close = cases.close

    async def close_then_crash(ctx: Ctx, reason: str) -> None:
        await real_close(ctx, reason)
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(cases, "close", close_then_crash)
    entries = await new_entries(h, lambda: h.say("alice", "!close moved away", ref))
    # Tried until quarantined: each try rolled back with its entry; the quarantine is recorded once.
    assert [(e.action, e.outcome) for e in entries] == [("close", "failed")]
    assert entries[0].case_ref == ref and entries[0].actor_id == await user_id(h, "alice")
    assert (await case_row(h, ref)).status == CaseStatus.OPEN


async def test_the_trail_holds_no_names_handles_or_texts(harness: Harness) -> None:
    h = harness
    ref = await h.open_case("Mrs Dumont at home")
    await h.team(ref)
    await h.say("alice", "!plan add Wound dressing twice weekly owner bob", ref)
    await h.say("alice", "!need add health Pressure ulcer on the heel", ref)
    await h.say("bob", "!log Dressed the wound, healing well", ref)
    await h.say("dora", "!plan", ref)
    await h.say("alice", "!remove olga", ref)
    await h.say("mallory", "!plan", ref)
    secrets = ["Dumont", "Wound", "wound", "Pressure", "healing", "Home nursing", "District"]
    handles = ["alice", "bob", "carol", "dora", "olga", "mallory"]
    async with h.app.sessions() as session:
        rows = (await session.execute(select(AuditEntry.__table__))).all()
    assert len(rows) > 20
    for row in rows:
        for value in row:
            shown = str(value)
            assert not any(word in shown for word in secrets + handles), (row, shown)


# -- the chain -------------------------------------------------------------------------------------------


async def _sql(h: Harness, statement: str, **values: object) -> None:
    async with h.app.sessions.begin() as session:
        await session.execute(text(statement), values)


async def _row(session: AsyncSession, entry_id: int) -> AuditEntry:
    entry = await session.get(AuditEntry, entry_id)
    assert entry is not None
    return entry


async def _insert_plausible(h: Harness, entry_id: int, prev_hash: str) -> None:
    """A made-up entry whose hash is right for its place: what someone who read the code would insert."""
    at = h.clock.now()
    digest = audit.entry_hash(prev_hash, entry_id, at, "console", 1, 1, "C-2026-0001", "plan", "ok")
    async with h.app.sessions.begin() as session:
        session.add(
            AuditEntry(
                id=entry_id,
                at=at,
                network="console",
                actor_id=1,
                case_id=1,
                case_ref="C-2026-0001",
                action="plan",
                outcome="ok",
                prev_hash=prev_hash,
                hash=digest,
            )
        )


async def _some_entries(h: Harness) -> int:
    ref = await h.open_case()
    await h.team(ref)
    await h.say("alice", "!plan add Home help owner bob", ref)
    entries = await trail(h)
    assert len(entries) >= 12
    return len(entries)


async def _edit(h: Harness, n: int) -> int:
    await _sql(h, "UPDATE audit_log SET outcome = 'refused' WHERE id = 5")
    return 5


async def _edit_and_rehash(h: Harness, n: int) -> int:
    async with h.app.sessions.begin() as session:
        row = await _row(session, 6)
        row.outcome = "refused"
        row.hash = audit.entry_hash(
            row.prev_hash,
            6,
            row.at,
            row.network,
            row.actor_id,
            row.case_id,
            row.case_ref,
            row.action,
            "refused",
        )
    return 6


async def _delete_middle(h: Harness, n: int) -> int:
    await _sql(h, "DELETE FROM audit_log WHERE id = 7")
    return 7


async def _delete_last(h: Harness, n: int) -> int:
    await _sql(h, "DELETE FROM audit_log WHERE id = :id", id=n)
    return n


async def _insert_at_end(h: Harness, n: int) -> int:
    async with h.app.sessions() as session:
        last = await _row(session, n)
    await _insert_plausible(h, n + 1, last.hash)
    return n + 1


async def _insert_in_the_middle(h: Harness, n: int) -> int:
    """Make room at 4 by moving the later entries up one, and put a plausible entry there."""
    await _sql(h, "UPDATE audit_log SET id = -id WHERE id >= 4")
    await _sql(h, "UPDATE audit_log SET id = 1 - id WHERE id < 0")
    async with h.app.sessions() as session:
        third = await _row(session, 3)
    await _insert_plausible(h, 4, third.hash)
    return 4


async def _delete_and_renumber(h: Harness, n: int) -> int:
    await _sql(h, "DELETE FROM audit_log WHERE id = 8")
    await _sql(h, "UPDATE audit_log SET id = -id WHERE id > 8")
    await _sql(h, "UPDATE audit_log SET id = -id - 1 WHERE id < 0")
    await _sql(h, "UPDATE audit_head SET last_id = last_id - 1")
    return 8


TAMPERING: dict[str, tuple[Callable[[Harness, int], Awaitable[int]], str]] = {
    "edited": (_edit, "does not match its hash"),
    "edited and rehashed": (_edit_and_rehash, "hash recomputed"),
    "deleted in the middle": (_delete_middle, "missing"),
    "deleted last": (_delete_last, "missing"),
    "inserted at the end": (_insert_at_end, "added by hand"),
    "inserted in the middle": (_insert_in_the_middle, "inserted"),
    "deleted and renumbered": (_delete_and_renumber, "does not link"),
}


async def test_an_intact_trail_verifies(harness: Harness) -> None:
    n = await _some_entries(harness)
    result = await audit.verify(harness.app.sessions, batch=5)  # several batches
    async with harness.app.sessions() as session:
        head = await session.get(AuditHead, audit.HEAD_ID)
    assert head is not None
    assert (result.entries, result.head_hash, result.broken) == (n, head.hash, None)


@pytest.mark.parametrize("tampering", list(TAMPERING))
async def test_the_chain_names_the_first_broken_entry(harness: Harness, tampering: str) -> None:
    n = await _some_entries(harness)
    tamper, why = TAMPERING[tampering]
    broken_at = await tamper(harness, n)
    result = await audit.verify(harness.app.sessions, batch=5)
    assert result.broken is not None, tampering
    assert result.broken.entry_id == broken_at, result.broken
    assert why in result.broken.reason
    assert result.entries == broken_at - 1


async def test_a_missing_head_stops_appending_and_is_reported(harness: Harness) -> None:
    await _some_entries(harness)
    await _sql(harness, "DELETE FROM audit_head")
    assert (await audit.verify(harness.app.sessions)).broken is not None
    async with harness.app.sessions.begin() as session:
        with pytest.raises(audit.AuditError):
            await audit.record(Repo(session), at=harness.clock.now(), action="plan")


async def test_entries_appended_while_verifying_are_not_a_break(harness: Harness) -> None:
    """The bot keeps writing while an operator verifies: an entry appended between two batches, or between
    the walk and the reading of the head, is walked to, not reported as a break."""
    h = harness
    await _some_entries(h)

    class Appending:
        """Each of verify's transactions starts after the bot appended one more entry."""

        def __init__(self) -> None:
            self.appended = 0

        @asynccontextmanager
        async def begin(self) -> AsyncIterator[AsyncSession]:
            if self.appended < 10:
                async with h.app.sessions.begin() as session:
                    await audit.record(Repo(session), at=h.clock.now(), action="plan")
                self.appended += 1
            async with h.app.sessions.begin() as session:
                yield session

    appending = Appending()
    result = await audit.verify(appending, batch=4)
    assert appending.appended == 10
    assert result.broken is None
    assert result.entries == len(await trail(h))


async def test_concurrent_appends_are_numbered_without_gaps(db_url: str) -> None:
    """Two sessions append at once, each holding its transaction open across a pause so the other must
    wait for the head: the ids run 1..n without gaps and the chain verifies. One of them keeps its session
    across transactions, as a long-lived worker would."""
    engine = create_engine(db_url)
    sessions = session_factory(engine)

    async def fresh_sessions(k: int) -> None:
        for i in range(k):
            async with sessions.begin() as session:
                await audit.record(Repo(session), at=START, action="plan", actor_id=i)
                await asyncio.sleep(0)

    async def one_session(k: int) -> None:
        session = sessions()
        try:
            for i in range(k):
                async with session.begin():
                    await audit.record(Repo(session), at=START, action="history", actor_id=i)
                    await asyncio.sleep(0)
        finally:
            await session.close()

    try:
        await asyncio.gather(fresh_sessions(40), one_session(40), fresh_sessions(40))
        async with sessions() as session:
            ids = list(await session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))
        assert ids == list(range(1, 121))
        result = await audit.verify(sessions)
        assert (result.entries, result.broken) == (120, None)
    finally:
        await engine.dispose()


async def test_an_action_too_long_for_its_column_is_refused_not_cut(harness: Harness) -> None:
    async with harness.app.sessions.begin() as session:
        with pytest.raises(ValueError, match="longer than"):
            await audit.record(Repo(session), at=harness.clock.now(), action="x" * 49)


# -- !audit ----------------------------------------------------------------------------------------------


async def test_audit_shows_the_case_managers_the_last_entries(harness: Harness) -> None:
    h = harness
    ref = await h.open_case()
    await h.team(ref)
    for _ in range(5):
        await h.say("dora", "!members", ref)
    await h.say("alice", "!plan add Home help owner bob", ref)
    await h.say("carol", "!close now", ref)
    shown = await h.one("alice", "!audit", ref)
    lines = shown.splitlines()
    assert lines[0] == f"Audit trail of case {ref}, newest last:"
    recorded = [e for e in await trail(h) if e.case_ref == ref]
    assert len(recorded) > 20 and len(lines) == 1 + 20
    # Newest last, each: time in the reader's zone (Paris: 10:00 for 09:00 UTC) · who · action · outcome.
    assert lines[-1].endswith("· carol · close · refused"), lines[-1]
    assert lines[-2].endswith("· alice · plan add · done"), lines[-2]
    assert ", 10:00 AM ·" in lines[-1]
    assert "Home help" not in shown
    three = (await h.one("alice", "!audit 3", ref)).splitlines()
    assert three[1:] == [*lines[-2:], three[-1]] and three[-1].endswith("· alice · audit · done")
    await h.one("alice", "!tz America/New_York", ref)
    assert ", 4:00 AM ·" in (await h.one("alice", "!audit 1", ref)).splitlines()[1]


async def test_audit_names_people_as_they_are_now(harness: Harness) -> None:
    h = harness
    ref = await h.open_case()
    case = await case_row(h, ref)
    async with h.app.sessions.begin() as session:
        await audit.record(
            Repo(session), at=h.clock.now(), action="plan", actor_id=999_999, case_id=case.id, case_ref=ref
        )
        user = await session.scalar(select(User).where(User.handle == "alice"))
        assert user is not None
        user.display_name = "Alice Martin"
    lines = (await h.one("alice", "!audit 2", ref)).splitlines()
    assert lines[1].endswith("· Alice Martin · member.joined · done"), lines
    assert lines[2].endswith("· someone · plan · done"), lines


async def test_audit_never_shows_an_erased_case_or_person_whose_numbers_came_back(harness: Harness) -> None:
    """On SQLite a new row can take the number of an erased one: the entries of the erased case (another
    reference) are not this case's, and an entry written before a user existed is not theirs."""
    h = harness
    ref = await h.open_case()
    case = await case_row(h, ref)
    alice = await user_id(h, "alice")
    async with h.app.sessions.begin() as session:
        for action in ("plan add", "case.erased"):
            await audit.record(
                Repo(session),
                at=h.clock.now(),
                action=action,
                actor_id=alice,
                case_id=case.id,
                case_ref="C-2025-0042",
            )
        await audit.record(
            Repo(session),
            at=h.clock.now() - timedelta(days=400),
            action="members",
            actor_id=alice,
            case_id=case.id,
            case_ref=ref,
        )
    shown = await h.one("alice", "!audit 200", ref)
    assert "case.erased" not in shown and "plan add" not in shown
    assert "· someone · members · done" in shown and "· alice · members" not in shown


async def test_audit_is_for_case_managers_only_open_or_closed(harness: Harness) -> None:
    h = harness
    ref = await h.open_case()
    await h.team(ref)
    for who in ("bob", "carol", "dora", "olga"):
        answer = await h.one(who, "!audit", ref)
        assert "cannot use !audit" in answer and "Audit trail" not in answer
    assert any("not a member of case" in m.text for m in await h.say("mallory", "!audit", ref))
    assert "works in a case room" in await h.one("alice", "!audit")
    await h.say("alice", "!close moved away", ref)
    assert (await h.one("alice", "!audit", ref)).startswith(f"Audit trail of case {ref}")
    assert "cannot use !audit" in await h.one("bob", "!audit", ref)


@pytest.mark.parametrize("argument", ["0", "201", "-3", "many"])
async def test_audit_with_a_bad_number_says_what_it_expects(harness: Harness, argument: str) -> None:
    h = harness
    ref = await h.open_case()
    before = await trail(h)
    answer = await h.one("alice", f"!audit {argument}", ref)
    assert "Usage: !audit [<n>]" in answer
    assert "Audit trail" not in answer
    after = await trail(h)
    assert [(e.action, e.outcome) for e in after[len(before) :]] == [("audit", "invalid")]
