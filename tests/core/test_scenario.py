"""A case from opening to closing, as the people in it would see it."""

from __future__ import annotations

from datetime import timedelta

from tests.harness import Harness


async def test_open_case_creates_room_and_greets_the_case_manager(harness: Harness) -> None:
    messages = await harness.say("alice", "!case open Mrs D at home")
    ref = "C-2026-0001"
    assert any(m.room == "dm:alice" and ref in m.text for m in messages)
    greeting = [m for m in messages if m.room == ref and m.mentions == ("alice",)]
    assert greeting and "case manager" in greeting[0].text
    second = await harness.open_case("Family K")
    assert second == "C-2026-0002"


async def test_team_plan_log_and_history(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    members = await harness.one("bob", "!members", ref)
    for line in (
        "alice · case manager",
        "bob · professional · Home nursing",
        "carol · carer",
        "dora · person",
        "olga · observer · District council",
    ):
        assert line in members
    assert "Need 1 recorded" in await harness.one("alice", "!need add health Diabetes follow-up", ref)
    assert "#1" in await harness.one(
        "alice", "!plan add Home nurse visits owner bob every day 8:00 need 1", ref
    )
    assert "#2" in await harness.one(
        "alice", "!plan add Apply for allowance owner carol due tomorrow 9:00", ref
    )
    plan = await harness.one("dora", "!plan", ref)
    assert "Diabetes follow-up — UNMET" in plan
    assert "#1 Home nurse visits · owner: bob · every day at 08:00 · for need 1" in plan
    assert "#2 Apply for allowance · owner: carol · due Tue, Nov 24, 2026, 9:00 AM" in plan
    answer = await harness.one("bob", "!log #1 Visit done, glucose fine", ref)
    assert answer == "Logged against plan item #1. Entry 1 in the history."
    assert (
        await harness.one("carol", "!log Drove her to the pharmacy", ref) == "Logged. Entry 2 in the history."
    )
    assert "now in progress" in await harness.one("bob", "!plan start 1", ref)
    assert "now done" in await harness.one("alice", "!plan done 2 form sent", ref)
    assert "is done; reopen it first with !plan reopen 2" in await harness.one("alice", "!plan block 2", ref)
    assert "already done" in await harness.one("alice", "!plan done 2", ref)
    history = await harness.one("olga", "!history", ref)
    lines = history.splitlines()[1:]
    assert "bob · #1 · Visit done, glucose fine" in lines[0]
    assert "carol · Drove her to the pharmacy" in lines[1]
    assert "alice · #2 · set to done: form sent" in lines[3]
    only_one = await harness.one("olga", "!history #1", ref)
    assert "pharmacy" not in only_one and "glucose" in only_one
    assert "Need 1 is marked as met" in await harness.one("bob", "!need met 1", ref)
    assert "— met" in await harness.one("alice", "!plan", ref)


async def test_reminders_reach_their_recipients_in_their_language(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    await harness.say("carol", "!lang de", ref)
    await harness.say("dora", "!lang fr", ref)
    answer = await harness.one("alice", "!remind carers in 2 hours bring the medication list", ref)
    assert answer.startswith("Reminder 1 set for Mon, Nov 23, 2026, 12:00 PM: “bring the medication list”")
    await harness.one("alice", "!remind room tomorrow 9:00 case conference at 10", ref)
    await harness.one("bob", "!remind me next monday 8:30 call the GP", ref)
    assert await harness.advance(timedelta(hours=1)) == []
    fired = await harness.advance(timedelta(hours=1))
    assert len(fired) == 1 and fired[0].mentions == ("carol",)
    assert fired[0].text.startswith("carol: Erinnerung: bring the medication list")
    assert await harness.advance(timedelta(hours=20)) == []
    fired = await harness.advance(timedelta(hours=1))  # Tuesday 09:00 in Paris
    assert len(fired) == 1 and fired[0].mentions == ()
    # The room reads the person's language (dora chose French).
    assert fired[0].text == "Rappel : case conference at 10"
    listing = await harness.one("alice", "!reminders", ref)
    assert "a personal reminder of bob's" in listing and "call the GP" not in listing
    assert "medication" not in listing
    # Its owner reads it in the direct chat, not in the room (where everyone reads the answer).
    assert "call the GP" not in await harness.one("bob", "!reminders", ref)
    assert "C-2026-0001 · 3 · Mon, Nov 30, 2026, 8:30 AM · call the GP" in await harness.one(
        "bob", "!reminders"
    )


async def test_followup_and_late_delivery_after_restart(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    await harness.one("alice", "!plan add Apply for housing benefit owner bob due in 10 days", ref)
    answer = await harness.one("alice", "!followup #1 in 3 days", ref)
    assert "I will ask bob about #1 on Thu, Nov 26, 2026" in answer
    await harness.close()
    harness.clock.advance(timedelta(days=4))
    restarted = await Harness.create(harness.db_url, harness.clock.now())
    try:
        fired = await restarted.advance(timedelta(0))
        assert len(fired) == 1
        assert fired[0].mentions == ("bob",)
        assert "Follow-up on plan item #1 “Apply for housing benefit”" in fired[0].text
        assert "sent late" in fired[0].text
        assert await restarted.advance(timedelta(days=1)) == []  # once, never twice
    finally:
        await restarted.close()
        harness.app = restarted.app  # the fixture closes the live one


async def test_recurring_reminder_keeps_local_time_and_coalesces_missed(harness: Harness) -> None:
    ref = await harness.open_case()
    answer = await harness.one("alice", "!remind me every day 9:00 check the pill box", ref)
    assert "Tue, Nov 24, 2026, 9:00 AM" in answer and "every day at 09:00" in answer
    fired = await harness.advance(timedelta(days=1, hours=1))
    assert len(fired) == 1 and "check the pill box" in fired[0].text and "missed" not in fired[0].text
    fired = await harness.advance(timedelta(days=3))
    assert len(fired) == 1 and "2 earlier occurrences were missed" in fired[0].text
    assert "Sat, Nov 28, 2026, 9:00 AM" in await harness.one("alice", "!reminders", ref)


async def test_review_cycle(harness: Harness) -> None:
    ref = await harness.open_case()
    answer = await harness.one("alice", "!review every 3 months", ref)
    assert "next one is on Tue, Feb 23, 2027, 9:00 AM" in answer
    assert "next review: Tue, Feb 23, 2027" in await harness.one("alice", "!cases")
    fired = await harness.advance(timedelta(days=85))
    assert (
        len(fired) == 1 and "Review of case C-2026-0001" in fired[0].text and fired[0].mentions == ("alice",)
    )
    fired = await harness.advance(timedelta(days=7))
    assert len(fired) == 1 and "Review of case" in fired[0].text
    answer = await harness.one("alice", "!review done all goals kept", ref)
    assert "The next one is on Sun, May 23, 2027" in answer
    assert "review done: all goals kept" in await harness.one("alice", "!history", ref)
    assert "The next review is on" in await harness.one("alice", "!review on 2027-03-01 10:00", ref)
    assert "Next review: Mon, Mar 1, 2027, 10:00 AM" in await harness.one("alice", "!plan", ref)


async def test_remove_and_close(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    await harness.one("alice", "!remind bob tomorrow 9:00 send the report", ref)
    messages = await harness.say("alice", "!remove bob", ref)
    assert any("bob is no longer a member" in m.text and "1 reminder" in m.text for m in messages)
    assert "not a member of case" in await harness.one("bob", "!plan", ref)
    assert "only case manager" in await harness.one("alice", "!remove alice", ref)
    await harness.one("alice", "!plan add Home help owner carol due in 3 days", ref)
    await harness.one("alice", "!remind carers in 5 days weekly shopping", ref)
    summary = await harness.one("alice", "!close moved to a care home", ref)
    assert "Case C-2026-0001 is closed: moved to a care home" in summary
    # The reminder to the carers, and the follow-up of the item's due day.
    assert "2 pending reminders cancelled" in summary and "1 plan item: 0 done, 1 left open" in summary
    assert "closed: it can be read, not changed" in await harness.one("alice", "!log too late", ref)
    assert "Home help" in await harness.one("carol", "!plan", ref)
    assert await harness.advance(timedelta(days=6)) == []
    assert "not in any open case" in await harness.one("alice", "!cases")


async def test_everything_is_still_there_after_a_restart(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    await harness.one("alice", "!need add housing Stairs at home", ref)
    await harness.one("alice", "!plan add Stair lift owner bob due in 2 weeks need 1", ref)
    await harness.one("bob", "!log #1 Quote requested", ref)
    await harness.one("alice", "!review every 6 months", ref)
    before = await harness.snapshot()
    plan_before = await harness.one("alice", "!plan", ref)
    restarted = await harness.restart()
    harness.app = restarted.app
    assert await restarted.snapshot() == before
    assert await restarted.one("alice", "!plan", ref) == plan_before
    assert "Quote requested" in await restarted.one("alice", "!history", ref)


async def test_caseload_lists_what_is_overdue_and_due_soon(harness: Harness) -> None:
    ref = await harness.open_case()
    other = await harness.open_case("Family K")
    await harness.one("alice", "!plan add Check the stairs due in 2 days", ref)
    await harness.one("alice", "!plan add Call the GP due in 12 hours", ref)
    await harness.one("alice", "!plan add Far away due in 30 days", ref)
    caseload = await harness.one("alice", "!cases")
    assert "Your caseload: 2 open cases." in caseload
    assert "C-2026-0001 · Mrs D at home (case manager) — 0 overdue, 2 due within 7 days" in caseload
    assert caseload.index("#2 Call the GP · due") < caseload.index("#1 Check the stairs · due")
    assert "Far away" not in caseload and f"{other} · Family K" in caseload
    await harness.advance(timedelta(days=1))
    caseload = await harness.one("alice", "!cases")
    assert "1 overdue, 1 due within 7 days" in caseload and "#2 Call the GP · OVERDUE" in caseload
    assert "not in any open case" in await harness.one("bob", "!cases")


async def test_reminders_older_than_the_catch_up_window_are_reported_not_sent(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    await harness.one("alice", "!remind carers in 1 day buy the pill box", ref)
    await harness.one("alice", "!remind bob in 9 days send the report", ref)
    await harness.one("alice", "!remind me every day 9:00 check the diary", ref)
    await harness.close()
    harness.clock.advance(timedelta(days=10))  # the bot was down for ten days
    restarted = await Harness.create(harness.db_url, harness.clock.now())
    harness.app = restarted.app
    fired = await restarted.advance(timedelta(0))
    texts = [m.text for m in fired]
    assert any(t.startswith("bob: Reminder: send the report") and "sent late" in t for t in texts)
    report = [m for m in fired if "while I was offline, 1 reminder fell due more than 7 days ago" in m.text]
    assert len(report) == 1 and report[0].mentions == ("alice",) and "buy the pill box" in report[0].text
    assert all("buy the pill box" not in t for t in texts if t is not report[0].text)
    daily = [t for t in texts if "check the diary" in t]
    assert len(daily) == 1 and "9 earlier occurrences were missed" in daily[0]
    assert await restarted.advance(timedelta(hours=1)) == []
