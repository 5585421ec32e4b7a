"""A homeserver that goes away, and one that rate-limits the bot hard: nothing is lost, order holds."""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import PASSWORD, Team
from tests.e2e.synapse import Synapse
from tests.e2e.test_matrix import _case_room


@pytest.fixture
def strict_synapse(tmp_path: Path) -> Iterator[Synapse]:
    """Synapse's message rate limit at 1 per second with bursts of 5, as the issue asks."""
    server = Synapse(tmp_path / "strict-synapse", message_rate=(1.0, 5))
    server.start()
    yield server
    server.stop()


def _unlimited(synapse: Synapse, admin_token: str, user_id: str, on: bool) -> None:
    path = f"/_synapse/admin/v1/users/{user_id}/override_ratelimit"
    if on:
        synapse.admin_request("POST", path, admin_token, {"messages_per_second": 0, "burst_count": 0})
    else:
        synapse.admin_request("DELETE", path, admin_token)


async def test_homeserver_down_for_30_seconds_loses_nothing(team: Team) -> None:
    alice, bot, room = await _case_room(team)
    before = len(alice.from_bot(bot.user_id, room))
    for n in range(10):
        await alice.say(room, f"!remind room in {8 + 3 * n} seconds outage r{n}")
    await alice.until(
        lambda: sum("set for" in s.body for s in alice.from_bot(bot.user_id, room)[before:]) >= 10,
        "10 confirmations",
    )
    team.synapse.stop()
    await asyncio.sleep(30)  # reminders fall due while the homeserver is away
    team.synapse.start()
    await alice.until(
        lambda: sum("Reminder: outage" in s.body for s in alice.from_bot(bot.user_id, room)[before:]) >= 10,
        "10 reminders after the outage",
        within=120,
    )
    said = alice.from_bot(bot.user_id, room)[before:]
    fired = [re.search(r"Reminder: outage (r\d+)", s.body) for s in said]
    names = [m.group(1) for m in fired if m]
    assert names == [f"r{n}" for n in range(10)]
    await asyncio.sleep(5)
    assert len([s for s in alice.from_bot(bot.user_id, room)[before:] if "Reminder: outage" in s.body]) == 10


async def test_100_reminders_in_one_minute_across_10_rooms_under_a_tight_rate_limit(
    strict_synapse: Synapse, tmp_path: Path
) -> None:
    team = Team(strict_synapse, tmp_path / "team")
    (team.root / "bot").mkdir(parents=True)
    strict_synapse.register(f"admin{team.tag}", PASSWORD, admin=True)
    admin_token = strict_synapse.login(f"admin{team.tag}", PASSWORD)
    try:
        alice = await team.person("alice")
        _unlimited(strict_synapse, admin_token, alice.user_id, True)
        bot = team.bot([alice.user_id])
        _unlimited(strict_synapse, admin_token, bot.user_id, True)  # only while the rooms are set up
        bot.start()
        dm = await alice.chat_with(bot.user_id)
        rooms = []
        for n in range(10):
            count = len(alice.from_bot(bot.user_id, dm))
            await alice.say(dm, f"!case open Rate test {n}")
            opened = await alice.answer(bot.user_id, dm, "is open", after=count, within=60)
            rooms.append(opened.body.rsplit("https://matrix.to/#/", 1)[1].strip())
            await alice.join_invite(rooms[-1])
        paris = ZoneInfo("Europe/Paris")
        due = (datetime.now(paris) + timedelta(seconds=75)).replace(second=0, microsecond=0)
        when = due.strftime("%Y-%m-%d %H:%M")
        for room in rooms:
            for k in range(10):
                await alice.say(room, f"!remind room {when} rate {k}")

        def confirmed() -> bool:
            return all(sum("set for" in s.body for s in alice.from_bot(bot.user_id, r)) >= 10 for r in rooms)

        await alice.until(confirmed, "10 confirmations in every room", within=60)
        _unlimited(strict_synapse, admin_token, bot.user_id, False)  # from now on: 1 per second, bursts of 5

        def arrived() -> dict[str, list[int]]:
            per_room: dict[str, list[int]] = defaultdict(list)
            for seen in alice.seen:
                if seen.sender == bot.user_id and (m := re.search(r"Reminder: rate (\d+)", seen.body)):
                    per_room[seen.room_id].append(int(m.group(1)))
            return per_room

        await alice.until(lambda: sum(len(v) for v in arrived().values()) >= 100, "100 reminders", within=360)
        assert all(arrived()[room] == list(range(10)) for room in rooms)
        assert "429" in bot.logs() or "LIMIT_EXCEEDED" in bot.logs() or "ratelimited" in bot.logs()
    finally:
        await team.close()
