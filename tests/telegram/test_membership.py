"""Case rooms and the people in them, on Telegram: opening and linking groups, invitations by personal link
and join request, removal, leaving, names in commands, the command menus, and what becomes of a case when
its group changes (the bot removed, the group upgraded). Everything goes through the suite's fake Bot API
and the bot running in this process; each test checks what the people would see."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.models import Case, Invitation, OutboxRow
from tests.telegram.fake_api import FakeBotAPI, Refused
from tests.telegram.harness import GROUP, JOIN, PEOPLE, START, LiveBot, invite_by_link, record_consent

ALICE, BOB, CAROL, DORA, EVE = (PEOPLE[name] for name in ("alice", "bob", "carol", "dora", "eve"))
REF = re.compile(r"C-\d{4}-\d{4}")
BOT = "caseroom_test_bot"
GROUP_SCOPE, PRIVATE_SCOPE = {"type": "all_group_chats"}, {"type": "all_private_chats"}


# --- helpers ------------------------------------------------------------------------------------------


def last(fake: FakeBotAPI, chat: int) -> int:
    """The id of the bot's latest message in the chat (0: none yet)."""
    return max((m["message_id"] for m in fake.sent(chat)), default=0)


def texts(fake: FakeBotAPI, chat: int, after: int = 0) -> list[str]:
    return [str(m["text"]) for m in fake.sent(chat) if m["message_id"] > after]


async def ask(fake: FakeBotAPI, user: int, chat: int, text: str, expect: str) -> str:
    """`user` writes `text` in `chat`; the bot's first answer there after it that contains `expect`."""
    before = last(fake, chat)
    fake.say(user, chat, text)
    return str((await fake.wait_for_sent(chat, expect, timeout=15, after=before))["text"])


