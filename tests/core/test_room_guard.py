"""The room guard in the core: whoever the bot did not let in is removed and reported, members who go
outside the bot end their membership, protective settings are put back, a closed case's room is read-only,
and a case that lost its room gets a new one. Events are fed as an adapter would report them."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from bot.adapters.console import NETWORK
from bot.domain.events import (
    BotStanding,
    MemberInvited,
    MemberJoined,
    MemberLeft,
    ReactionAdded,
    RoomSettingChanged,
    TextMessage,
)
from bot.storage import models
from tests.harness import Harness, Msg

BOT = "caseroom"


def _id() -> str:
    return uuid.uuid4().hex


async def _case(harness: Harness) -> str:
    """A case with a team, on a console that knows the bot's own id."""
    harness.app.services.networks[NETWORK.name] = replace(NETWORK, bot_user=BOT)
    ref = await harness.open_case()
    await harness.team(ref)
    return ref


def _printed(harness: Harness) -> str:
    return harness.adapter.buffer.getvalue()


async def _actions(harness: Harness) -> list[str]:
    async with harness.app.sessions() as session:
        return list(await session.scalars(select(models.AuditEntry.action).order_by(models.AuditEntry.id)))


def _told(messages: list[Msg], ref: str, words: str) -> tuple[list[Msg], list[Msg]]:
    """The notices containing `words`: those in the case room, and those in direct chats."""
    room = [m for m in messages if m.room == ref and words in m.text]
    direct = [m for m in messages if m.room.startswith("dm:") and words in m.text]
    return room, direct


async def test_an_invitation_from_a_members_own_client_is_withdrawn_and_reported_once(
    harness: Harness,
) -> None:
    ref = await _case(harness)
    out = await harness.event(MemberInvited("console", _id(), ref, "eve", "alice"))
    assert "* eve removed from the room" in _printed(harness)
    room, direct = _told(out, ref, "eve was invited to the room of case")
    assert len(room) == 1 and room[0].mentions == ("alice",)
    assert [m.room for m in direct] == ["dm:alice"]
    for notice in room + direct:
        assert "alice let them in." in notice.text
        assert "!invite eve as <role>" in notice.text
    # Her join, which the invitation allowed before it was withdrawn: removed again, not reported twice.
    again = await harness.event(MemberJoined("console", _id(), ref, "eve", by="alice"))
    assert again == []
    assert _printed(harness).count("* eve removed from the room") == 2
    assert "eve" not in await harness.one("alice", "!members", ref)
    actions = await _actions(harness)
    assert actions.count("member.intruder_removed") == 1 and actions.count("member.intruder_let_in") == 1
    # Someone inviting her again is a new act: reported again.
    again = await harness.event(MemberInvited("console", _id(), ref, "eve", "bob"))
    room, direct = _told(again, ref, "eve was invited to the room of case")
    assert len(room) == 1 and "bob let them in." in room[0].text
    assert (await _actions(harness)).count("member.intruder_removed") == 2


async def test_the_bots_own_invitations_and_pending_ones_stand(harness: Harness) -> None:
    ref = await _case(harness)
    await harness.say("alice", "!invite zed as professional", ref)  # console: zed joins at once
    await harness.say("alice", "!remove zed", ref)
    removed_before = _printed(harness).count("removed from the room")
    # The bot's own invitation, seen coming back from the network.
    assert await harness.event(MemberInvited("console", _id(), ref, "bob", BOT)) == []
    # A member invited by the bot and not joined yet, invited again from a client: nothing to undo.
    async with harness.app.sessions.begin() as session:
        bob = await session.scalar(select(models.User).where(models.User.handle == "bob"))
        assert bob is not None
        member = await session.scalar(select(models.Member).where(models.Member.user_id == bob.id))
        assert member is not None
        member.state = "invited"
    assert await harness.event(MemberInvited("console", _id(), ref, "bob", "alice")) == []
    # The bot itself is never removed, whatever is reported about it.
    assert await harness.event(MemberJoined("console", _id(), ref, BOT)) == []
    await harness.event(TextMessage("console", _id(), ref, BOT, "hello", False))
    assert _printed(harness).count("removed from the room") == removed_before


