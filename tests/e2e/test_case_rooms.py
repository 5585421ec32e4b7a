"""A case's room is one the bot created for that case: never a look-alike someone else made and invited
the bot to, and never a second one after a crash between creating the room and recording it."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from nio import RoomGetStateEventResponse, RoomGetStateResponse

from tests.e2e.conftest import PASSWORD, Bot, Team
from tests.e2e.people import Person

REF = re.compile(r"C-(\d{4})-(\d{4})")


def _link(opened: str) -> str:
    return opened.rsplit("https://matrix.to/#/", 1)[1].strip()


async def _state(person: Person, room: str) -> dict[str, dict[str, Any]]:
    """The room's state as a member sees it: type → the whole event (sender and content)."""
    response = await person.client.room_get_state(room)
    assert isinstance(response, RoomGetStateResponse), response
    return {event["type"]: event for event in response.events if event.get("state_key") == ""}


async def _membership(person: Person, room: str, user: str) -> str | None:
    response = await person.client.room_get_state_event(room, "m.room.member", user)
    return (
        str(response.content.get("membership")) if isinstance(response, RoomGetStateEventResponse) else None
    )


async def _open(alice: Person, bot: Bot, dm: str, label: str) -> tuple[str, str]:
    """`!case open` in the direct chat: the case's reference and the room the bot links to."""
    count = len(alice.from_bot(bot.user_id, dm))
    await alice.say(dm, f"!case open {label}")
    opened = await alice.answer(bot.user_id, dm, "is open", after=count, within=60)
    ref = REF.search(opened.body)
    assert ref is not None
    return ref.group(), _link(opened.body)


def _next(ref: str) -> str:
    match = REF.fullmatch(ref)
    assert match is not None
    return f"C-{match.group(1)}-{int(match.group(2)) + 1:04d}"


async def test_a_room_named_like_the_next_case_is_declined_and_never_becomes_its_room(team: Team) -> None:
    alice, bob = await team.person("alice"), await team.person("bob")
    bot = team.bot([alice.user_id])
    bot.start()
    dm = await alice.chat_with(bot.user_id)
    first_ref, first = await _open(alice, bot, dm, "Mr B")
    await alice.join_invite(first)
    await alice.say(first, f"!invite {bob.user_id} as professional")
    await bob.join_invite(first)
    await bob.answer(bot.user_id, first, "You are here as professional")

    # Bob, a member of an open case, prepares a room named like the next case and invites the bot to it
    # (not as a direct chat): the bot declines. He also renames his own direct chat with the bot so.
    next_ref = _next(first_ref)
    look_alike = f"{next_ref} · Mrs D at home"
    trap = await bob.client.room_create(name=look_alike, invite=[bot.user_id])
    assert hasattr(trap, "room_id"), trap
    deadline = time.monotonic() + 60
    while await _membership(bob, trap.room_id, bot.user_id) != "leave":
        assert time.monotonic() < deadline, "the bot did not decline the invitation"
        await asyncio.sleep(0.5)
    bob_dm = await bob.chat_with(bot.user_id)
    renamed = await bob.client.room_put_state(bob_dm, "m.room.name", {"name": look_alike})
    assert hasattr(renamed, "event_id"), renamed
    await bob.say(bob_dm, "!cases")  # answered after the rename: the bot knows the new name
    await bob.until(lambda: len(bob.from_bot(bot.user_id, bob_dm)) > 0, "an answer in the direct chat")
    answers = len(bob.from_bot(bot.user_id, bob_dm))

    ref, room = await _open(alice, bot, dm, "Mrs D at home")
    assert ref == next_ref and room not in (trap.room_id, bob_dm)
    await alice.join_invite(room)
    await alice.answer(bot.user_id, room, "Welcome")
    state = await _state(alice, room)
    assert state["m.room.create"]["sender"] == bot.user_id
    assert state["org.caseroom.case"]["content"]["ref"] == next_ref
    assert state["m.room.name"]["content"]["name"] == look_alike
    await alice.say(room, "!members")
    await alice.answer(bot.user_id, room, "Care team of")
    assert await _membership(bob, trap.room_id, bot.user_id) == "leave"
    assert bob.from_bot(bot.user_id, trap.room_id) == []
    assert len(bob.from_bot(bot.user_id, bob_dm)) == answers  # no case message in his direct chat
    assert [r for r, inviter in bob.invites.items() if inviter == bot.user_id] == [first]


async def test_killed_between_creating_a_case_room_and_recording_it_makes_one_room(team: Team) -> None:
    alice = await team.person("alice")
    bot = team.bot([alice.user_id])
    bot.start()
    dm = await alice.chat_with(bot.user_id)
    bot.stop()
    bot.env["CASEROOM_FAILPOINTS"] = "outbox.after_request:create_case_room=1"
    bot.start()
    await alice.say(dm, "!case open Crash test")
    await alice.until(bot.died, "the bot to be killed after its createRoom request", within=60)
    assert "failpoint outbox.after_request:create_case_room" in bot.logs()
    bot.env.clear()
    bot.start()

    opened = await alice.answer(bot.user_id, dm, "is open", within=60)
    ref = REF.search(opened.body)
    assert ref is not None
    room = _link(opened.body)
    await alice.join_invite(room)
    await alice.answer(bot.user_id, room, "Welcome")
    await alice.say(room, "!members")
    await alice.answer(bot.user_id, room, "Care team of")
    assert (await _state(alice, room))["m.room.create"]["sender"] == bot.user_id
    assert [r for r, inviter in alice.invites.items() if inviter == bot.user_id] == [room]

    team.synapse.register(f"admin{team.tag}", PASSWORD, admin=True)
    token = team.synapse.login(f"admin{team.tag}", PASSWORD)
    listed = team.synapse.admin_request("GET", f"/_synapse/admin/v1/rooms?search_term={ref.group()}", token)
    made = [r["room_id"] for r in listed["rooms"] if r["creator"] == bot.user_id]
    assert made == [room]
