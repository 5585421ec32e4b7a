"""The person's consent on a real Synapse: inviting a carer is refused until the person gives it (the
homeserver never sees an invitation), and withdrawing it kicks the carer out of the room at once."""

from __future__ import annotations

import asyncio
import re
import time

from nio import RoomGetStateEventResponse, RoomGetStateResponse

from tests.e2e.conftest import Team
from tests.e2e.people import Person

NEEDS_CARERS = "needs the person's consent to share the case with carers"


async def membership(person: Person, room: str, user: str) -> str | None:
    """`user`'s membership of the room as the homeserver holds it (None: never invited)."""
    response = await person.client.room_get_state_event(room, "m.room.member", user)
    if not isinstance(response, RoomGetStateEventResponse):
        return None
    return str(response.content.get("membership"))


async def test_a_carer_comes_in_with_consent_and_is_kicked_when_it_is_withdrawn(team: Team) -> None:
    alice, carol, dora = await team.person("alice"), await team.person("carol"), await team.person("dora")
    bot = team.bot([alice.user_id])
    bot.start()
    dm = await alice.chat_with(bot.user_id)
    await alice.say(dm, "!case open Mrs D at home")
    opened = await alice.answer(bot.user_id, dm, "is open", within=60)
    assert re.search(r"C-\d{4}-\d{4}", opened.body)
    room = opened.body.rsplit("https://matrix.to/#/", 1)[1].strip()
    await alice.join_invite(room)
    await alice.answer(bot.user_id, room, "Welcome")

    # Refused without consent: nothing reaches the homeserver.
    await alice.say(room, f"!invite {carol.user_id} as carer")
    refused = await alice.answer(bot.user_id, room, NEEDS_CARERS)
    assert "!consent give carers" in refused.body and "Nothing was changed." in refused.body
    assert await membership(alice, room, carol.user_id) is None

    # The person joins and gives it; the same invitation then goes through.
    await alice.say(room, f"!invite {dora.user_id} as person")
    await dora.join_invite(room)
    await dora.answer(bot.user_id, room, "You are here as person")
    await dora.say(room, "!consent give carers")
    await dora.answer(bot.user_id, room, "gave consent to sharing the case with carers")
    await alice.say(room, f"!invite {carol.user_id} as carer")
    await alice.answer(bot.user_id, room, f"I invited {carol.user_id} as carer")
    await carol.join_invite(room)
    await carol.answer(bot.user_id, room, "You are here as carer")
    assert await membership(alice, room, carol.user_id) == "join"

    # Withdrawn: the bot kicks her from the room, in the same breath as telling the room.
    count = len(dora.from_bot(bot.user_id, room))
    await dora.say(room, "!consent withdraw carers")
    told = await dora.answer(
        bot.user_id, room, "withdrew consent to sharing the case with carers", after=count
    )
    assert "No longer a member of this case" in told.body
    deadline = time.monotonic() + 30
    while await membership(alice, room, carol.user_id) != "leave":
        assert time.monotonic() < deadline, "carol is still in the room"
        await asyncio.sleep(0.2)
    state = await alice.client.room_get_state(room)
    assert isinstance(state, RoomGetStateResponse), state
    left = [e for e in state.events if e["type"] == "m.room.member" and e["state_key"] == carol.user_id]
    assert left[0]["sender"] == bot.user_id  # kicked by the bot, not gone by herself
    team_now = len(alice.from_bot(bot.user_id, room))
    await alice.say(room, "!members")
    listed = await alice.answer(bot.user_id, room, "Care team of", after=team_now)
    assert carol.user_id not in listed.body and dora.user_id in listed.body
    # And inviting her again is refused as at first.
    await alice.say(room, f"!invite {carol.user_id} as carer")
    await alice.answer(bot.user_id, room, NEEDS_CARERS, after=team_now)
    assert await membership(alice, room, carol.user_id) == "leave"
    assert not bot.process_failed()
