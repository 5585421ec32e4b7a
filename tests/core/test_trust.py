"""No path around the permission table: commands, dialog answers and reactions are checked against the role
the sender holds now and the state of the case now."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from bot.adapters.console import NETWORK
from bot.domain.events import BotInvited, ReactionAdded, TextMessage
from bot.storage import models
from tests.harness import Harness


def _id() -> str:
    return uuid.uuid4().hex


async def _with_second_manager(harness: Harness) -> str:
    ref = await harness.open_case()
    await harness.team(ref)
    await harness.say("alice", "!invite zoe as case-manager", ref)
    return ref


async def test_a_review_walkthrough_stops_when_the_case_is_closed_meanwhile(harness: Harness) -> None:
    ref = await _with_second_manager(harness)
    await harness.one("alice", "!plan add Home help owner carol", ref)
    await harness.one("alice", "!plan add Day centre owner bob", ref)
    assert "2 open items" in await harness.one("alice", "!review start", ref)
    await harness.say("zoe", "!close moved away", ref)
    before = await harness.snapshot()
    answer = await harness.one("alice", "done", ref)
    assert "is closed" in answer and "The dialog has ended" in answer
    after = await harness.snapshot()
    assert after["plan_items"] == before["plan_items"] and after["action_entries"] == before["action_entries"]
    assert after["dialogs"] == []
    assert await harness.say("alice", "done", ref) == []  # no dialog any more: ordinary talk in the room


async def test_the_answers_of_a_removed_case_manager_are_not_applied(harness: Harness) -> None:
    ref = await _with_second_manager(harness)
    await harness.one("alice", "!plan add Home help owner carol", ref)
    await harness.one("alice", "!review start", ref)
    await harness.say("zoe", "!remove alice", ref)
    answer = await harness.one("alice", "done", ref)
    assert "not a member of case" in answer and "The dialog has ended" in answer
    plan = await harness.one("zoe", "!plan", ref)
    assert "planned:\n    #1 Home help" in plan
    assert "review done" not in await harness.one("zoe", "!history", ref)


async def test_an_intake_stops_when_its_starter_is_no_longer_a_case_manager(harness: Harness) -> None:
    await harness.one("alice", "!case open")
    harness.app.services.settings.case_managers.remove("alice")
    try:
        answer = await harness.one("alice", "Family K")
    finally:
        harness.app.services.settings.case_managers.append("alice")
    assert "Only case managers" in answer and "The dialog has ended" in answer
    assert await harness.count(models.Case) == 0


async def test_reactions_follow_the_same_checks(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    await harness.one("alice", "!remind carers in 1 hour call the pharmacy", ref)
    await harness.one("alice", "!remind carers in 2 hours call the GP", ref)
    first = (await harness.advance(timedelta(hours=1)))[0].event_id
    second = (await harness.advance(timedelta(hours=1)))[0].event_id
    assert first and second
    await harness.say("alice", "!remove carol", ref)
    await harness.event(ReactionAdded("console", _id(), ref, "carol", first, "✅"))
    await harness.say("alice", "!invite carla as carer", ref)
    await harness.say("alice", "!close done", ref)
    await harness.event(ReactionAdded("console", _id(), ref, "carla", second, "✅"))
    assert "acknowledged" not in await harness.one("alice", "!history", ref)


async def test_the_bot_joins_only_direct_chats(harness: Harness) -> None:
    ref = await harness.open_case()
    # A room someone made, named like the next case, to which a case manager invites the bot: declined.
    left = await harness.event(BotInvited("console", _id(), "C-2026-0002 · x", "alice", is_direct=False))
    assert left == [] and harness.adapter.buffer.getvalue().count("* the bot leaves") == 1
    await harness.event(BotInvited("console", _id(), "dm-alice", "alice", is_direct=True))
    assert harness.adapter.buffer.getvalue().count("* the bot leaves") == 1
    await harness.say("alice", "!case open Second family")
    answer = await harness.one("alice", "!plan", "C-2026-0002")
    assert "Second family" in answer
    assert ref == "C-2026-0001"


async def test_the_last_joined_case_manager_cannot_be_removed_while_the_other_is_only_invited(
    harness: Harness,
) -> None:
    ref = await harness.open_case()
    await harness.app.handle(
        TextMessage(NETWORK.name, _id(), ref, "alice", "!invite zoe as case-manager", False)
    )
    harness.adapter.synthetic.clear()  # zoe has not accepted the invitation
    answer = await harness.one("alice", "!remove alice", ref)
    assert "only case manager who has joined" in answer
    assert "alice · case manager" in await harness.one("alice", "!members", ref)


async def test_an_observer_cannot_own_an_item(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    before = await harness.snapshot()
    assert "observer" in await harness.one("alice", "!plan add Read the report owner olga", ref)
    await harness.one("alice", "!plan add Read the report", ref)
    assert "observer" in await harness.one("alice", "!plan edit 1 owner olga", ref)
    assert (await harness.snapshot())["plan_items"][0][4] is None
    assert before["members"] == (await harness.snapshot())["members"]


async def test_removing_a_member_lists_their_open_items_and_the_plan_shows_them(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    await harness.one("alice", "!plan add Wound care owner bob", ref)
    await harness.one("alice", "!plan add Old visit owner bob", ref)
    await harness.one("alice", "!plan done 2", ref)
    answer = await harness.one("alice", "!remove bob", ref)
    assert "bob owned 1 open plan item" in answer and "#1 Wound care" in answer and "#2" not in answer
    assert "!plan edit <n> owner <user>" in answer
    plan = await harness.one("alice", "!plan", ref)
    assert "#1 Wound care · owner: bob (no longer a member: reassign it)" in plan
    await harness.one("alice", "!plan edit 1 owner carol", ref)
    assert "#1 Wound care · owner: carol" in await harness.one("alice", "!plan", ref)


async def test_a_personal_reminder_shows_its_text_only_to_its_owner(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    await harness.say("dora", "!help")  # dora has a direct chat with the bot
    # Set in the direct chat, it is never seen in the room.
    answer = await harness.one("dora", "!remind me tomorrow 9:00 2 pills of aspirin")
    assert answer.startswith(
        "C-2026-0001 · Reminder 1 set for Tue, Nov 24, 2026, 9:00 AM: “2 pills of aspirin”"
    )
    assert "2 pills of aspirin" in await harness.one("dora", "!reminders")
    for reader in ("alice", "bob", "olga", "dora"):
        listing = await harness.one(reader, "!reminders", ref)
        assert "aspirin" not in listing and "a personal reminder of dora's" in listing
    # Set in the room, the bot does not repeat its text there.
    answer = await harness.one("dora", "!remind me in 2 days the blue folder", ref)
    assert "Personal reminder 2 set for" in answer and "blue folder" not in answer
    fired = await harness.advance(timedelta(days=1))
    assert [m.room for m in fired] == ["dm:dora"]
    assert "2 pills of aspirin" in fired[0].text and ref in fired[0].text
    assert "moved to" in await harness.one("dora", "!snooze 2 in 3 days")
    assert "cancelled" in await harness.one("dora", "!cancel 2")


async def test_a_personal_reminder_without_a_direct_chat_is_announced_without_its_text(
    harness: Harness,
) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    await harness.one("carol", "!remind me in 1 hour the blue folder", ref)
    fired = await harness.advance(timedelta(hours=1))
    assert len(fired) == 1 and fired[0].room == ref
    assert "blue folder" not in fired[0].text and "personal reminder 1" in fired[0].text


async def test_everything_typed_is_kept(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    await harness.one("alice", "!plan add Contact the owner of the flat", ref)
    await harness.one("alice", '!plan add "Ask the owner when the rent is due" owner bob', ref)
    await harness.one("alice", "!log BP <high> after the walk, sugar < 5", ref)
    plan = await harness.one("alice", "!plan", ref)
    assert "#1 Contact the owner of the flat\n" in plan + "\n"
    assert "#2 Ask the owner when the rent is due · owner: bob" in plan
    await harness.one("alice", "!log “Mum said hi” at lunch", ref)
    await harness.one("alice", '!plan add "Big" shopping for the week owner carol', ref)
    history = await harness.one("alice", "!history", ref)
    assert "BP <high> after the walk, sugar < 5" in history and "“Mum said hi” at lunch" in history
    assert '#3 "Big" shopping for the week · owner: carol' in await harness.one("alice", "!plan", ref)
    answer = await harness.one("alice", "!remind bob monday 10 boxes of gloves", ref)
    assert "Mon, Nov 30, 2026, 9:00 AM: “10 boxes of gloves”" in answer


async def test_invisible_direction_and_width_characters_are_refused(harness: Harness) -> None:
    ref = await harness.open_case()
    before = await harness.snapshot()
    for text in ("!log \u202eevil\u202c", "!log a\u2066b\u2069", "!log pay\u200bment", "!log a\x85b"):
        answer = await harness.one("alice", text, ref)
        assert "Nothing was changed" in answer, text
    assert await harness.snapshot() == before
    await harness.one("alice", "!log family 👨\u200d👩\u200d👧 visited", ref)  # emoji joiners are fine


async def test_a_weekday_review_cycle_lands_on_that_weekday(harness: Harness) -> None:
    ref = await harness.open_case()
    answer = await harness.one("alice", "!review every monday", ref)
    assert "the next one is on Mon, Nov 30, 2026" in answer


async def test_plan_items_and_needs_can_be_corrected_with_a_trace(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    await harness.one("alice", "!need add housing Stairs unsafe", ref)
    await harness.one("alice", "!plan add Home help owner carol due in 3 days need 1", ref)
    assert "changed: #1 Home aid" in await harness.one("alice", "!plan edit 1 text Home aid", ref)
    assert "due Fri, Nov 27, 2026, 10:00 AM" in await harness.one(
        "alice", "!plan edit 1 due friday 10:00", ref
    )
    await harness.one("alice", "!plan edit 1 owner bob", ref)
    await harness.one("alice", "!plan edit 1 every week", ref)
    await harness.one("alice", "!need met 1", ref)
    await harness.one("alice", "!need unmet 1", ref)
    await harness.one("alice", "!plan done 1", ref)
    assert "now planned" in await harness.one("alice", "!plan reopen 1", ref)
    history = await harness.one("alice", "!history", ref)
    assert "changed text: Home help → Home aid" in history
    assert "changed due: Thu, Nov 26, 2026, 9:00 AM → Fri, Nov 27, 2026, 10:00 AM" in history
    assert "changed owner: carol → bob" in history and "changed every: none → every week" in history
    assert "changed need 1: unmet → met" in history and "changed need 1: met → unmet" in history
    assert "set to planned" in history
    assert "UNMET" in await harness.one("alice", "!plan", ref)


async def test_a_wrong_log_entry_is_corrected_never_erased(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    assert "Entry 1 in the history" in await harness.one("bob", "!log visited on Monday", ref)
    assert "Entry 2 in the history" in await harness.one("bob", "!log fix the sink", ref)  # a log, not a fix
    assert "Only the author" in await harness.one("carol", "!log fix 1 it was Tuesday", ref)
    assert "corrected by entry 3" in await harness.one("bob", "!log fix 1 visited on Tuesday", ref)
    history = await harness.one("alice", "!history", ref)
    assert re.search(r"1\. .* bob · visited on Monday \(corrected by entry 3\)", history)
    assert "3. " in history and "correction of entry 1: visited on Tuesday" in history


async def test_the_addressee_snoozes_a_reminder(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    await harness.one("alice", "!remind carol in 1 hour call the pharmacy", ref)
    assert "Only the person" in await harness.one("bob", "!snooze 1 in 3 hours", ref)
    assert "moved to" in await harness.one("carol", "!snooze 1 in 3 hours", ref)
    assert await harness.advance(timedelta(hours=1)) == []
    fired = await harness.advance(timedelta(hours=2))
    assert len(fired) == 1 and "call the pharmacy" in fired[0].text
    await harness.one("carol", "!remind me every day 8:00 walk", ref)
    answer = await harness.one("carol", "!snooze 2 tomorrow 10:00", ref)
    assert "the next one stays on Wed, Nov 25, 2026, 8:00 AM" in answer


async def test_families_explain_their_subcommands(harness: Harness) -> None:
    ref = await harness.open_case()
    for text in ("!review", "!review sometime", "!plan frobnicate", "!need", "!help review"):
        answer = await harness.one("alice", text, ref)
        assert "!review every" in answer or "!plan add" in answer or "!need add" in answer, text
        assert "Unknown command" not in answer
    assert "!case open" in await harness.one("alice", "!case")


async def test_a_due_date_brings_a_follow_up_to_the_owner(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    answer = await harness.one("alice", "!plan add Home help owner carol due in 2 days", ref)
    assert "On Wed, Nov 25, 2026, 9:00 AM I will ask carol about it" in answer
    await harness.one("alice", "!plan add Day centre owner bob due in 2 days", ref)
    await harness.one("alice", "!plan block 2 waiting for a place", ref)
    await harness.one("alice", "!plan add Ramp owner bob due in 2 days", ref)
    await harness.one("alice", "!plan edit 3 followup off", ref)
    fired = await harness.advance(timedelta(days=2))
    assert len(fired) == 1 and "carol" in fired[0].mentions and "#1 “Home help”" in fired[0].text
    harness.clock.advance(timedelta(hours=2))
    plan = await harness.one("alice", "!plan", ref)
    assert "#1 Home help · owner: carol · due Wed, Nov 25, 2026, 9:00 AM — OVERDUE" in plan
    assert "OVERDUE" in await harness.one("alice", "!cases")


async def test_a_closed_case_says_so_and_helps_only_with_what_is_left(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    await harness.say("alice", "!close moved to a care home", ref)
    plan = await harness.one("bob", "!plan", ref)
    assert plan.startswith("CLOSED on") and "moved to a care home" in plan
    help_text = await harness.one("alice", "!help", ref)
    assert "is closed" in help_text and "!plan —" in help_text and "!history" in help_text
    assert "!plan add" not in help_text and "!invite" not in help_text and "!log " not in help_text


async def test_where_the_bot_cannot_create_rooms_a_case_manager_opens_or_links_one(harness: Harness) -> None:
    harness.app.services.networks[NETWORK.name] = replace(NETWORK, creates_rooms=False)
    assert "cannot create rooms myself" in await harness.one("alice", "!case open Family K")
    assert await harness.count(models.Case) == 0
    answers = await harness.say("alice", "!case open Family K", "group-1")
    assert any("this room is its coordination room" in m.text for m in answers)
    assert "Family K" in await harness.one("alice", "!plan", "group-1")
    # Talk and commands in a group that is no case room are not for the bot; linking is.
    assert await harness.say("bob", "hello", "group-2") == []
    assert await harness.say("bob", "!plan", "group-2") == []
    assert "already the room of case" in await harness.one("alice", "!case link C-2026-0001", "group-1")
    assert "already has its room" in await harness.one("alice", "!case link C-2026-0001", "group-2")
    async with harness.app.sessions.begin() as session:
        case = (await session.execute(select(models.Case))).scalar_one()
        case.room_id = None  # the group was lost
    assert "Only a case manager of case" in await harness.one("mallory", "!case link C-2026-0001", "group-3")
    answer = await harness.one("alice", "!case link C-2026-0001", "group-3")
    assert "now the coordination room of case C-2026-0001" in answer
    assert "Family K" in await harness.one("alice", "!plan", "group-3")


async def test_on_a_network_that_creates_rooms_there_is_nothing_to_link(harness: Harness) -> None:
    await harness.open_case()
    assert await harness.say("alice", "!case link C-2026-0001", "group-1") != []
    assert "I create case rooms myself" in await harness.one("alice", "!case link C-2026-0001", "group-1")
