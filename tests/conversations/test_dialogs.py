"""The intake and the plan review walk-through, as a case manager goes through them."""

from __future__ import annotations

from datetime import timedelta

from bot.storage import models
from tests.harness import Harness


async def test_intake_opens_a_case_in_the_persons_language_with_a_review_cycle(harness: Harness) -> None:
    assert "What short label" in await harness.one("alice", "!case open")
    assert "Which language" in await harness.one("alice", "Family K")
    assert "How often" in await harness.one("alice", "fr")
    messages = await harness.say("alice", "3 months")
    answer = next(m.text for m in messages if m.room == "dm:alice")
    assert "Case C-2026-0001 is open: “Family K”" in answer
    assert "Reviews every 3 months; the next one is on Tue, Feb 23, 2027" in answer
    # Room messages are in the person's language from the start.
    closing = await harness.say("alice", "!close test", "C-2026-0001")
    assert closing and "is closed" not in closing[0].text and "C-2026-0001" in closing[0].text


async def test_stop_leaves_the_dialog_and_nothing_is_created(harness: Harness) -> None:
    await harness.one("alice", "!case open")
    await harness.one("alice", "Family K")
    assert "Stopped" in await harness.one("alice", "!stop")
    assert "!help" in await harness.one("alice", "fr")  # no dialog any more: plain text gets a hint
    assert await harness.count(models.Case) == 0
    assert "no dialog to stop" in await harness.one("alice", "!stop")


async def test_an_idle_dialog_expires(harness: Harness) -> None:
    await harness.one("alice", "!case open")
    harness.clock.advance(timedelta(hours=2))
    assert "expired" in await harness.one("alice", "Family K")
    assert await harness.count(models.Dialog) == 0


async def test_plan_review_walks_through_open_items(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    await harness.one("alice", "!review every 2 months", ref)
    await harness.one("alice", "!plan add Home help owner carol due in 3 days", ref)
    await harness.one("alice", "!plan add Day centre visit owner bob", ref)
    await harness.one("alice", "!plan add Old item", ref)
    await harness.one("alice", "!plan cancel 3", ref)
    assert "Follow-up" in await harness.one("alice", "!followup #1 in 2 days", ref)
    answer = await harness.one("alice", "!review start", ref)
    assert "2 open items" in answer and "#1 Home help" in answer
    # The others keep talking in the room; the dialog only listens to its case manager.
    assert await harness.say("bob", "I will be late today", ref) == []
    assert "could not find a date" in await harness.one("alice", "whenever", ref)
    assert "#2 Day centre visit" in await harness.one("alice", "done", ref)
    answer = await harness.one("alice", "next friday 10:00", ref)
    assert "Review recorded: 1 done, 0 kept, 1 rescheduled." in answer and "next one is on" in answer
    plan = await harness.one("alice", "!plan", ref)
    assert "#2 Day centre visit · owner: bob · due Fri, Nov 27, 2026, 10:00 AM" in plan
    assert "follow-up on #1" not in await harness.one("alice", "!reminders", ref)  # done items end follow-ups
    assert "review done: 1 done, 0 kept, 1 rescheduled." in await harness.one("alice", "!history", ref)
