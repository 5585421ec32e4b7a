"""Every command, run by every role, in every state of the case, inside and outside the case room, against
what the command declares (deny by default)."""

from __future__ import annotations

import pytest

from bot.commands.catalog import build_registry
from bot.commands.registry import Command, Registry
from bot.core.permissions import Direct, Permission
from bot.domain.model import CaseStatus, Role
from tests.harness import Harness

REFUSALS = (
    "cannot use !",
    "works in a case room",
    "works in your direct chat",
    "not a member of case",
    "Only case managers can use",
    "is closed: it can be read, not changed",
    "is for a closed case",
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


def test_a_command_nobody_may_run_cannot_be_declared() -> None:
    async def run(*_args: object) -> None:
        return None

    with pytest.raises(ValueError, match="nobody, nowhere"):
        Registry([Command("secret", (), "", run, Permission())])


def test_the_declarations_keep_the_essential_rules() -> None:
    registry = build_registry()

    def permission(name: str) -> Permission:
        command = registry.get(name)
        assert command is not None
        return command.permission

    assert permission("close").roles == {Role.CASE_MANAGER}
    assert permission("invite").roles == {Role.CASE_MANAGER}
    assert permission("plan edit").roles == {Role.CASE_MANAGER}
    assert Role.OBSERVER not in permission("log").roles
    assert Role.CARER in permission("log").roles and Role.PERSON in permission("log").roles
    assert Role.PERSON in permission("plan").roles
    assert permission("case open").direct is Direct.CONFIGURED_CASE_MANAGERS
    # The whole case goes to its case managers only; anyone may have what the bot holds about them.
    assert permission("export").roles == {Role.CASE_MANAGER} and permission("export").direct is None
    assert permission("export me").roles == set(Role) and permission("export me").direct is Direct.EVERYONE
    # Only reading works once a case is closed.
    readable = {c.name for c in registry if CaseStatus.CLOSED in c.permission.states and c.permission.in_room}
    assert readable == {
        "help",
        "lang",
        "tz",
        "stop",
        "members",
        "plan",
        "history",
        "reminders",
        "case link",
        "export",
        "export me",
        "case reopen",
        "audit",
        "consent",
    }
    # The person decides; a case manager records a decision on their behalf; everyone may read it.
    assert permission("consent give").roles == {Role.PERSON} == permission("consent withdraw").roles
    assert permission("consent record").roles == {Role.CASE_MANAGER}
    assert permission("consent").roles == set(Role)
    # The audit trail of a case is for its case managers, in its room, open or closed.
    assert permission("audit").roles == {Role.CASE_MANAGER} and permission("audit").direct is None
    # Reopening is for a closed case only, and for its case managers.
    assert permission("case reopen").roles == {Role.CASE_MANAGER}
    assert permission("case reopen").states == {CaseStatus.CLOSED}


@pytest.mark.parametrize("state", list(CaseStatus))
@pytest.mark.parametrize("role", list(Role))
async def test_room_commands_follow_their_declarations(
    harness: Harness, role: Role, state: CaseStatus
) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    if state is CaseStatus.CLOSED:
        await harness.say("alice", "!close test", ref)
    user = MEMBERS[role]
    before = await harness.snapshot()
    for command in build_registry():
        if command.name in ("stop",):
            continue
        answers = await harness.say(user, f"!{command.name}", ref)
        await harness.say(user, "!stop", ref)
        assert answers, command.name
        allowed = role in command.permission.roles and state in command.permission.states
        assert refused(answers[0].text) != allowed, (role, state, command.name, answers[0].text)
    if role is not Role.CASE_MANAGER or state is CaseStatus.CLOSED:
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
            # Her answer is the refusal; the rest is the room guard telling the case managers about her.
            mine = [a for a in answers if "alice" not in a.mentions and not a.room.startswith("dm:")]
            assert mine and all("not a member of case" in a.text for a in mine), command.name
            assert all("Secret" not in a.text for a in answers)
    assert await harness.snapshot() == before


async def test_direct_chat_commands_follow_the_table(harness: Harness) -> None:
    for user, is_case_manager in (("alice", True), ("mallory", False)):
        for command in build_registry():
            answers = await harness.say(user, f"!{command.name}")
            await harness.say(user, "!stop")
            assert answers, command.name
            who = command.permission.direct
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
