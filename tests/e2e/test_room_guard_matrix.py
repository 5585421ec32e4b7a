"""The room guard on a real Synapse, with real clients: only the bot invites, protective settings are the
bot's alone (refused by the homeserver, or put back), whoever got in another way is removed, a closed
case's room is read-only until reopened, and rooms from before the guard are upgraded at start."""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.error
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

from nio import RoomGetStateEventError, RoomPutStateError, RoomSendError, RoomSendResponse

from tests.e2e.conftest import PASSWORD, Bot, Team
from tests.e2e.people import Person

# The levels rooms were created with before the guard: inviting and the room's settings at 50.
OLD_LEVELS = {
    "users_default": 0,
    "events_default": 0,
    "state_default": 50,
    "invite": 50,
    "kick": 50,
    "ban": 50,
    "redact": 50,
    "events": {
        "m.room.name": 50,
        "m.room.power_levels": 100,
        "m.room.history_visibility": 100,
        "m.room.canonical_alias": 50,
        "m.room.avatar": 50,
        "m.room.tombstone": 100,
        "m.room.server_acl": 100,
        "m.room.encryption": 100,
    },
}


async def _open(team: Team, alice: Person, bot: Bot) -> tuple[str, str, str]:
    """alice opens a case and joins its room: (direct chat, room, reference)."""
    dm = await alice.chat_with(bot.user_id)
    await alice.say(dm, "!case open Mrs D at home")
    opened = await alice.answer(bot.user_id, dm, "is open", within=60)
    ref = re.search(r"C-\d{4}-\d{4}", opened.body)
    assert ref is not None
    room = opened.body.rsplit("https://matrix.to/#/", 1)[1].strip()
    await alice.join_invite(room)
    await alice.answer(bot.user_id, room, "Welcome")
    return dm, room, ref.group()


async def _member(alice: Person, bot: Bot, room: str, person: Person, role: str) -> None:
    await alice.say(room, f"!invite {person.user_id} as {role}")
    await person.join_invite(room)
    await person.answer(bot.user_id, room, f"You are here as {role}")


async def _state(person: Person, room: str, kind: str) -> dict[str, Any]:
    response = await person.client.room_get_state_event(room, kind)
    assert not isinstance(response, RoomGetStateEventError), response
    return dict(response.content)


def _bot_token(bot: Bot) -> str:
    session = json.loads((bot.root / "store" / "session.json").read_text(encoding="utf-8"))
    return str(session["access_token"])


