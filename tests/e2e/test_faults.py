"""Kill the bot at every point of a send, again and again, while reminders fall due: none lost, none twice."""

from __future__ import annotations

import asyncio
import re
import signal
import time
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.e2e.conftest import Team
from tests.e2e.test_matrix import _case_room

REMINDERS = 30


async def test_sigkill_at_each_point_of_a_send_loses_and_doubles_nothing(team: Team) -> None:
    alice, bot, room = await _case_room(team)
    bot.stop()
    bot.env["CASEROOM_FAILPOINTS"] = (
        "outbox.before_request=0.08,outbox.after_request=0.08,outbox.after_commit=0.08"
    )
    bot.start()
    before = len(alice.from_bot(bot.user_id, room))
    for n in range(REMINDERS):
        await alice.say(room, f"!remind room in {10 + n} seconds pill r{n}")
    restarts = 0
    deadline = time.monotonic() + 300

    def reminders_seen() -> set[str]:
        return {
            m.group(1)
            for s in alice.from_bot(bot.user_id, room)[before:]
            if (m := re.search(r"Reminder: pill (r\d+)", s.body))
        }

    while time.monotonic() < deadline and (len(reminders_seen()) < REMINDERS or restarts < 20):
        if bot.died():
            restarts += 1
            bot.start()
        await asyncio.sleep(0.2)
        if len(reminders_seen()) == REMINDERS and restarts < 20:
            await alice.say(room, "!members")  # keep the bot sending (and dying) until 20 kills
            await asyncio.sleep(0.5)
    bot.stop()
    bot.env.clear()
    bot.start()
    await alice.say(room, "!reminders")
    await alice.answer(bot.user_id, room, "No reminders are pending.", after=before, within=60)
    said = [s.body for s in alice.from_bot(bot.user_id, room)[before:]]
    fired = Counter(m.group(1) for body in said if (m := re.search(r"Reminder: pill (r\d+)", body)))
    set_replies = Counter(m.group(1) for body in said if (m := re.match(r"Reminder (\d+) set", body)))
    lost = REMINDERS - len(fired)
    doubled = sum(count - 1 for count in fired.values()) + sum(count - 1 for count in set_replies.values())
    print(f"kill/restart cycles: {restarts}, reminders lost: {lost}, messages doubled: {doubled}")
    assert restarts >= 20
    assert lost == 0 and doubled == 0
    assert len(set_replies) == REMINDERS
    assert len(re.findall(r"failpoint outbox\.\w+", bot.logs())) >= 20


async def test_200_reminders_due_in_the_same_second_in_one_encrypted_room_arrive_in_order(team: Team) -> None:
    alice, bot, room = await _case_room(team)
    paris = ZoneInfo("Europe/Paris")
    due = (datetime.now(paris) + timedelta(seconds=90)).replace(second=0, microsecond=0)
    when = due.strftime("%Y-%m-%d %H:%M")
    before = len(alice.from_bot(bot.user_id, room))
    for n in range(200):
        await alice.say(room, f"!remind room {when} burst {n}")
    await alice.until(
        lambda: sum("set for" in s.body for s in alice.from_bot(bot.user_id, room)[before:]) >= 200,
        "200 confirmations",
        within=120,
    )
    await alice.until(
        lambda: sum("Reminder: burst" in s.body for s in alice.from_bot(bot.user_id, room)[before:]) >= 200,
        "200 reminders",
        within=240,
    )
    burst = [s for s in alice.from_bot(bot.user_id, room)[before:] if "Reminder: burst" in s.body]
    numbers = [int(s.body.rsplit("burst ", 1)[1].split()[0]) for s in burst]
    assert numbers == list(range(200))
    assert all(s.encrypted for s in burst)
    assert alice.undecryptable == []


async def test_two_processes_on_postgresql_kill_the_active_one_mid_burst(
    team: Team, postgres_url: str
) -> None:
    alice, active, room = await _case_room(team, database=postgres_url)
    standby = active.twin()
    standby.start()
    await asyncio.sleep(3)
    assert "standing by" in standby.logs() and not standby.died()
    before = len(alice.from_bot(active.user_id, room))
    for n in range(20):
        await alice.say(room, f"!remind room in {6 + n} seconds takeover r{n}")
    await alice.until(
        lambda: (
            sum("Reminder: takeover" in s.body for s in alice.from_bot(active.user_id, room)[before:]) >= 5
        ),
        "the first reminders",
        within=60,
    )
    active.stop(signal.SIGKILL)  # mid-burst
    await alice.until(
        lambda: (
            sum("Reminder: takeover" in s.body for s in alice.from_bot(active.user_id, room)[before:]) >= 20
        ),
        "the other reminders, from the standby",
        within=90,
    )
    await asyncio.sleep(5)
    said = [s.body for s in alice.from_bot(active.user_id, room)[before:]]
    fired = Counter(m.group(1) for body in said if (m := re.search(r"Reminder: takeover (r\d+)", body)))
    assert sorted(fired) == sorted(f"r{n}" for n in range(20)) and set(fired.values()) == {1}
    assert sum(body.startswith("Reminder ") and " set for " in body for body in said) == 20
    assert "active caseroom" in standby.logs()
