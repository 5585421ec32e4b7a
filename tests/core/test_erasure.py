"""Erasing a closed case (GDPR art. 17): a rich case built as people would build it, closed, erased; then
every column of every table is searched for what named its people and their plans.

The search walks `Base.metadata`, so a table added later that keeps a case's data after erasure makes
these tests fail.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from bot.adapters.console import NETWORK
from bot.cli import main
from bot.core import audit
from bot.core.erasure import ERASED, NotErasable, erase_case
from bot.storage import models
from bot.storage.repo import Repo
from tests.harness import CASE_MANAGERS, Harness

# What names the case's people, their plans and their lives: none of it may survive the erasure.
PERSONAL = [
    "Mrs D at home",
    "carol",
    "dora",
    "olga",
    "Dora Dupont",
    "District council",
    "Home nursing",
    "Diabetes follow-up",
    "Lives alone, stairs",
    "Home nurse visits",
    "Apply for allowance",
    "Visit done, glucose fine",
    "Drove her to the pharmacy",
    "bring the medication list",
    "call the insurance",
    "case conference at 10",
    "moved to a care home",
    "paper form signed",
]


async def rich_case(h: Harness) -> tuple[str, str]:
    """Case 1 with everything a case can hold, closed; case 2 (still open) shares bob. Returns the refs."""
    ref = await h.open_case("Mrs D at home")
    await h.team(ref)
    async with h.app.sessions.begin() as session:
        dora = await Repo(session).user(NETWORK.name, "dora")
        assert dora is not None
        dora.display_name = "Dora Dupont"
    await h.say("alice", "!need add health Diabetes follow-up", ref)
    await h.say("alice", "!need add housing Lives alone, stairs", ref)
    await h.say("alice", "!plan add Home nurse visits owner bob every day 8:00 need 1", ref)
    await h.say("alice", "!plan add Apply for allowance owner carol due tomorrow 9:00", ref)
    await h.say("bob", "!log #1 Visit done, glucose fine", ref)
    await h.say("carol", "!log Drove her to the pharmacy", ref)
    await h.say("alice", "!remind carers in 2 hours bring the medication list", ref)
    await h.say("carol", "!remind me in 3 days call the insurance", ref)
    await h.say("alice", "!remind room in 5 days case conference at 10", ref)
    await h.say("dora", "!help")  # a direct chat of the person with the bot
    fired = await h.advance(timedelta(hours=3))
    assert any("bring the medication list" in m.text for m in fired)
    other = await h.open_case("Family K")
    await h.say("alice", "!invite bob as professional", other)
    await h.say("alice", "!plan add School meeting owner bob due tomorrow 9:00", other)
    await h.say("alice", "!review start", ref)  # a dialog in the case room
    async with h.app.sessions.begin() as session:
        repo = Repo(session)
        case = await repo.case_by_ref(ref)
        assert case is not None
        members = {u.handle: m for m, u in await repo.members(case.id)}
        alice, bob = await repo.user(NETWORK.name, "alice"), await repo.user(NETWORK.name, "bob")
        assert alice is not None and bob is not None and dora is not None
        now = h.clock.now()
        session.add(
            models.ConsentRecord(
                case_id=case.id,
                scope="carers",
                given=True,
                how="paper form signed",
                recorded_by=alice.id,
                recorded_at=now,
            )
        )
        session.add(
            models.Invitation(
                token_hash="0" * 64,
                case_id=case.id,
                member_id=members["dora"].id,
                created_by=alice.id,
                created_at=now,
                expires_at=now + timedelta(days=1),
            )
        )
        # bob, who stays, in the middle of a dialog about the case in his direct chat.
        session.add(
            models.Dialog(
                network=NETWORK.name,
                room_id="dm:bob",
                user_id=bob.id,
                name="welcome",
                state="language",
                data={"ref": ref, "member_id": members["bob"].id},
                expires_at=now + timedelta(days=1),
            )
        )
    answer = await h.say("alice", "!close moved to a care home", ref)
    assert any("is closed" in m.text for m in answer)
    return ref, other


async def dump(h: Harness) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, by raw SQL."""
    tables: dict[str, list[dict[str, Any]]] = {}
    async with h.app.sessions() as session:
        for table in models.Base.metadata.sorted_tables:
            result = await session.execute(text(f'SELECT * FROM "{table.name}"'))
            tables[table.name] = [dict(row._mapping) for row in result]
    return tables


def as_text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def found(tables: dict[str, list[dict[str, Any]]], needles: list[str]) -> list[str]:
    hits = []
    for name, rows in tables.items():
        for row in rows:
            for column, value in row.items():
                if value is None:
                    continue
                shown = as_text(value).casefold()
                # JSON kept as text may escape what is not ASCII.
                shown += " " + json.dumps(as_text(value)).casefold()
                hits += [f"{name}.{column}: {n}" for n in needles if n.casefold() in shown]
    return hits


async def case_rows(h: Harness, ref: str) -> dict[str, list[tuple[object, ...]]]:
    """The rows of one case, by table, in a comparable form."""
    snapshot = await h.snapshot()
    async with h.app.sessions() as session:
        case = await Repo(session).case_by_ref(ref)
        assert case is not None
        case_id = case.id
    index = {t.name: t for t in models.Base.metadata.sorted_tables}
    kept: dict[str, list[tuple[object, ...]]] = {}
    for name, rows in snapshot.items():
        columns = [c.key for c in index[name].columns]
        if name == "cases":
            kept[name] = [r for r in rows if r[columns.index("id")] == case_id]
        elif "case_id" in columns:
            kept[name] = [r for r in rows if r[columns.index("case_id")] == case_id]
    return kept