def _as(team: Team, token: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """A raw client-server or admin request with someone's access token."""
    try:
        return team.synapse.admin_request(method, path, token, body)
    except urllib.error.HTTPError as error:
        error.msg = f"{error.msg}: {error.read().decode(errors='replace')}"
        raise


def _take_power(team: Team, token: str, room: str, user: str) -> None:
    """A homeserver administrator makes themselves an administrator of the room, and joins it."""
    _as(
        team,
        token,
        "POST",
        f"/_synapse/admin/v1/rooms/{urllib.parse.quote(room)}/make_room_admin",
        {"user_id": user},
    )
    _as(team, token, "POST", f"/_matrix/client/v3/join/{urllib.parse.quote(room)}", {})


def _room_path(room: str) -> str:
    return f"/_matrix/client/v3/rooms/{urllib.parse.quote(room)}"


async def test_only_the_bot_lets_people_in_and_changes_the_rooms_settings(team: Team) -> None:
    alice, bob, eve = await team.person("alice"), await team.person("bob"), await team.person("eve")
    bot = team.bot([alice.user_id])
    bot.start()
    try:
        dm, room, ref = await _open(team, alice, bot)
        await _member(alice, bot, room, bob, "professional")
        levels = await _state(alice, room, "m.room.power_levels")
        assert levels["invite"] == 100 and levels["kick"] == 50 and levels["redact"] == 50
        for kind in ("m.room.join_rules", "m.room.guest_access", "m.room.server_acl", "org.caseroom.case"):
            assert levels["events"][kind] == 100, kind
        assert levels["events"]["m.room.name"] == 50 and levels["events"]["m.room.topic"] == 50
        assert (await _state(alice, room, "m.room.guest_access"))["guest_access"] == "forbidden"

        # A case manager's own client can neither invite nor open the room: the homeserver refuses.
        refused = await alice.client.room_invite(room, eve.user_id)
        assert getattr(refused, "status_code", None) == "M_FORBIDDEN", refused
        for kind, content in (
            ("m.room.join_rules", {"join_rule": "public"}),
            ("m.room.history_visibility", {"history_visibility": "world_readable"}),
            ("m.room.guest_access", {"guest_access": "can_join"}),
            ("m.room.power_levels", {**levels, "invite": 50}),
        ):
            response = await alice.client.room_put_state(room, kind, content)
            assert isinstance(response, RoomPutStateError), (kind, response)
            assert response.status_code == "M_FORBIDDEN", (kind, response)
        # What case managers keep: the room's name and topic.
        renamed = await alice.client.room_put_state(room, "m.room.topic", {"topic": f"{ref} coordination"})
        assert not isinstance(renamed, RoomPutStateError), renamed

        # A homeserver administrator, who can take any power in a room, opens it while the bot is down,
        # invites ivan, and eve walks in. When the bot is back, it puts every setting back, removes eve and
        # the administrator, and withdraws ivan's invitation before he accepts it.
        ivan = await team.person("ivan")
        bot.stop()
        team.synapse.register(f"root{team.tag}", PASSWORD, admin=True)
        root_token = team.synapse.login(f"root{team.tag}", PASSWORD)
        root = team.id("root")
        _take_power(team, root_token, room, root)
        for kind, content in (
            ("m.room.join_rules", {"join_rule": "public"}),
            ("m.room.history_visibility", {"history_visibility": "world_readable"}),
            ("m.room.guest_access", {"guest_access": "can_join"}),
        ):
            _as(team, root_token, "PUT", f"{_room_path(room)}/state/{kind}/", content)
        _as(team, root_token, "POST", f"{_room_path(room)}/invite", {"user_id": ivan.user_id})
        joined = await eve.client.join(room)
        assert hasattr(joined, "room_id"), joined
        await ivan.until(lambda: room in ivan.invites, "ivan's invitation")
        before = len(alice.from_bot(bot.user_id, room))
        bot.start()
        told = await alice.answer(bot.user_id, room, "changed who may join", after=before, within=90)
        assert root in told.body and "I put it back" in told.body
        removed = await alice.answer(
            bot.user_id, room, f"{eve.user_id} joined the room", after=before, within=60
        )
        assert "without an invitation from me; I removed them" in removed.body
        assert f"!invite {eve.user_id} as <role>" in removed.body
        withdrawn = await alice.answer(
            bot.user_id, room, f"{ivan.user_id} was invited", after=before, within=60
        )
        assert "I withdrew the invitation" in withdrawn.body and f"{root} let them in." in withdrawn.body
        await alice.answer(bot.user_id, room, f"{root} joined the room", after=before, within=60)
        await alice.answer(bot.user_id, dm, f"{eve.user_id} joined the room of case {ref}", within=60)
        await alice.answer(bot.user_id, dm, "changed who may join", within=60)

        async def restored() -> bool:
            rules = await _state(alice, room, "m.room.join_rules")
            history = await _state(alice, room, "m.room.history_visibility")
            guests = await _state(alice, room, "m.room.guest_access")
            return bool(
                rules["join_rule"] == "invite"
                and history["history_visibility"] == "invited"
                and guests["guest_access"] == "forbidden"
            )

        await _until(restored, "the settings to be put back")
        await alice.until(
            lambda: (
                not {eve.user_id, root} & set(alice.client.rooms[room].users)
                and ivan.user_id not in alice.client.rooms[room].invited_users
            ),
            "eve and the administrator removed, ivan's invitation withdrawn",
            within=60,
        )
        assert bob.user_id in alice.client.rooms[room].users
        response = await ivan.client.join(room)
        assert not hasattr(response, "room_id"), "the withdrawn invitation still let ivan in"
        assert root not in (await _state(alice, room, "m.room.power_levels")).get("users", {}) or (
            (await _state(alice, room, "m.room.power_levels"))["users"][root] <= 50
        )
    finally:
        bot.stop()
        if bot.process_failed():
            print(bot.logs()[-5000:])


async def _until(check: Callable[[], Awaitable[bool]], what: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_closed_case_room_is_read_only_and_members_leave_on_their_own(team: Team) -> None:
    alice, bob, carol = await team.person("alice"), await team.person("bob"), await team.person("carol")
    bot = team.bot([alice.user_id])
    bot.start()
    try:
        _dm, room, ref = await _open(team, alice, bot)
        await _member(alice, bot, room, bob, "professional")
        await _member(alice, bot, room, carol, "person")

        # bob leaves by himself: his membership ends, as !remove would.
        await alice.say(room, f"!remind {bob.user_id} in 2 days call the pharmacy")
        await alice.answer(bot.user_id, room, "Reminder 1 set")
        await bob.client.room_leave(room)
        gone = await alice.answer(bot.user_id, room, f"{bob.user_id} has left the case room.", within=60)
        assert "1 reminder addressed to them was cancelled." in gone.body
        count = len(alice.from_bot(bot.user_id, room))
        await alice.say(room, "!members")
        members = await alice.answer(bot.user_id, room, "Care team of", after=count)
        assert bob.user_id not in members.body and carol.user_id in members.body

        # Closed: members read, and the homeserver refuses what they write; the case manager still writes.
        await alice.say(room, "!close moved to a care home")
        await carol.answer(bot.user_id, room, f"Case {ref} is closed")

        async def read_only() -> bool:
            levels = await _state(carol, room, "m.room.power_levels")
            return bool(levels.get("events_default") == 50)

        await _until(read_only, "the room to become read-only")
        refused = await carol.client.room_send(
            room,
            "m.room.message",
            {"msgtype": "m.text", "body": "one more visit"},
            ignore_unverified_devices=True,
        )
        assert isinstance(refused, RoomSendError) and refused.status_code == "M_FORBIDDEN", refused
        count = len(carol.from_bot(bot.user_id, room))
        await alice.say(room, "!case reopen back home after two weeks")
        await carol.answer(bot.user_id, room, f"Case {ref} is open again", after=count, within=60)

        async def writable() -> bool:
            levels = await _state(carol, room, "m.room.power_levels")
            return bool(levels.get("events_default") == 0)

        await _until(writable, "writing to come back")
        sent = await carol.client.room_send(
            room,
            "m.room.message",
            {"msgtype": "m.text", "body": "!log visited, all well"},
            ignore_unverified_devices=True,
        )
        assert isinstance(sent, RoomSendResponse), sent
        await carol.answer(bot.user_id, room, "Logged", within=60)
    finally:
        bot.stop()
        if bot.process_failed():
            print(bot.logs()[-5000:])


async def test_a_room_from_before_the_guard_is_upgraded_at_start(team: Team) -> None:
    alice = await team.person("alice")
    bot = team.bot([alice.user_id])
    bot.start()
    try:
        _dm, room, _ref = await _open(team, alice, bot)
        bot.stop()
        # The room as the bot created rooms before the guard: inviting and the join rules at 50.
        current = await _state(alice, room, "m.room.power_levels")
        old = {**OLD_LEVELS, "users": current.get("users", {})}
        _as(team, _bot_token(bot), "PUT", f"{_room_path(room)}/state/m.room.power_levels/", old)
        assert (await _state(alice, room, "m.room.power_levels"))["invite"] == 50
        bot.start()

        async def upgraded() -> bool:
            levels = await _state(alice, room, "m.room.power_levels")
            events = levels.get("events", {})
            return (
                levels.get("invite") == 100
                and events.get("m.room.join_rules") == 100
                and events.get("m.room.guest_access") == 100
                and events.get("org.caseroom.case") == 100
            )

        await _until(upgraded, "the old room's levels to be upgraded", within=90)
        levels = await _state(alice, room, "m.room.power_levels")
        assert levels["users"][alice.user_id] == 50 and levels["events_default"] == 0
        response = await alice.client.room_put_state(room, "m.room.join_rules", {"join_rule": "public"})
        assert isinstance(response, RoomPutStateError) and response.status_code == "M_FORBIDDEN"
    finally:
        bot.stop()
        if bot.process_failed():
            print(bot.logs()[-5000:])