async def test_a_stranger_who_joined_is_removed_and_the_case_managers_are_told(harness: Harness) -> None:
    ref = await _case(harness)
    await harness.say("alice", "!invite zoe as case-manager", ref)
    await harness.say("zoe", "!lang fr")  # zoe reads French: her notices are her own
    out = await harness.event(MemberJoined("console", _id(), ref, "mallory"))
    assert "* mallory removed from the room" in _printed(harness)
    room, direct = _told(out, ref, "mallory")
    assert sorted(m.mentions for m in room) == [("alice",), ("zoe",)]
    # Each in their language: alice in English, zoe in French.
    english = "mallory joined the room of case"
    french = "mallory est entré·e dans le salon de la situation"
    for message in [*room, *direct]:
        zoe = message.mentions == ("zoe",) or message.room == "dm:zoe"
        assert (french if zoe else english) in message.text, message.text
        assert (
            "Je ne sais pas qui l’a fait entrer." if zoe else "I do not know who let them in."
        ) in message.text
    assert sorted(m.room for m in direct) == ["dm:alice", "dm:zoe"]
    assert (await _actions(harness)).count("member.intruder_removed") == 1
    # A former member coming back by themselves is a stranger too.
    await harness.say("alice", "!remove carol", ref)
    harness.clock.advance(timedelta(minutes=10))
    out = await harness.event(MemberJoined("console", _id(), ref, "carol"))
    assert _told(out, ref, "carol joined the room of case")[0]


async def test_someone_who_speaks_or_reacts_without_being_a_member_is_removed(harness: Harness) -> None:
    ref = await _case(harness)
    out = await harness.say("mallory", "hello everyone", ref)
    assert "* mallory removed from the room" in _printed(harness)
    assert _told(out, ref, "mallory is in the room of case")[0]
    # Her next message, before the removal took effect: removed again, reported once.
    out = await harness.say("mallory", "!plan", ref)
    assert [m.text for m in out] == ["You are not a member of case C-2026-0001."]
    out = await harness.event(ReactionAdded("console", _id(), ref, "trudy", "$x", "👍"))
    assert _told(out, ref, "trudy is in the room of case")[0]
    assert (await _actions(harness)).count("member.intruder_removed") == 2
    # Members speak freely.
    assert await harness.say("bob", "I visited today", ref) == []


async def test_a_member_who_leaves_or_is_removed_outside_the_bot_ends_their_membership(
    harness: Harness,
) -> None:
    ref = await _case(harness)
    await harness.one("alice", "!remind carol in 2 days call the pharmacy", ref)
    await harness.one("alice", "!plan add Day centre owner bob", ref)
    out = await harness.event(MemberLeft("console", _id(), ref, "carol"))
    assert [m.text for m in out] == [
        "carol has left the case room.\n1 reminder addressed to them was cancelled."
    ]
    assert "carol" not in await harness.one("alice", "!members", ref)
    assert "call the pharmacy" not in await harness.one("alice", "!reminders", ref)
    out = await harness.event(MemberLeft("console", _id(), ref, "bob", by="alice"))
    text = out[0].text
    assert text.startswith("bob was removed from the case room by alice; their membership has ended.")
    assert "bob owned 1 open plan item" in text
    members = await harness.one("alice", "!members", ref)
    assert "bob" not in members and "carol" not in members
    # Reported once: the same departure again changes nothing.
    assert await harness.event(MemberLeft("console", _id(), ref, "bob")) == []
    actions = await _actions(harness)
    assert "member.left" in actions and "member.removed" in actions


async def test_the_room_hears_when_its_last_case_manager_leaves(harness: Harness) -> None:
    ref = await _case(harness)
    await harness.say("alice", "!invite zoe as case-manager", ref)
    out = await harness.event(MemberLeft("console", _id(), ref, "zoe"))
    assert "no case manager" not in out[0].text
    out = await harness.event(MemberLeft("console", _id(), ref, "alice"))
    assert "The case has no case manager in this room now" in out[0].text


async def test_a_protective_setting_changed_by_someone_else_is_put_back(harness: Harness) -> None:
    ref = await _case(harness)
    out = await harness.event(RoomSettingChanged("console", _id(), ref, "join_rules", "@admin"))
    assert _printed(harness).count("* the room is writable") == 1
    room, direct = _told(out, ref, "@admin changed who may join (the join rules) in the room of case")
    assert len(room) == 1 and [m.room for m in direct] == ["dm:alice"]
    assert "room.setting_restored" in await _actions(harness)
    # What the bot did itself is not undone.
    assert await harness.event(RoomSettingChanged("console", _id(), ref, "power_levels", BOT)) == []
    # A closed case's room is restored read-only.
    await harness.say("alice", "!close moved away", ref)
    await harness.event(RoomSettingChanged("console", _id(), ref, "permissions", "bob"))
    assert _printed(harness).count("* the room is read-only") == 2  # the closure, then the restore