async def wait_until(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not the case after {timeout:.0f} s: {what}")
        await asyncio.sleep(0.05)


async def open_case(
    fake: FakeBotAPI, label: str, group: int = GROUP, creator: int = ALICE, **rights: bool
) -> str:
    """`creator` makes a group, adds the bot as an administrator (with `rights`, all by default) and opens
    a case there; returns its reference."""
    fake.group(group, "new group", creator=creator, members=[])
    fake.add_bot(group, "administrator", **rights)
    answer = await ask(fake, creator, group, f"/case open {label}", "is open")
    found = REF.search(answer)
    assert found is not None, answer
    return found.group(0)


async def invitation(fake: FakeBotAPI, name: str, role: str, group: int = GROUP, manager: int = ALICE) -> str:
    """The case manager invites `name` in the group; returns the token of the link that reached the case
    manager's private chat."""
    if role == "carer":
        await record_consent(fake, "carers", group, manager)
    before = last(fake, manager)
    await ask(fake, manager, group, f"/invite {name} as {role}", f"I invited {name} as {role}")
    sent = await fake.wait_for_sent(manager, f"Invitation for {name} as {role}", after=before)
    token = START.search(str(sent["text"]))
    assert token is not None, sent
    return token.group(1)


async def open_link(fake: FakeBotAPI, user: int, token: str, expect: str) -> str:
    """`user` opens the invitation link t.me/<bot>?start=<token>; the bot's answer containing `expect`."""
    before = last(fake, user)
    fake.start(user, token)
    return str((await fake.wait_for_sent(user, expect, after=before))["text"])


async def join_link(fake: FakeBotAPI, user: int, token: str, language: str = "en") -> str:
    """`user` opens the invitation, answers the language question and gets their join-request link."""
    await open_link(fake, user, token, "Which language")
    answer = await ask(fake, user, user, language, "t.me/+")
    link = JOIN.search(answer)
    assert link is not None, answer
    return link.group(0)


def database(bot: LiveBot) -> async_sessionmaker[AsyncSession]:
    """The running bot's database, for what no message can show (or set)."""
    assert bot.app is not None
    return bot.app.sessions


async def outbox(bot: LiveBot) -> list[OutboxRow]:
    async with database(bot).begin() as session:
        return list(await session.scalars(select(OutboxRow).order_by(OutboxRow.id)))


def sends_to(fake: FakeBotAPI, chat: int) -> int:
    """How many times the bot asked Telegram to send a message to the chat (refused requests count)."""
    return sum(1 for call in fake.calls("sendMessage") if call.get("chat_id") == chat)


# --- opening a case ------------------------------------------------------------------------------------


async def test_case_open_in_the_private_chat_explains_the_steps_and_opens_nothing(
    fake: FakeBotAPI, live: LiveBot
) -> None:
    for command in ("/case open Mrs D at home", "/case open"):
        answer = await ask(fake, ALICE, ALICE, command, "cannot create rooms")
        steps = ("Create a group", "administrator", "invite users", "ban users", "case open", "case link")
        for step in steps:
            assert step in answer, (step, answer)
    # Not even the step-by-step intake starts: an answer is not taken for a label.
    assert "I understand commands" in await ask(fake, ALICE, ALICE, "Mrs D at home", "commands")
    assert "You are not in any open case." in await ask(fake, ALICE, ALICE, "/cases", "case")
    # Someone who is no configured case manager is told so, not how to make a group.
    refused = await ask(fake, BOB, BOB, "/case open Mrs D", "Only case managers")
    assert "Create a group" not in refused
    assert fake.calls("setChatTitle") == [] and fake.calls("createChatInviteLink") == []


async def test_a_group_where_the_bot_cannot_ban_gets_its_title_and_the_ban_right_is_named(
    fake: FakeBotAPI, live: LiveBot
) -> None:
    ref = await open_case(fake, "Mrs D at home", can_restrict_members=False)
    assert fake.title(GROUP) == f"{ref} · Mrs D at home"
    need = str((await fake.wait_for_sent(GROUP, "I still need"))["text"])
    assert need.startswith("alice:")
    assert "the right to ban users" in need
    for other in ("administrator of the group", "invite users", "group info", "see all messages"):
        assert other not in need, (other, need)
    # Given the right, the bot has nothing more to ask for.
    before = last(fake, GROUP)
    fake.set_bot_rights(GROUP, "administrator")
    assert "Care team" in await ask(fake, ALICE, GROUP, "/members", "Care team")
    assert not any("I still need" in text for text in texts(fake, GROUP, before))


async def test_a_group_where_the_bot_is_only_a_member_is_told_it_must_be_an_administrator(
    fake: FakeBotAPI, live: LiveBot
) -> None:
    fake.group(GROUP, "new group", creator=ALICE, members=[])
    fake.add_bot(GROUP, "member")
    # In privacy mode a member bot sees only commands addressed to it by name.
    answer = await ask(fake, ALICE, GROUP, f"/case@{BOT} open Mrs D at home", "is open")
    ref = REF.search(answer)
    assert ref is not None
    need = str((await fake.wait_for_sent(GROUP, "I still need"))["text"])
    assert need.startswith("alice:")
    assert "to be an administrator of the group" in need
    assert "to see all messages" in need
    assert fake.title(GROUP) == "new group"  # a member cannot rename the group


async def test_a_member_bot_names_every_right_it_lacks_at_once(fake: FakeBotAPI, live: LiveBot) -> None:
    fake.group(GROUP, "new group", creator=ALICE, members=[])
    fake.add_bot(GROUP, "member")
    await ask(fake, ALICE, GROUP, f"/case@{BOT} open Mrs D at home", "is open")
    need = str((await fake.wait_for_sent(GROUP, "I still need"))["text"])
    rights = ("administrator of the group", "invite users", "ban users", "group info", "see all messages")
    for right in rights:
        assert right in need, (right, need)


# --- linking a group to a case -------------------------------------------------------------------------


async def test_only_a_case_manager_links_a_group_and_an_open_case_keeps_its_room(
    fake: FakeBotAPI, live: LiveBot
) -> None:
    ref_a = await open_case(fake, "Family A")
    # A stranger in a group of her own can neither open a case nor take one.
    eve_group = -4100
    fake.group(eve_group, "eve's group", creator=EVE, members=[])
    fake.add_bot(eve_group, "administrator")
    await ask(fake, EVE, eve_group, "/case open Family E", "Only case managers can use !case open")
    refused = await ask(fake, EVE, eve_group, f"/case link {ref_a}", "Only a case manager")
    assert ref_a in refused
    # A member who is no case manager neither.
    await invite_by_link(fake, "bob", "professional")
    await fake.wait_for_sent(GROUP, "Welcome, bob.")
    bob_group = -4200
    fake.group(bob_group, "bob's group", creator=BOB, members=[])
    fake.add_bot(bob_group, "administrator")
    await ask(fake, BOB, bob_group, f"/case link {ref_a}", f"Only a case manager of case {ref_a}")
    # The case manager herself: an open case keeps its room, and a case room stays its case's.
    other = -4300
    fake.group(other, "another group", creator=ALICE, members=[])
    fake.add_bot(other, "administrator")
    await ask(fake, ALICE, other, f"/case link {ref_a}", f"Case {ref_a} already has its room.")
    await ask(fake, ALICE, GROUP, f"/case link {ref_a}", f"already the room of case {ref_a}")
    for chat, title in ((eve_group, "eve's group"), (bob_group, "bob's group"), (other, "another group")):
        assert fake.title(chat) == title
    # None of those groups became a case room: commands there are not for the bot.
    before = last(fake, eve_group)
    fake.say(EVE, eve_group, "/members")
    await ask(fake, ALICE, GROUP, "/members", "Care team")  # handled after eve's
    assert last(fake, eve_group) == before


async def test_the_group_of_a_closed_case_goes_to_a_case_that_lost_its_group(
    fake: FakeBotAPI, live: LiveBot
) -> None:
    ref_a = await open_case(fake, "Family A")
    await invite_by_link(fake, "bob", "professional")
    await fake.wait_for_sent(GROUP, "Welcome, bob.")
    group_b = -4300
    ref_b = await open_case(fake, "Family B", group=group_b)
    await ask(fake, ALICE, GROUP, "/close moved to a care home", f"Case {ref_a} is closed")
    # Case B loses its group. No Telegram event clears a case's room (a removed bot keeps it, to be added
    # back), so the database stands in for a group that is gone, as in the core's tests.
    fake.remove_bot(group_b)
    await fake.wait_for_sent(ALICE, "I can no longer write in the room of case")
    async with database(live).begin() as session:
        await session.execute(update(Case).where(Case.ref == ref_b).values(room_id=None))
    # A running bot keeps each case's room in memory (the outbox's cache: "a case's room never changes"),
    # so this edit needs a restart, as an operator's repair would.
    await live.restart()
    # Only a case manager of the closed case may give its room away: its group is read-only (the room
    # guard), so bob's app does not even let him try.
    with pytest.raises(Refused):
        fake.say(BOB, GROUP, f"/case link {ref_b}")
    answer = await ask(fake, ALICE, GROUP, f"/case link {ref_b}", "now the coordination room")
    assert ref_b in answer and "Family B" in answer
    await wait_until(lambda: fake.title(GROUP) == f"{ref_b} · Family B", "the group renamed after case B")
    team = await ask(fake, ALICE, GROUP, "/members", "Care team")
    assert ref_b in team and "bob" not in team
    # bob was in case A, not in B: in this room he is no member any more, and is removed when he speaks.
    await ask(fake, BOB, GROUP, "/plan", "is not a member of the case; I removed them")
    await wait_until(lambda: BOB not in fake.members(GROUP), "bob removed from case B's group")
    # What is addressed to case B now reaches this group.
    await ask(fake, ALICE, GROUP, "/remind room in 2 seconds water the plants", "Reminder 1 set")
    await fake.wait_for_sent(GROUP, "water the plants", after=last(fake, GROUP))


# --- invitations ---------------------------------------------------------------------------------------


async def test_an_invitation_link_works_once_for_the_invitee_who_joins_in_their_language(
    fake: FakeBotAPI, live: LiveBot
) -> None:
    await open_case(fake, "Mrs D at home")
    in_group = last(fake, GROUP)
    token = await invitation(fake, "bob", "professional")
    # The link went to alice's private chat; the group only heard where it went.
    assert any("the invitation link is in our direct chat" in text for text in texts(fake, GROUP, in_group))
    assert not any("start=" in text for text in texts(fake, GROUP))
    welcome = await open_link(fake, BOB, token, "Which language")
    assert "de, en, fr" in welcome
    # A code the bot does not speak is refused and the question stays open.
    assert "de, en, fr" in await ask(fake, BOB, BOB, "klingon", "I do not speak “klingon”")
    answer = await ask(fake, BOB, BOB, "fr", "t.me/+")
    link = JOIN.search(answer)
    assert link is not None
    created = fake.calls("createChatInviteLink")
    assert [(c["chat_id"], c["creates_join_request"]) for c in created] == [(GROUP, True)]
    assert not any(link.group(0) in text for text in texts(fake, GROUP))
    # Whoever opens the same link next gets nothing.
    refused = await open_link(fake, CAROL, token, "does not work")
    assert "t.me/+" not in refused
    team = await ask(fake, ALICE, GROUP, "/members", "Care team")
    assert "bob · professional · invited, not joined yet" in team and "carol" not in team
    # bob asks to join with his link: approved, greeted in French.
    assert fake.request_join(BOB, link.group(0))
    greeting = await fake.wait_for_sent(GROUP, "Bienvenue, bob.")
    assert "professionnel" in str(greeting["text"]).lower()
    assert sorted(fake.members(GROUP)) == [ALICE, BOB]
    assert fake.pending_join_requests(GROUP) == []
    # The link is withdrawn at once: nobody else gets in with it.
    revoked = await fake.wait_for_call("revokeChatInviteLink")
    assert revoked["invite_link"] == link.group(0) and revoked["chat_id"] == GROUP
    assert not fake.request_join(DORA, link.group(0))
    assert DORA not in fake.members(GROUP)
    team = await ask(fake, ALICE, GROUP, "/members", "Care team")
    assert "- bob · professional" in team and "invited, not joined yet" not in team


async def test_an_expired_invitation_link_does_not_work(fake: FakeBotAPI, live: LiveBot) -> None:
    await open_case(fake, "Mrs D at home")
    token = await invitation(fake, "carol", "carer")
    async with database(live).begin() as session:  # a week and a day later
        await session.execute(update(Invitation).values(expires_at=datetime.now(UTC) - timedelta(days=1)))
    answer = await open_link(fake, CAROL, token, "does not work")
    assert "expired" in answer and "Which language" not in answer
    assert fake.calls("createChatInviteLink") == []
    team = await ask(fake, ALICE, GROUP, "/members", "Care team")
    assert "carol · carer · invited, not joined yet" in team
    assert CAROL not in fake.members(GROUP)


async def test_a_leaked_join_link_is_declined_withdrawn_and_reported(fake: FakeBotAPI, live: LiveBot) -> None:
    await open_case(fake, "Mrs D at home")
    token = await invitation(fake, "bob", "professional")
    link = await join_link(fake, BOB, token)
    before = last(fake, GROUP)
    # eve got hold of bob's link and asks first.
    assert fake.request_join(EVE, link)
    report = str((await fake.wait_for_sent(GROUP, "without an invitation", after=before))["text"])
    assert report.startswith("alice:") and "eve asked to join this room" in report
    assert fake.members(GROUP) == [ALICE]
    assert fake.pending_join_requests(GROUP) == []
    revoked = await fake.wait_for_call("revokeChatInviteLink")
    assert revoked["invite_link"] == link
    assert fake.calls("approveChatJoinRequest") == []
    # The withdrawn link works for nobody now, bob included (he needs a new invitation).
    assert not fake.request_join(BOB, link)
    assert not fake.request_join(DORA, link)
    assert EVE not in fake.members(GROUP) and BOB not in fake.members(GROUP)
    # A join request through a link the bot did not make (the group's creator made one in the app) is not
    # played here: the fake Bot API has no way for a user to create an invite link, only the bot's
    # createChatInviteLink. (The core declines anyone who is no invited member whatever the link.)


# --- removing, leaving ---------------------------------------------------------------------------------


async def test_remove_takes_a_member_out_without_a_ban_and_they_can_be_invited_again(
    fake: FakeBotAPI, live: LiveBot
) -> None:
    await open_case(fake, "Mrs D at home")
    await invite_by_link(fake, "bob", "professional")
    await fake.wait_for_sent(GROUP, "Welcome, bob.")
    answer = await ask(fake, ALICE, GROUP, "/remove bob", "bob is no longer a member of this case.")
    assert "0 reminders addressed to them were cancelled" in answer
    ban = await fake.wait_for_call("banChatMember")
    unban = await fake.wait_for_call("unbanChatMember")
    assert (ban["chat_id"], ban["user_id"]) == (GROUP, BOB)
    assert (unban["chat_id"], unban["user_id"]) == (GROUP, BOB)
    await wait_until(lambda: fake.member_status(GROUP, BOB) == "left", "bob out of the group, not banned")
    assert fake.members(GROUP) == [ALICE]
    assert "bob" not in await ask(fake, ALICE, GROUP, "/members", "Care team")
    # A new invitation brings him back, in his new role.
    await record_consent(fake, "carers")
    before = last(fake, GROUP)
    await invite_by_link(fake, "bob", "carer")
    greeting = await fake.wait_for_sent(GROUP, "Welcome, bob.", after=before)
    assert "You are here as carer" in str(greeting["text"])
    assert sorted(fake.members(GROUP)) == [ALICE, BOB]
    assert "- bob · carer" in await ask(fake, ALICE, GROUP, "/members", "Care team")


async def test_remove_without_the_ban_right_tells_the_case_manager_what_is_missing(
    fake: FakeBotAPI, live: LiveBot
) -> None:
    await open_case(fake, "Mrs D at home")
    await invite_by_link(fake, "bob", "professional")
    await fake.wait_for_sent(GROUP, "Welcome, bob.")
    before = last(fake, GROUP)
    fake.set_bot_rights(GROUP, "administrator", can_restrict_members=False)
    await fake.wait_for_sent(GROUP, "I still need", after=before)  # told when the right was taken away
    before = last(fake, GROUP)
    await ask(fake, ALICE, GROUP, "/remove bob", "bob is no longer a member of this case.")
    need = str((await fake.wait_for_sent(GROUP, "I still need", after=before))["text"])
    assert "the right to ban users" in need and "invite users" not in need
    assert BOB in fake.members(GROUP)  # Telegram refused: he is still there, and alice knows why


async def test_removing_an_invitee_who_never_came_bans_nobody_and_ends_their_link(
    fake: FakeBotAPI, live: LiveBot
) -> None:
    await open_case(fake, "Mrs D at home")
    token = await invitation(fake, "carol", "carer")
    await ask(fake, ALICE, GROUP, "/remove carol", "carol is no longer a member of this case.")
    answer = await open_link(fake, CAROL, token, "does not work")
    assert "Which language" not in answer
    assert fake.calls("banChatMember") == [] and fake.calls("unbanChatMember") == []
    assert fake.calls("createChatInviteLink") == []
    assert "carol" not in await ask(fake, ALICE, GROUP, "/members", "Care team")


async def test_a_member_who_leaves_the_group_leaves_the_case_and_their_reminders_end(
    fake: FakeBotAPI, live: LiveBot
) -> None:
    await open_case(fake, "Mrs D at home")
    await invite_by_link(fake, "bob", "professional")
    await fake.wait_for_sent(GROUP, "Welcome, bob.")
    await ask(fake, ALICE, GROUP, "/remind bob in 2 hours bring the care plan", "Reminder 1 set")
    assert "bring the care plan" in await ask(fake, ALICE, GROUP, "/reminders", "Pending reminders")
    before = last(fake, GROUP)
    fake.leave(BOB, GROUP)
    await fake.wait_for_sent(GROUP, "bob has left the case room.", after=before)
    team = await ask(fake, ALICE, GROUP, "/members", "Care team")
    assert "bob" not in team
    await ask(fake, ALICE, GROUP, "/reminders", "No reminders are pending.")


# --- names ---------------------------------------------------------------------------------------------


async def test_people_are_named_in_commands_by_the_name_they_were_invited_by(
    fake: FakeBotAPI, tmp_path: Path
) -> None:
    anna_martin, anna_schmidt = 2001, 2002
    fake.user(anna_martin, "Anna", "Martin")
    fake.user(anna_schmidt, "Anna", "Schmidt")
    fake.user(BOB, "Robert", "Brown")  # his name on Telegram; the team calls him bob
    bot = LiveBot(fake, tmp_path, [anna_martin])
    await bot.start()
    try:
        fake.start(anna_martin)  # the case manager wrote to the bot: she is known by her Telegram name
        await open_case(fake, "Mrs D at home", creator=anna_martin)
        token = await invitation(fake, "bob", "professional", manager=anna_martin)
        # An invitee is named by the name they were invited by, before they even opened their link.
        added = await ask(fake, anna_martin, GROUP, "/plan add Insulin injections owner bob", "Plan item #1")
        assert "added: Insulin injections · owner: bob" in added
        await invitation(fake, "Anna_Schmidt", "professional", manager=anna_martin)
        # A first name two members share is refused, with both named.
        refused = await ask(fake, anna_martin, GROUP, "/plan add Wound care owner anna", "Several members")
        assert "called anna: Anna Martin, Anna_Schmidt." in refused and "Plan item" not in refused
        added = await ask(fake, anna_martin, GROUP, "/plan add Wound care owner Anna_Schmidt", "Plan item #2")
        assert "owner: Anna_Schmidt" in added
        # Someone called just "anna" is someone else again: she can be invited, and "anna" names her.
        await invitation(fake, "anna", "carer", manager=anna_martin)
        added = await ask(fake, anna_martin, GROUP, "/plan add Groceries owner anna", "Plan item #3")
        assert "owner: anna" in added
        await ask(fake, anna_martin, GROUP, "/invite Anna_Martin as carer", "already a member of this case")
        # bob wrote to the bot before, as Robert Brown; once he opens his link he is bob all the same.
        fake.start(BOB)
        assert fake.request_join(BOB, await join_link(fake, BOB, token))
        await fake.wait_for_sent(GROUP, "Welcome, bob.")
        team = await ask(fake, anna_martin, GROUP, "/members", "Care team")
        assert team.splitlines()[1:] == [
            "- Anna Martin · case manager",
            "- bob · professional",
            "- Anna_Schmidt · professional · invited, not joined yet",
            "- anna · carer · invited, not joined yet",
        ]
        plan = await ask(fake, anna_martin, GROUP, "/plan", "Insulin injections")
        assert "#1 Insulin injections · owner: bob" in plan  # the item followed him from his invitation
        assert "#2 Wound care · owner: Anna_Schmidt" in plan
    finally:
        await bot.stop()


# --- menus ---------------------------------------------------------------------------------------------


async def test_the_command_menus_are_set_per_language_for_groups_and_private_chats(
    fake: FakeBotAPI, live: LiveBot
) -> None:
    menus: dict[tuple[str, str], dict[str, str]] = {}
    for language in ("", "en", "fr", "de"):
        for where, scope in (("group", GROUP_SCOPE), ("private", PRIVATE_SCOPE)):
            entries = fake.commands(language, scope)
            menus[language, where] = {e["command"]: e["description"] for e in entries}
            assert {"case", "help"} <= set(menus[language, where]), (language, where)
        group, private = menus[language, "group"], menus[language, "private"]
        assert {"plan", "need", "review", "invite", "remove", "members", "close"} <= set(group)
        assert "start" in private and "cases" in private and "start" not in group
        assert not {"plan", "invite", "remove", "members"} & set(private)
        # A family is one entry that names its commands.
        for menu in (group, private):
            assert "/case open" in menu["case"] and "/case link" in menu["case"]
        assert "/need add" in group["need"] and "/review every" in group["review"]
    # The default scope, for clients in other languages, is the private menu of the bot's language.
    assert fake.commands("", {"type": "default"}) == fake.commands("", PRIVATE_SCOPE)
    assert menus["", "group"] == menus["en", "group"]
    for where in ("group", "private"):
        assert menus["fr", where]["help"] != menus["en", where]["help"]
        assert menus["de", where]["help"] != menus["en", where]["help"]
    assert menus["fr", "group"]["members"] == "Lister les membres, leurs rôles et leurs organisations."
    assert menus["en", "group"]["members"] == "List the members, their roles and organisations."
    assert len(fake.calls("setMyCommands")) == 4 * 2 + 1


# --- the group changes under the case ------------------------------------------------------------------


async def test_a_removed_bot_tells_the_case_manager_and_stops_writing_to_the_group(
    fake: FakeBotAPI, live: LiveBot
) -> None:
    ref = await open_case(fake, "Mrs D at home")
    await ask(fake, ALICE, GROUP, "/remind room in 3 seconds check the pill box", "Reminder 1 set")
    await ask(fake, ALICE, GROUP, "/remind room in 6 seconds water the plants", "Reminder 2 set")
    second_due = time.monotonic() + 6
    fake.remove_bot(GROUP)
    sends = sends_to(fake, GROUP)
    told = await fake.wait_for_sent(ALICE, f"I can no longer write in the room of case {ref}")
    assert "Add me back" in str(told["text"])

    def rang(text: str) -> list[OutboxRow]:
        return [row for row in rows if row.reminder_id and text in str(row.payload.get("text"))]

    def closed(text: str) -> Callable[[], bool]:
        return lambda: any(row.sent_at for row in rang(text))

    # The first reminder falls due: given up at once, nothing asked of Telegram.
    rows: list[OutboxRow] = []
    deadline = time.monotonic() + 15
    while not closed("check the pill box")():
        assert time.monotonic() < deadline, "the first reminder was never handled"
        await asyncio.sleep(0.2)
        rows = await outbox(live)
    assert sends_to(fake, GROUP) == sends
    # Restarted, the bot no longer remembers: Telegram refuses once, and that is the end of it.
    await live.stop()
    await asyncio.sleep(max(second_due - time.monotonic(), 0) + 0.5)  # due while the bot was down
    await live.start()
    deadline = time.monotonic() + 15
    while not closed("water the plants")():
        assert time.monotonic() < deadline, "the second reminder was never handled"
        await asyncio.sleep(0.2)
        rows = await outbox(live)
    # The case lost its group (the room guard): after the restart the reminder is given up without a try.
    assert [str(row.last_error) for row in rang("water the plants")] == ["the case has no room"]
    # Closed for good, not waiting for a retry (nothing of the bot's is pending), nothing asked of Telegram.
    assert sends_to(fake, GROUP) == sends
    rows = await outbox(live)
    assert all(row.sent_at for row in rows if row.case_id is not None or row.room_id == str(GROUP))
    assert fake.sent(GROUP)[-1]["text"].startswith("Reminder 2 set")


async def test_a_group_upgraded_to_a_supergroup_takes_its_case_along(fake: FakeBotAPI, live: LiveBot) -> None:
    ref = await open_case(fake, "Mrs D at home")
    sends = sends_to(fake, GROUP)
    supergroup = fake.migrate(GROUP)
    team = await ask(fake, ALICE, supergroup, "/members", "Care team")
    assert ref in team
    # What is addressed to the case (a greeting, someone leaving) goes to the new chat.
    await invite_by_link(fake, "bob", "professional", group=supergroup)
    await fake.wait_for_sent(supergroup, "Welcome, bob.")
    assert sorted(fake.members(supergroup)) == [ALICE, BOB]
    # The database followed, not only the running bot's memory.
    await live.restart()
    assert "- bob · professional" in await ask(fake, ALICE, supergroup, "/members", "Care team")
    fake.leave(BOB, supergroup)
    await fake.wait_for_sent(supergroup, "bob has left the case room.")
    assert sends_to(fake, GROUP) == sends  # nothing was tried at the old id
