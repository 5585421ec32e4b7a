"""caseroom on a real Synapse, with real encrypted clients for the case manager, a professional, the
person and a carer."""

from __future__ import annotations

import asyncio
import re

from tests.e2e.conftest import Bot, Team
from tests.e2e.people import Person


async def test_a_case_in_an_encrypted_room_from_opening_to_closing(team: Team) -> None:
    alice, bob, carol = await team.person("alice"), await team.person("bob"), await team.person("carol")
    dora = await team.person("dora")
    bot = team.bot([alice.user_id])
    bot.start()
    try:
        dm = await alice.chat_with(bot.user_id)
        await alice.say(dm, "!case open Mrs D at home")
        opened = await alice.answer(bot.user_id, dm, "is open", within=60)
        ref = re.search(r"C-\d{4}-\d{4}", opened.body)
        assert ref is not None and "https://matrix.to/#/!" in opened.body
        room = opened.body.rsplit("https://matrix.to/#/", 1)[1].strip()
        await alice.join_invite(room)
        greeting = await alice.answer(bot.user_id, room, "Welcome")
        assert greeting.encrypted and greeting.content["m.mentions"] == {"user_ids": [alice.user_id]}
        assert greeting.content["msgtype"] == "m.notice" and "<a href=" in greeting.content["formatted_body"]
        state = await alice.client.room_get_state(room)
        kinds = {e["type"]: e["content"] for e in state.events}
        assert kinds["m.room.encryption"]["algorithm"] == "m.megolm.v1.aes-sha2"
        assert kinds["m.room.history_visibility"]["history_visibility"] == "invited"
        assert kinds["m.room.join_rules"]["join_rule"] == "invite"
        levels = kinds["m.room.power_levels"]
        # Case managers kick; only the bot invites (the room guard: tests/e2e/test_room_guard_matrix.py).
        assert levels["users"][alice.user_id] == 50 and levels["invite"] == 100 and levels["kick"] == 50
        assert levels["users"].get(bot.user_id, 100) == 100  # room version 12 lists no creator
        assert levels["users_default"] == 0 and len(levels["users"]) <= 2
        assert kinds["m.room.name"]["name"] == f"{ref.group()} · Mrs D at home"

        await alice.say(room, "!consent record carers given paper form signed")  # carol is a carer
        await alice.answer(bot.user_id, room, "gave consent to sharing the case with carers")
        for person, role in ((bob, "professional"), (carol, "carer"), (dora, "person")):
            await alice.say(room, f"!invite {person.user_id} as {role}")
            await person.join_invite(room)
            welcome = await person.answer(bot.user_id, room, f"You are here as {role}")
            assert welcome.encrypted
        await alice.say(room, f"!plan add Insulin injections owner {bob.user_id} due tomorrow 9:00")
        added = await alice.answer(bot.user_id, room, "Plan item #1 added")
        assert "I will ask" in added.body  # the due date schedules a follow-up: reminder 1
        await bob.say(room, "!log #1 First visit, glucose fine")
        await bob.answer(bot.user_id, room, "Logged against plan item #1.")
        await carol.say(room, "!close now")
        await carol.answer(bot.user_id, room, "As carer you cannot use !close.")
        await dora.say(room, "!plan")
        plan = await dora.answer(bot.user_id, room, "Service plan of")
        assert f"#1 Insulin injections · owner: {bob.user_id}" in plan.body

        await alice.say(room, f"!remind {carol.user_id} in 3 seconds bring the medication list")
        await alice.answer(bot.user_id, room, "Reminder 2 set")
        reminder = await carol.answer(bot.user_id, room, "Reminder: bring the medication list", within=60)
        assert reminder.content["m.mentions"] == {"user_ids": [carol.user_id]}
        await carol.react(room, reminder.event_id, "✅")
        await asyncio.sleep(3)
        count = len(alice.from_bot(bot.user_id, room))
        await alice.say(room, "!history")
        history = await alice.answer(bot.user_id, room, "Action log", after=count)
        assert "acknowledged reminder 2" in history.body

        # Commands written while the bot is down are handled once when it is back, never again after.
        bot.stop()
        before = len(bob.from_bot(bot.user_id, room))
        await bob.say(room, "!log #1 Second visit while the bot was away")
        await alice.say(room, "!members")
        bot.start()
        await bob.answer(bot.user_id, room, "Logged against plan item #1.", after=before, within=60)
        await alice.answer(bot.user_id, room, "Care team of", after=before, within=60)
        bot.stop()
        bot.start()
        await alice.say(room, "!reminders")
        pending = await alice.answer(bot.user_id, room, "Pending reminders", after=before, within=60)
        assert "bring the medication list" not in pending.body  # sent and acknowledged
        answers = [s.body for s in bob.from_bot(bot.user_id, room)[before:]]
        assert sum("Logged against plan item #1." in a for a in answers) == 1
        assert sum("Care team of" in a for a in answers) == 1

        # Leaving the room ends the role; !remove kicks.
        await bob.client.room_leave(room)
        await alice.answer(bot.user_id, room, f"{bob.user_id} has left the case room.", within=60)
        await alice.say(room, f"!remove {dora.user_id}")
        await alice.answer(bot.user_id, room, f"{dora.user_id} is no longer a member of this case.")
        await alice.until(lambda: dora.user_id not in alice.client.rooms[room].users, "dora to be kicked")
        count = len(alice.from_bot(bot.user_id, room))
        await alice.say(room, "!members")
        members = await alice.answer(bot.user_id, room, "Care team of", after=count)
        assert bob.user_id not in members.body and dora.user_id not in members.body
        await alice.say(room, "!close moved to a care home")
        summary = await carol.answer(bot.user_id, room, "is closed: moved to a care home")
        assert summary.encrypted
        # Everything the bot said reached each member readable, though they joined at different times.
        for person in (alice, bob, carol, dora):
            assert [e for sender, e in person.undecryptable if sender == bot.user_id] == []
            assert all(s.encrypted for s in person.from_bot(bot.user_id, room))
    finally:
        bot.stop()
        if bot.process_failed():
            print(bot.logs()[-5000:])


