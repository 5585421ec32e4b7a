"""Kill the bot (SIGKILL) at every point of a send and of an update's handling, again and again, while
commands come in and reminders fall due: nothing is lost; what doubles is only what the README says can."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.telegram.fake_api import FakeBotAPI
from tests.telegram.harness import GROUP, PEOPLE, ProcessBot, register_people

REMINDERS = 30
# The odds of a kill at each point: a send waiting for its turn (the sending limits) passes the first
# point again and again, an update batch passes the last two once.
POINTS = {
    "outbox.before_request": 0.03,
    "outbox.after_request": 0.08,
    "outbox.after_commit": 0.08,
    "telegram.after_record": 0.3,
    "telegram.after_cursor": 0.3,
}


@pytest.fixture
def threaded_fake() -> Iterator[FakeBotAPI]:
    """The fake in its own thread: the bot is another process, and the test may block while it waits."""
    api = FakeBotAPI(username="caseroom_test_bot")
    api.start_in_thread()
    register_people(api)
    try:
        yield api
    finally:
        api.stop_thread()


def texts(fake: FakeBotAPI, chat: int) -> list[str]:
    return [str(m["text"]) for m in fake.sent(chat)]


async def wait_for(fake: FakeBotAPI, chat: int, pattern: str, bot: ProcessBot, within: float = 60) -> None:
    """Wait for the bot to say `pattern` in `chat`, restarting it whenever it died."""
    deadline = time.monotonic() + within
    while not any(re.search(pattern, t) for t in texts(fake, chat)):
        assert time.monotonic() < deadline, (pattern, texts(fake, chat)[-5:], bot.logs()[-3000:])
        if bot.died():
            bot.start()
        await asyncio.sleep(0.1)


async def test_sigkill_at_each_point_of_a_send_and_of_an_update_loses_nothing(
    threaded_fake: FakeBotAPI, tmp_path: Path
) -> None:
    fake = threaded_fake
    alice = PEOPLE["alice"]
    # The sending limits are Telegram's by default (20 messages a minute in a group); this test is about
    # crashes, not pace, so they are raised here (tests/telegram/test_delivery.py checks the defaults).
    bot = ProcessBot(
        fake, tmp_path, [alice], "chat_interval_seconds = 0.05\ngroup_messages_per_minute = 1000\n"
    )
    bot.start()
    fake.start(alice)
    fake.group(GROUP, "new group", creator=alice, members=[])
    fake.add_bot(GROUP, "administrator")
    fake.say(alice, GROUP, "/case open Mrs D at home")
    await wait_for(fake, GROUP, "is open", bot)
    bot.stop()

    bot.env["CASEROOM_FAILPOINTS"] = ",".join(f"{point}={odds}" for point, odds in POINTS.items())
    bot.start()
    restarts, commands = 0, 0
    for n in range(REMINDERS):  # one update at a time, so that many batches cross the update points
        fake.say(alice, GROUP, f"/remind room in {15 + n} seconds pill r{n}")
        await asyncio.sleep(0.3)
        if bot.died():
            restarts += 1
            bot.start()
    deadline = time.monotonic() + 300

    def reminders_seen() -> set[str]:
        return {m.group(1) for t in texts(fake, GROUP) if (m := re.search(r"Reminder: pill (r\d+)", t))}

    def every_point_hit() -> bool:
        hit = set(re.findall(r"failpoint ([\w.]+): killing", bot.logs()))
        return all(point in hit for point in POINTS)

    def more_to_do() -> bool:
        return len(reminders_seen()) < REMINDERS or restarts < 20 or not every_point_hit()

    while time.monotonic() < deadline and more_to_do():
        if bot.died():
            restarts += 1
            bot.start()
        await asyncio.sleep(0.2)
        if len(reminders_seen()) == REMINDERS and more_to_do():
            commands += 1
            fake.say(alice, GROUP, "/members")  # keep the bot receiving and sending (and dying)
            await asyncio.sleep(0.5)
    bot.stop()
    bot.env.clear()
    bot.start()
    fake.say(alice, GROUP, "/reminders")
    await wait_for(fake, GROUP, "No reminders are pending", bot)
    bot.stop()

    said = texts(fake, GROUP)
    fired = Counter(m.group(1) for t in said if (m := re.search(r"Reminder: pill (r\d+)", t)))
    set_replies = Counter(m.group(1) for t in said if (m := re.match(r"Reminder (\d+) set", t)))
    members = sum(1 for t in said if t.startswith("Care team of"))
    kills = Counter(re.findall(r"failpoint ([\w.]+): killing", bot.logs()))
    lost = REMINDERS - len(fired)
    doubled = sum(c - 1 for c in fired.values()) + sum(c - 1 for c in set_replies.values())
    doubled += max(0, members - commands)
    print(
        f"kill/restart cycles: {restarts}, kills by point: {dict(kills)}, reminders lost: {lost}, "
        f"messages doubled: {doubled}, commands answered: {len(set_replies)}/{REMINDERS} and "
        f"{members}/{commands}"
    )
    assert restarts >= 20
    assert sum(kills.values()) >= 20 and all(kills[p] > 0 for p in POINTS), kills
    # Nothing lost: every reminder fired, every command was answered (handled once: one reminder each).
    assert lost == 0
    assert len(set_replies) == REMINDERS
    assert members >= commands
    # Telegram has no idempotency key: a message can double only when the process dies after Telegram
    # accepted it and before the outbox row was marked sent, at most one message per such kill.
    assert doubled <= kills["outbox.after_request"]
