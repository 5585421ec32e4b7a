"""Erasing a closed case on a real Synapse: `caseroom erase` writes the database, the running bot redacts its
messages in the case room, removes everyone and leaves; a former member's client sees the redactions."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from typing import Any

from nio import MessageDirection, RoomGetStateEventResponse, RoomMessagesResponse

from tests.e2e.conftest import PASSWORD, Team

REF = re.compile(r"C-\d{4}-\d{4}")


async def _history(client: Any, room: str) -> dict[str, dict[str, Any]]:
    """The room's timeline as /messages gives it to this client (up to where it left): event id → event."""
    events: dict[str, dict[str, Any]] = {}
    start = client.next_batch
    for _page in range(20):
        page = await client.room_messages(room, start=start, direction=MessageDirection.back, limit=100)
        assert isinstance(page, RoomMessagesResponse), page
        for event in page.chunk:
            events[event.event_id] = event.source
        if not page.chunk or page.end in (None, start):
            break
        start = page.end
    return events


async def test_caseroom_erase_redacts_the_bots_messages_and_empties_the_room(team: Team) -> None:
    alice, bob = await team.person("alice"), await team.person("bob")
    bot = team.bot([alice.user_id])
    bot.start()
    dm = await alice.chat_with(bot.user_id)
    await alice.say(dm, "!case open Mrs D at home")
    opened = await alice.answer(bot.user_id, dm, "is open", within=60)
    ref = REF.search(opened.body)
    assert ref is not None
    room = opened.body.rsplit("https://matrix.to/#/", 1)[1].strip()
    await alice.join_invite(room)
    await alice.answer(bot.user_id, room, "Welcome")
    await alice.say(room, f"!invite {bob.user_id} as professional")
    await bob.join_invite(room)
    await bob.answer(bot.user_id, room, "You are here as professional")
    await alice.say(room, f"!plan add Home nurse visits owner {bob.user_id}")
    await bob.answer(bot.user_id, room, "#1")
    await alice.say(room, "!close moved to a care home")
    await bob.answer(bot.user_id, room, "is closed")
    said = {seen.event_id for seen in bob.from_bot(bot.user_id, room)}
    assert len(said) >= 3
    before = await _history(bob.client, room)
    assert all(before[event]["content"] for event in said)

    named = await bob.client.room_get_state_event(room, "m.room.name")
    assert isinstance(named, RoomGetStateEventResponse) and "Mrs D at home" in named.content["name"]
    team.synapse.register(f"admin{team.tag}", PASSWORD, admin=True)
    token = team.synapse.login(f"admin{team.tag}", PASSWORD)
    details = team.synapse.admin_request("GET", f"/_synapse/admin/v1/rooms/{room}", token)
    assert details["joined_members"] == 3

    erased = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", "erase", "--case", ref.group(), "--yes", "--config", str(bot.config)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert erased.returncode == 0, erased.stderr
    assert f"case {ref.group()} erased" in erased.stdout and "running bot" in erased.stdout

    def joined() -> int:
        details = team.synapse.admin_request("GET", f"/_synapse/admin/v1/rooms/{room}", token)
        return int(details["joined_members"])

    deadline = time.monotonic() + 60
    while joined() > 0:
        assert time.monotonic() < deadline, f"people are still in the room\n{bot.logs()[-3000:]}"
        await asyncio.sleep(0.5)
    for person in (alice, bob):  # removed by the bot (the bot left last: nobody is in the room)
        own = await person.client.room_get_state_event(room, "m.room.member", person.user_id)
        assert isinstance(own, RoomGetStateEventResponse), own
        assert own.content["membership"] == "leave"

    # Bob, removed, reads the room's history up to his removal: every message of the bot is redacted.
    after = await _history(bob.client, room)
    for event in said:
        assert after[event]["content"] == {}, after[event]
        assert "redacted_because" in after[event].get("unsigned", {}), after[event]
    # The room's name held the case's label: redacted too.
    name = await bob.client.room_get_state_event(room, "m.room.name")
    assert isinstance(name, RoomGetStateEventResponse), name
    assert name.content == {}, name.content
    assert not bot.process_failed(), bot.logs()