async def _case_room(team: Team, database: str | None = None) -> tuple[Person, Bot, str]:
    alice = await team.person("alice")
    bot = team.bot([alice.user_id], database)
    bot.start()
    dm = await alice.chat_with(bot.user_id)
    await alice.say(dm, "!case open Burst test")
    opened = await alice.answer(bot.user_id, dm, "is open", within=60)
    room = opened.body.rsplit("https://matrix.to/#/", 1)[1].strip()
    await alice.join_invite(room)
    await alice.answer(bot.user_id, room, "Welcome")
    return alice, bot, room


async def test_200_commands_back_to_back_get_200_answers(team: Team) -> None:
    alice, bot, room = await _case_room(team)
    before = len(alice.from_bot(bot.user_id, room))
    for n in range(200):
        await alice.say(room, f"!log burst {n}")
    await alice.until(
        lambda: len(alice.from_bot(bot.user_id, room)) - before >= 200, "200 answers", within=180
    )
    answers = [s.body for s in alice.from_bot(bot.user_id, room)[before:]]
    assert sum(a.startswith("Logged. Entry") for a in answers) == 200


async def test_commands_sent_while_the_bot_is_down_are_all_answered_once(team: Team) -> None:
    """More commands than one sync returns: the limited timeline is completed from /messages."""
    alice, bot, room = await _case_room(team)
    bot.stop()
    before = len(alice.from_bot(bot.user_id, room))
    for n in range(250):
        await alice.say(room, f"!log offline {n}")
    bot.start()
    await alice.until(
        lambda: len(alice.from_bot(bot.user_id, room)) - before >= 250, "250 answers", within=240
    )
    await alice.say(room, "!history")
    history = await alice.answer(bot.user_id, room, "Action log", after=before + 250, within=60)
    logged = [line for line in history.body.splitlines() if "offline" in line]
    assert [line.rsplit("offline ", 1)[1] for line in logged] == [str(n) for n in range(250)][-len(logged) :]
    bot.stop()
    bot.start()
    await alice.say(room, "!members")
    await alice.answer(bot.user_id, room, "Care team of", after=before + 251, within=60)
    assert sum(s.body.startswith("Logged. Entry") for s in alice.from_bot(bot.user_id, room)[before:]) == 250
    gaps = [int(n) for n in re.findall(r"filled a gap of (\d+) events", bot.logs())]
    assert max(gaps) > 0  # the first sync after the restart came back limited