async def test_erasure_leaves_nothing_personal_in_any_table(harness: Harness) -> None:
    h = harness
    ref, other = await rich_case(h)
    before = await dump(h)
    assert found(before, PERSONAL), "the scan finds nothing even before erasure"
    assert all(found(before, [needle]) for needle in PERSONAL), [
        n for n in PERSONAL if not found(before, [n])
    ]
    other_before = await case_rows(h, other)
    async with h.app.sessions.begin() as session:
        done = await erase_case(Repo(session), ref, h.clock.now(), CASE_MANAGERS)
    assert done.users == 3  # carol, dora, olga: bob is in the other case, alice a case manager
    assert done.redact > 0 and done.members == 5
    await h.app.flush()
    assert "* case erased" in h.adapter.buffer.getvalue()

    after = await dump(h)
    assert found(after, PERSONAL) == []
    assert after["cases"] and all(row["ref"] != ref for row in after["cases"])
    handles = {row["handle"] for row in after["users"]}
    assert handles == {"alice", "bob"}
    # The other case is as it was, and works.
    assert await case_rows(h, other) == other_before
    assert "School meeting" in await h.one("bob", "!plan", other)
    # The audit keeps that the case existed and was erased, and nothing more.
    entries = [row for row in after["audit_log"] if row["action"] == ERASED]
    assert len(entries) == 1
    assert entries[0]["case_ref"] == ref and entries[0]["actor_id"] is None
    verified = await audit.verify(h.app.sessions)
    assert verified.broken is None and verified.entries >= len(after["audit_log"])
    # Nothing of the case is left to send; what was sent about it is empty or gone.
    assert all(row["sent_at"] is not None for row in after["outbox"])


async def test_an_open_case_is_refused_and_unchanged(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    await harness.say("alice", "!plan add Home nurse visits owner bob every day 8:00", ref)
    before = await dump(harness)
    async with harness.app.sessions.begin() as session:
        with pytest.raises(NotErasable, match=r"open.*!close"):
            await erase_case(Repo(session), ref, harness.clock.now(), CASE_MANAGERS)
    assert await dump(harness) == before
    async with harness.app.sessions.begin() as session:
        with pytest.raises(NotErasable, match="no case C-2026-0099"):
            await erase_case(Repo(session), "C-2026-0099", harness.clock.now(), CASE_MANAGERS)


async def test_an_erased_case_is_not_erased_twice_and_its_room_is_unknown(harness: Harness) -> None:
    h = harness
    ref = await h.open_case()
    await h.team(ref)
    await h.say("alice", "!close done", ref)
    async with h.app.sessions.begin() as session:
        await erase_case(Repo(session), ref, h.clock.now(), CASE_MANAGERS)
    await h.app.flush()
    async with h.app.sessions.begin() as session:
        with pytest.raises(NotErasable):
            await erase_case(Repo(session), ref, h.clock.now(), CASE_MANAGERS)
    # Someone still writing in the old room is not taken for a member of anything.
    answer = await h.say("dora", "!plan", ref)
    assert all("Mrs D" not in m.text for m in answer)


# --- the command line -----------------------------------------------------------------------------


async def _two_cases(db_url: str) -> tuple[str, str]:
    """An open case and a closed one, each with a team (one harness: its console ids are per run)."""
    from tests.conftest import START

    h = await Harness.create(db_url, START)
    try:
        still_open = await h.open_case()
        await h.team(still_open)
        closed = await h.open_case("Family K")
        await h.team(closed)
        await h.say("alice", "!close done", closed)
        return still_open, closed
    finally:
        await h.close()


async def _count_cases(db_url: str) -> int:
    from bot.storage.db import open_database

    engine = await open_database(db_url)
    try:
        async with engine.connect() as connection:
            return len(list(await connection.execute(select(models.Case.id))))
    finally:
        await engine.dispose()


def test_cli_erase_asks_for_the_reference_then_erases(db_url: str) -> None:
    _open, ref = asyncio.run(_two_cases(db_url))
    runner = CliRunner()
    wrong = runner.invoke(main, ["erase", "--case", ref, "--db", db_url], input="C-2026-0001\n")
    assert wrong.exit_code == 1 and "not erased" in wrong.output
    assert asyncio.run(_count_cases(db_url)) == 2
    right = runner.invoke(main, ["erase", "--case", ref, "--db", db_url], input=f"{ref}\n")
    assert right.exit_code == 0, right.output
    assert "Type the case's reference" in right.output
    assert f"case {ref} erased" in right.output and "running bot" in right.output
    assert asyncio.run(_count_cases(db_url)) == 1
    again = runner.invoke(main, ["erase", "--case", ref, "--db", db_url, "--yes"])
    assert again.exit_code == 1 and f"no case {ref}" in again.output


def test_cli_erase_refuses_an_open_case_and_yes_skips_the_question(db_url: str) -> None:
    ref, closed = asyncio.run(_two_cases(db_url))
    runner = CliRunner()
    refused = runner.invoke(main, ["erase", "--case", ref, "--db", db_url, "--yes"])
    assert refused.exit_code == 1
    assert "is open" in refused.output and "!close" in refused.output
    assert asyncio.run(_count_cases(db_url)) == 2
    done = runner.invoke(main, ["erase", "--case", closed, "--db", db_url, "--yes"])
    assert done.exit_code == 0, done.output
    assert "Type the case's reference" not in done.output
    assert asyncio.run(_count_cases(db_url)) == 1
