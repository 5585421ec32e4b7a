"""Every command, run by every role, inside and outside the case room, against the permission table."""

from __future__ import annotations

import pytest

from bot.commands.catalog import build_registry
from bot.commands.permissions import DIRECT, IN_ROOM, Direct
from bot.domain.model import Role
from tests.harness import Harness

REFUSALS = (
    "cannot use !",
    "works in a case room",
    "works in your direct chat",
    "not a member of case",
    "Only case managers can use",
)

MEMBERS = {
    Role.CASE_MANAGER: "alice",
    Role.PROFESSIONAL: "bob",
    Role.CARER: "carol",
    Role.PERSON: "dora",
    Role.OBSERVER: "olga",
}


def refused(text: str) -> bool:
    return any(marker in text for marker in REFUSALS)


def test_every_declared_command_is_in_the_table_and_the_table_has_no_orphans() -> None:
    names = {c.name for c in build_registry()}
    assert set(IN_ROOM) | set(DIRECT) == names


def test_the_table_keeps_the_essential_rules() -> None:
    assert IN_ROOM["close"] == {Role.CASE_MANAGER}
    assert IN_ROOM["invite"] == {Role.CASE_MANAGER}
    assert Role.OBSERVER not in IN_ROOM["log"]
    assert Role.CARER in IN_ROOM["log"] and Role.PERSON in IN_ROOM["log"]
    assert Role.PERSON in IN_ROOM["plan"]
    assert DIRECT["case open"] is Direct.CONFIGURED_CASE_MANAGERS


@pytest.mark.parametrize("role", list(Role))
async def test_room_commands_follow_the_table(harness: Harness, role: Role) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    user = MEMBERS[role]
    before = await harness.snapshot()
    for command in build_registry():
        if command.name in ("stop",):
            continue
        answers = await harness.say(user, f"!{command.name}", ref)
        await harness.say(user, "!stop", ref)
        assert answers, command.name
        allowed = role in IN_ROOM.get(command.name, frozenset())
        assert refused(answers[0].text) != allowed, (role, command.name, answers[0].text)
    if role is not Role.CASE_MANAGER:
        # Refused commands, and the others without their arguments, change nothing. (A case manager's bare
        # `!review done` does record a review: its note is optional.)
        assert await harness.snapshot() == before


async def test_nobody_outside_the_case_can_read_or_change_it(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    await harness.one("alice", "!plan add Secret item owner bob", ref)
    await harness.say("mallory", "!help")  # known to the bot, as anyone who writes to it
    before = await harness.snapshot()
    for command in build_registry():
        for rest in ("", " 1", " Secret item"):
            answers = await harness.say("mallory", f"!{command.name}{rest}", ref)
            assert answers and all("not a member of case" in a.text for a in answers), command.name
            assert all("Secret" not in a.text for a in answers)
    assert await harness.snapshot() == before


async def test_direct_chat_commands_follow_the_table(harness: Harness) -> None:
    for user, is_case_manager in (("alice", True), ("mallory", False)):
        for command in build_registry():
            answers = await harness.say(user, f"!{command.name}")
            await harness.say(user, "!stop")
            assert answers, command.name
            who = DIRECT.get(command.name)
            allowed = who is Direct.EVERYONE or (who is Direct.CONFIGURED_CASE_MANAGERS and is_case_manager)
            assert refused(answers[0].text) != allowed, (user, command.name, answers[0].text)


async def test_help_shows_only_what_the_sender_may_run(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    carer_help = await harness.one("carol", "!help", ref)
    manager_help = await harness.one("alice", "!help", ref)
    assert "!log" in carer_help and "!close" not in carer_help and "!invite" not in carer_help
    assert "!close" in manager_help and "!invite" in manager_help
    assert "!case open" not in await harness.one("mallory", "!help")
    assert "!case open" in await harness.one("alice", "!help")
    detail = await harness.one("carol", "!help plan add", ref)
    assert "!plan add <text> [owner <user>]" in detail and "cannot run it here" in detail
