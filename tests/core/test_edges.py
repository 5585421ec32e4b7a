"""Edges found by trying to break the core as an attacker and as a hurried user would: each of these once
crashed a handler, guessed instead of refusing, or let something through that the rules forbid."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

from bot.adapters.console import NETWORK
from bot.domain.events import ReactionAdded
from bot.storage import models
from tests.harness import Harness

CRASH = "could not process your message"


async def test_a_date_at_the_end_of_the_calendar_is_refused_not_stored(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    await harness.one("carol", "!tz America/Los_Angeles")
    before = await harness.snapshot()
    # 23:30 UTC on 31/12/9999 is in the year 10000 for a reader in Paris: it could never be shown.
    assert "too far ahead" in await harness.one("carol", "!remind me 31/12/9999 15:30 x", ref)
    assert "too far ahead" in await harness.one("alice", "!plan add Far owner bob due 31/12/9999 23:00", ref)
    assert "too far ahead" in await harness.one("alice", "!review on 2200-01-01", ref)
    assert await harness.snapshot() == before
    assert CRASH not in await harness.one("alice", "!reminders", ref)


async def test_a_time_zone_must_be_one_of_the_database(harness: Harness) -> None:
    for name in ("America/Argentina", "posix/Europe/Paris", "right/UTC"):
        assert "is not a time zone" in await harness.one("alice", f"!tz {name}"), name
    assert "Europe/Zurich" in await harness.one("alice", "!tz Europe/Zurich")


async def test_a_number_too_long_to_be_a_count_is_refused_not_rounded(harness: Harness) -> None:
    ref = await harness.open_case()
    for text in (
        "!remind carers in 12345678901 seconds x",
        "!remind carers in 99999999999999999999 minutes x",
    ):
        answer = await harness.one("alice", text, ref)
        assert "set for" not in answer and CRASH not in answer, answer


async def test_an_intake_started_in_a_group_can_be_answered_and_stopped(harness: Harness) -> None:
    harness.app.services.networks[NETWORK.name] = replace(NETWORK, creates_rooms=False)
    assert "What short label" in await harness.one("alice", "!case open", "group-1")
    assert "Which language" in await harness.one("alice", "Family K", "group-1")
    assert "Stopped" in await harness.one("alice", "!stop", "group-1")
    assert await harness.count(models.Dialog) == 0
    assert await harness.say("bob", "hello", "group-1") == []  # others' talk there is still not for the bot


async def test_someone_who_still_owns_items_cannot_come_back_as_an_observer(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    await harness.one("alice", "!plan add Wound care owner bob due in 3 days", ref)
    await harness.say("alice", "!remove bob", ref)
    answer = await harness.one("alice", "!invite bob as observer", ref)
    assert "still owns open plan items (#1)" in answer
    await harness.one("alice", "!plan edit 1 owner carol", ref)
    assert "I invited bob as observer" in (await harness.say("alice", "!invite bob as observer", ref))[0].text


async def test_no_due_day_follow_up_for_an_owner_who_left(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    await harness.one("alice", "!plan add Wound care owner bob due in 3 days", ref)
    await harness.say("alice", "!remove bob", ref)
    answer = await harness.one("alice", "!plan edit 1 due in 2 days", ref)
    assert "owner: bob (no longer a member: reassign it)" in answer
    assert "due date of #1" not in await harness.one("alice", "!reminders", ref)
    assert await harness.advance(timedelta(days=2)) == []


async def test_a_snoozed_due_day_follow_up_stays_snoozed(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    await harness.one("alice", "!plan add Wound care owner bob due in 2 days", ref)
    assert "moved to" in await harness.one("bob", "!snooze 1 in 5 days", ref)
    await harness.one("bob", "!plan start 1", ref)
    assert await harness.advance(timedelta(days=2)) == []
    fired = await harness.advance(timedelta(days=3))
    assert len(fired) == 1 and "#1 “Wound care”" in fired[0].text
    # A new due date is a new follow-up.
    await harness.one("alice", "!plan edit 1 due in 2 days", ref)
    assert len(await harness.advance(timedelta(days=2))) == 1


async def test_an_observer_does_not_acknowledge_reminders(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    await harness.one("alice", "!remind carers in 1 hour call the pharmacy", ref)
    first = (await harness.advance(timedelta(hours=1)))[0].event_id
    assert first is not None
    await harness.event(ReactionAdded("console", uuid.uuid4().hex, ref, "olga", first, "✅"))
    assert "acknowledged" not in await harness.one("alice", "!history", ref)


async def test_the_date_reader_refuses_what_it_would_have_to_guess(harness: Harness) -> None:
    ref = await harness.open_case()
    assert "Tue, Nov 24, 2026, 9:30 AM: “physio”" in await harness.one(
        "alice", "!remind carers tomorrow 9.30 physio", ref
    )
    for text in (
        "!remind carers tomorrow afternoon at 11 physio",
        "!remind carers this evening at 12 physio",
        "!remind carers tomorrow morning at 3 pm physio",
        "!remind carers every monday and thursday 9:00 physio",
        "!remind carers every monday, thursday physio",
    ):
        assert "set for" not in await harness.one("alice", text, ref), text
    assert "8:00 PM" in await harness.one("alice", "!remind carers this evening at 8 physio", ref)


async def test_a_daily_reminder_without_a_time_comes_at_nine(harness: Harness) -> None:
    ref = await harness.open_case()
    harness.clock.advance(timedelta(minutes=23, seconds=17))
    answer = await harness.one("alice", "!remind carers every day check the fridge", ref)
    assert "Tue, Nov 24, 2026, 9:00 AM" in answer


async def test_a_keyword_with_an_unreadable_value_is_refused_with_the_way_to_keep_it(
    harness: Harness,
) -> None:
    ref = await harness.open_case()
    answer = await harness.one("alice", "!plan add Home help due to a fall", ref)
    assert "If “due” is part of the text, put the text in quotes" in answer
    assert "added" in await harness.one("alice", '!plan add "Home help due to a fall"', ref)


async def test_invisible_fillers_and_tags_are_refused(harness: Harness) -> None:
    ref = await harness.open_case()
    for text in ("!log \u3164", "!log hi\U000e0041", "!log a\u034fb", "!log \u2800"):
        assert "Nothing was changed" in await harness.one("alice", text, ref), repr(text)
    # Direction marks cannot reorder a line, and right-to-left writers need them.
    assert "Logged" in await harness.one("alice", "!log a\u200fb", ref)