async def test_a_closed_case_room_is_read_only_until_reopened(harness: Harness) -> None:
    ref = await _case(harness)
    assert "is for a closed case" in await harness.one("alice", "!case reopen too early", ref)
    out = await harness.say("alice", "!close moved to a care home", ref)
    assert "Case C-2026-0001 is closed" in out[0].text
    assert _printed(harness).rstrip().endswith("* the room is read-only")
    assert "is closed" in await harness.one("bob", "!log visited, all well", ref)
    assert "Usage" in await harness.one("alice", "!case reopen", ref)  # a reason is required
    assert "cannot use !case reopen" in await harness.one("bob", "!case reopen back home", ref)
    reopened = await harness.one("alice", "!case reopen back home after two weeks", ref)
    assert "Case C-2026-0001 is open again: back home after two weeks." in reopened
    assert _printed(harness).count("* the room is writable") == 1
    assert "is closed" not in await harness.one("bob", "!log visited, all well", ref)
    assert "case reopened: back home after two weeks" in await harness.one("alice", "!history", ref)
    assert "is for a closed case" in await harness.one("alice", "!case reopen again", ref)


async def test_a_case_manager_can_reopen_from_the_direct_chat(harness: Harness) -> None:
    """On Telegram a closed case's group is read-only for whoever is not its administrator."""
    ref = await _case(harness)
    await harness.say("alice", "!close moved to a care home", ref)
    assert "Name the case" in await harness.one("alice", "!case reopen back home")
    assert "cannot use !case reopen" in await harness.one("bob", f"!case reopen {ref} back home")
    assert "You are not a member" in await harness.one("mallory", f"!case reopen {ref} back home")
    out = await harness.say("alice", f"!case reopen {ref} back home")
    assert [m.room for m in out] == [ref, "dm:alice"]
    assert f"Case {ref} is open again: back home." in out[0].text
    assert out[1].text == f"Case {ref} is open again; I told its room."
    assert _printed(harness).count("* the room is writable") == 1


async def test_a_case_that_lost_its_room_gets_a_new_one(harness: Harness) -> None:
    ref = await _case(harness)
    await harness.say("alice", "!invite zoe as case-manager", ref)
    await harness.say("zoe", "!help")  # zoe has a direct chat with the bot
    assert "already has its room" in await harness.one("alice", f"!case room {ref}")
    out = await harness.event(BotStanding("console", _id(), ref, False))
    assert {m.room for m in out} == {"dm:alice", "dm:zoe"}
    assert all(f"!case room {ref}" in m.text for m in out)
    assert "no room: !case room" in await harness.one("alice", "!cases")
    async with harness.app.sessions() as session:
        case = await session.scalar(select(models.Case).where(models.Case.ref == ref))
        assert case is not None and case.room_id is None
    # Only a case manager of the case may ask for a new room.
    assert "cannot use !case room" in await harness.one("bob", f"!case room {ref}")
    out = await harness.say("alice", f"!case room {ref}")
    assert (
        "I am creating a new room for case C-2026-0001 and inviting its 6 current members again."
        in out[0].text
    )
    created = _printed(harness).split("* room created: C-2026-0001 · Mrs D at home")
    assert len(created) == 3  # the first room, and this one
    welcomes = [m for m in out if m.text.startswith("Welcome,")]
    assert len(welcomes) == 6  # everyone joined the new room, and was greeted there
    assert "invited, not joined yet" not in await harness.one("alice", "!members", ref)
    assert "already has its room" in await harness.one("alice", f"!case room {ref}")


async def test_a_new_room_is_refused_where_the_bot_cannot_create_rooms_or_the_case_is_closed(
    harness: Harness,
) -> None:
    ref = await _case(harness)
    await harness.say("alice", "!close done", ref)
    await harness.event(BotStanding("console", _id(), ref, False))
    assert "is closed" in await harness.one("alice", f"!case room {ref}")
    assert "You are not a member of case" in await harness.one("mallory", f"!case room {ref}")
    harness.app.services.networks[NETWORK.name] = replace(NETWORK, creates_rooms=False)
    assert "!case link" in await harness.one("alice", f"!case room {ref}")


async def test_what_was_for_a_lost_room_is_given_up_until_a_new_one_is_made(harness: Harness) -> None:
    ref = await _case(harness)
    await harness.one("alice", "!remind room in 1 hour check the pill box", ref)
    await harness.event(BotStanding("console", _id(), ref, False))
    harness = await harness.restart()  # a new process: nothing remembered of the lost room
    try:
        assert await harness.advance(timedelta(hours=1)) == []
        async with harness.app.sessions() as session:
            rows = list(
                await session.scalars(
                    select(models.OutboxRow).where(models.OutboxRow.reminder_id.is_not(None))
                )
            )
        assert [(r.sent_at is not None, r.last_error) for r in rows] == [(True, "the case has no room")]
        # A new room: what is said to the case from then on arrives there.
        await harness.say("alice", f"!case room {ref}")
        assert "Care team of" in await harness.one("alice", "!members", ref)
    finally:
        await harness.close()
