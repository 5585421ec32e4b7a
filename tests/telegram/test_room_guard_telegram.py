"""The room guard on Telegram (issue 15), through the suite's fake Bot API and the bot running in this
process, on SQLite and on PostgreSQL: a linked group's default permissions (members add nobody and change
nothing), people let in by anyone but the bot removed and reported, members who leave or are removed in the
app leaving the case, a closed case's group read-only until it reopens, the guard put back at every start,
and the rights the bot lacks named exactly. The fake's own behaviour for these (setChatPermissions,
chat_member updates, people refused by the group's permissions) is checked at the end, against the Bot API
documentation."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from telegram import Bot, ChatPermissions, Update
from telegram.error import BadRequest

from bot.adapters.telegram.adapter import TelegramAdapter, guarded
from bot.domain.events import MemberJoined, MemberLeft
from bot.settings import TelegramSettings
from tests.telegram.fake_api import CHAT_PERMISSIONS, FakeBotAPI, Refused
from tests.telegram.harness import GROUP, PEOPLE, LiveBot, invite_by_link

ALICE, BOB, CAROL, DORA, EVE = (PEOPLE[name] for name in ("alice", "bob", "carol", "dora", "eve"))
REF = re.compile(r"C-\d{4}-\d{4}")
MEMBERS_MAY = {"can_invite_users", "can_change_info", "can_pin_messages", "can_manage_topics", "can_edit_tag"}
WRITING = set(CHAT_PERMISSIONS) - MEMBERS_MAY


# --- fixtures and helpers ------------------------------------------------------------------------------


@pytest.fixture
async def live(fake: FakeBotAPI, tmp_path: Path, db_url: str) -> AsyncIterator[LiveBot]:
    """The bot in this process over a fresh database of each backend; alice, a case manager, has started
    her private chat with it."""
    bot = LiveBot(fake, tmp_path, [ALICE], database=db_url)
    await bot.start()
    fake.start(ALICE)
    try:
        yield bot
    finally:
        await bot.stop()


def last(fake: FakeBotAPI, chat: int) -> int:
    return max((m["message_id"] for m in fake.sent(chat)), default=0)


def texts(fake: FakeBotAPI, chat: int, after: int = 0) -> list[str]:
    return [str(m["text"]) for m in fake.sent(chat) if m["message_id"] > after]


async def ask(fake: FakeBotAPI, user: int, chat: int, text: str, expect: str) -> str:
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
    fake: FakeBotAPI, label: str, group: int = GROUP, members: list[int] | None = None, **rights: bool
) -> str:
    """alice makes a group (with `members` in it already), adds the bot as an administrator (with
    `rights`, all by default) and opens a case there; returns its reference."""
    fake.group(group, "new group", creator=ALICE, members=members or [])
    fake.add_bot(group, "administrator", **rights)
    found = REF.search(await ask(fake, ALICE, group, f"/case open {label}", "is open"))
    assert found is not None
    return found.group(0)


def guard_calls(fake: FakeBotAPI, chat: int) -> list[dict[str, Any]]:
    return [c for c in fake.calls("setChatPermissions") if c["chat_id"] == chat]


async def guarded_as(fake: FakeBotAPI, chat: int, read_only: bool) -> None:
    """The group's permissions become those of the guard: nothing but writing, and that only when open."""
    expected = {key: (key in WRITING and not read_only) for key in CHAT_PERMISSIONS}
    await wait_until(lambda: fake.permissions(chat) == expected, f"{chat} guarded (read_only={read_only})")


async def a_member(fake: FakeBotAPI, who: str = "bob") -> None:
    await invite_by_link(fake, who, "professional")
    await fake.wait_for_sent(GROUP, f"Welcome, {who}.")


# --- linking -------------------------------------------------------------------------------------------


async def test_a_linked_group_lets_members_write_but_not_add_people_or_change_it(
    fake: FakeBotAPI, live: LiveBot
) -> None:
    await open_case(fake, "Mrs D at home")
    await guarded_as(fake, GROUP, read_only=False)
    call = guard_calls(fake, GROUP)[0]
    assert call["use_independent_chat_permissions"] is True  # no permission implies another
    given = call["permissions"]
    for right in ("can_invite_users", "can_change_info", "can_pin_messages", "can_manage_topics"):
        assert given[right] is False, right
    assert given["can_send_messages"] is True
    # A linked group holding only alice and the bot needs nothing more.
    assert not any("I still need" in text for text in texts(fake, GROUP))
    # bob, a member, writes; he can no longer add anyone (his app refuses), nor can alice's stranger
    # friend get a link from him.
    await a_member(fake)
    assert "Care team" in await ask(fake, BOB, GROUP, "/members", "Care team")
    with pytest.raises(Refused) as refused:
        fake.add_member(GROUP, EVE, by=BOB)
    assert refused.value.reason == "CHAT_ADMIN_REQUIRED"
    assert EVE not in fake.members(GROUP)
    with pytest.raises(Refused):
        fake.create_link(GROUP, by=BOB)


async def test_a_group_linked_with_other_people_in_it_is_reported_and_they_go_when_seen(
    fake: FakeBotAPI, live: LiveBot
) -> None:
    ref = await open_case(fake, "Mrs D at home", members=[CAROL, DORA])
    need = str((await fake.wait_for_sent(GROUP, "I still need"))["text"])
    assert need.startswith("alice:")
    assert "2 other people are in it" in need and "I cannot see who" in need
    assert "only you and me" in need
    for right in ("administrator of the group", "invite users", "ban users", "group info"):
        assert right not in need, (right, need)
    # carol, in the group from before, speaks: she is no member of the case, and is removed.
    before = last(fake, GROUP)
    fake.say(CAROL, GROUP, "hello everyone")
    told = str((await fake.wait_for_sent(GROUP, "I removed them", after=before))["text"])
    assert told.startswith("alice:") and "carol" in told and ref in told
    await wait_until(lambda: fake.member_status(GROUP, CAROL) == "left", "carol out, not banned")
    assert sorted(fake.members(GROUP)) == [ALICE, DORA]


# --- people let in by anyone but the bot ----------------------------------------------------------------


async def test_a_member_added_by_the_owner_is_removed_and_the_case_manager_told_twice(
    fake: FakeBotAPI, live: LiveBot
) -> None:
    ref = await open_case(fake, "Mrs D at home")
    await a_member(fake)
    in_group, in_private = last(fake, GROUP), last(fake, ALICE)
    # The owner keeps Telegram's powers: she adds eve in her app.
    fake.add_member(GROUP, EVE, by=ALICE)
    ban = await fake.wait_for_call("banChatMember")
    unban = await fake.wait_for_call("unbanChatMember")
    assert (ban["chat_id"], ban["user_id"]) == (GROUP, EVE)
    assert (unban["chat_id"], unban["user_id"]) == (GROUP, EVE)
    await wait_until(lambda: fake.member_status(GROUP, EVE) == "left", "eve out of the group, not banned")
    assert sorted(fake.members(GROUP)) == [ALICE, BOB]
    # alice hears it in the group, addressed to her, and in her private chat: who, and who let her in.
    room = str((await fake.wait_for_sent(GROUP, "without an invitation from me", after=in_group))["text"])
    private = str(
        (await fake.wait_for_sent(ALICE, "without an invitation from me", after=in_private))["text"]
    )
    for text in (room, private):
        assert "eve" in text and ref in text and "I removed them" in text
        assert "alice let them in" in text
        assert "/invite" in text or "!invite" in text
    assert room.startswith("alice:")
    # eve is on no care team: the team is what it was.
    team = await ask(fake, ALICE, GROUP, "/members", "Care team")
    assert "eve" not in team and "bob" in team


async def test_someone_who_joins_by_the_owners_link_is_removed(fake: FakeBotAPI, live: LiveBot) -> None:
    await open_case(fake, "Mrs D at home")
    before = last(fake, GROUP)
    link = fake.create_link(GROUP, by=ALICE)
    assert fake.join_by_link(EVE, link)
    told = str((await fake.wait_for_sent(GROUP, "without an invitation from me", after=before))["text"])
    assert "eve" in told and "I do not know who let them in" in told
    await wait_until(lambda: EVE not in fake.members(GROUP), "eve removed")


async def test_a_join_request_the_owner_approved_while_the_bot_was_away_is_undone(
    fake: FakeBotAPI, live: LiveBot
) -> None:
    await open_case(fake, "Mrs D at home")
    link = fake.create_link(GROUP, by=ALICE, creates_join_request=True)
    await live.stop()
    assert fake.request_join(EVE, link)
    fake.approve_join(GROUP, EVE, by=ALICE)  # in her app, before the bot could decline
    assert EVE in fake.members(GROUP)
    before = last(fake, GROUP)
    await live.start()
    told = str((await fake.wait_for_sent(GROUP, "without an invitation from me", after=before))["text"])
    assert "eve" in told and "alice let them in" in told
    await wait_until(lambda: EVE not in fake.members(GROUP), "eve removed")
    assert [c["user_id"] for c in fake.calls("banChatMember")] == [EVE]


# --- leaving -------------------------------------------------------------------------------------------


async def test_a_member_who_leaves_by_themselves_ends_their_membership(
    fake: FakeBotAPI, live: LiveBot
) -> None:
    await open_case(fake, "Mrs D at home")
    await a_member(fake)
    await ask(fake, ALICE, GROUP, "/remind bob in 2 hours bring the care plan", "Reminder 1 set")
    before = last(fake, GROUP)
    fake.leave(BOB, GROUP)
    said = str((await fake.wait_for_sent(GROUP, "bob has left the case room.", after=before))["text"])
    assert "1 reminder addressed to them was cancelled" in said
    assert "bob" not in await ask(fake, ALICE, GROUP, "/members", "Care team")
    await ask(fake, ALICE, GROUP, "/reminders", "No reminders are pending.")
    assert fake.calls("banChatMember") == []  # nobody to remove: he is gone


async def test_a_member_the_owner_removes_in_the_app_leaves_the_case(fake: FakeBotAPI, live: LiveBot) -> None:
    await open_case(fake, "Mrs D at home")
    await a_member(fake)
    before = last(fake, GROUP)
    fake.remove_member(GROUP, BOB, by=ALICE)
    said = await fake.wait_for_sent(GROUP, "was removed from the case room by alice", after=before)
    assert "bob" in str(said["text"])
    assert "bob" not in await ask(fake, ALICE, GROUP, "/members", "Care team")


# --- a closed case ---------------------------------------------------------------------------------------


async def test_a_closed_cases_group_is_read_only_until_the_case_reopens(
    fake: FakeBotAPI, live: LiveBot
) -> None:
    ref = await open_case(fake, "Mrs D at home")
    await a_member(fake)
    await guarded_as(fake, GROUP, read_only=False)
    await ask(fake, ALICE, GROUP, "/close moved to a care home", f"Case {ref} is closed")
    await guarded_as(fake, GROUP, read_only=True)
    # bob's app refuses to send: nothing reaches the group or the bot.
    messages = len(fake.calls("sendMessage"))
    with pytest.raises(Refused) as refused:
        fake.say(BOB, GROUP, "/plan")
    assert refused.value.reason == "CHAT_SEND_PLAIN_FORBIDDEN"
    # The owner (a case manager) still writes, and reopens the case.
    reopened = await ask(fake, ALICE, GROUP, "/case reopen a new need at home", "open again")
    assert ref in reopened
    assert len([c for c in fake.calls("sendMessage")[messages:] if c["chat_id"] == GROUP]) == 1
    await guarded_as(fake, GROUP, read_only=False)
    assert "Service plan" in await ask(fake, BOB, GROUP, "/plan", "Service plan")
    with pytest.raises(Refused):
        fake.add_member(GROUP, EVE, by=BOB)  # writing came back, adding people did not


# --- at start ------------------------------------------------------------------------------------------


async def test_at_start_every_linked_group_is_guarded_again(fake: FakeBotAPI, live: LiveBot) -> None:
    open_group, closed_group, lost_rights = GROUP, -4300, -4500
    await open_case(fake, "Family A", group=open_group)
    ref_b = await open_case(fake, "Family B", group=closed_group)
    ref_c = await open_case(fake, "Family C", group=lost_rights)
    await ask(fake, ALICE, closed_group, "/close moved away", f"Case {ref_b} is closed")
    await guarded_as(fake, closed_group, read_only=True)
    await live.stop()
    # While the bot is away, the owner opens the groups again in her app, and takes a right from the bot in
    # the third (no update tells a bot of either: only a start finds out).
    for group in (open_group, closed_group):
        fake.set_permissions(group, by=ALICE, **dict.fromkeys(CHAT_PERMISSIONS, True))
    fake.set_bot_rights(lost_rights, "administrator", can_restrict_members=False)
    in_c = last(fake, lost_rights)
    calls = len(fake.calls("setChatPermissions"))
    await live.start()
    await guarded_as(fake, open_group, read_only=False)
    await guarded_as(fake, closed_group, read_only=True)
    need = str((await fake.wait_for_sent(lost_rights, "I still need", after=in_c))["text"])
    assert "the right to ban users" in need and "invite users" not in need and ref_c not in need
    assert fake.permissions(lost_rights)["can_send_messages"] is True  # untouched: Telegram refused
    # One request per group.
    assert {c["chat_id"] for c in fake.calls("setChatPermissions")[calls:]} == {
        open_group,
        closed_group,
        lost_rights,
    }
    # A group whose permissions are already right is left as it is (Telegram: CHAT_NOT_MODIFIED).
    await live.restart()
    await wait_until(lambda: len(fake.calls("setChatPermissions")) >= calls + 6, "the second start's guard")
    await guarded_as(fake, closed_group, read_only=True)
    assert "Care team" in await ask(fake, ALICE, open_group, "/members", "Care team")


# --- rights --------------------------------------------------------------------------------------------


async def test_without_the_ban_right_the_guard_waits_and_comes_when_the_right_is_given(
    fake: FakeBotAPI, live: LiveBot
) -> None:
    await open_case(fake, "Mrs D at home", can_restrict_members=False)
    need = str((await fake.wait_for_sent(GROUP, "I still need"))["text"])
    assert "the right to ban users" in need and "set what members may do" in need
    for other in ("administrator of the group", "invite users", "group info", "see all messages", "other"):
        assert other not in need, (other, need)
    assert fake.permissions(GROUP) == dict.fromkeys(CHAT_PERMISSIONS, True)  # Telegram refused
    # Given the right, the bot guards the group at once (no restart).
    fake.set_bot_rights(GROUP, "administrator")
    await guarded_as(fake, GROUP, read_only=False)


async def test_every_missing_right_is_named_and_only_those(fake: FakeBotAPI, live: LiveBot) -> None:
    await open_case(fake, "Mrs D at home", can_invite_users=False, can_change_info=False)
    need = str((await fake.wait_for_sent(GROUP, "I still need"))["text"])
    assert "the right to invite users" in need and "the right to change the group info" in need
    assert "ban users" not in need and "administrator of the group" not in need
    await guarded_as(fake, GROUP, read_only=False)  # the ban right is all the guard needs


async def test_a_closed_case_whose_guard_telegram_refuses_names_the_right(
    fake: FakeBotAPI, live: LiveBot
) -> None:
    ref = await open_case(fake, "Mrs D at home")
    fake.set_bot_rights(GROUP, "administrator", can_restrict_members=False)
    await fake.wait_for_sent(GROUP, "I still need")
    before = last(fake, GROUP)
    await ask(fake, ALICE, GROUP, "/close moved away", f"Case {ref} is closed")
    need = str((await fake.wait_for_sent(GROUP, "I still need", after=before))["text"])
    assert "the right to ban users" in need
    assert fake.permissions(GROUP)["can_send_messages"] is True


async def test_a_removed_bot_leaves_the_case_without_a_room_until_a_group_is_linked(
    fake: FakeBotAPI, live: LiveBot
) -> None:
    ref = await open_case(fake, "Mrs D at home")
    fake.remove_bot(GROUP)
    told = str((await fake.wait_for_sent(ALICE, f"I can no longer write in the room of case {ref}"))["text"])
    assert f"case link {ref}" in told
    other = -4700
    fake.group(other, "second group", creator=ALICE, members=[])
    fake.add_bot(other, "administrator")
    answer = await ask(fake, ALICE, other, f"/case link {ref}", "now the coordination room")
    assert ref in answer
    await guarded_as(fake, other, read_only=False)


# --- the adapter's reading of membership updates --------------------------------------------------------


@pytest.fixture
async def adapter(fake: FakeBotAPI) -> AsyncIterator[TelegramAdapter]:
    """An adapter connected to the fake (to learn who it is), given updates by hand."""
    adapter = TelegramAdapter(TelegramSettings(token=fake.token, base_url=fake.base_url))
    await adapter.connect({})
    yield adapter
    await adapter.close()


def person(user_id: int, first: str, last: str | None = None) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": first, **({"last_name": last} if last else {})}


def joined(who: dict[str, Any], actor: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "chat": {"id": GROUP, "type": "group", "title": "C-2026-0001"},
        "from": actor,
        "date": 1_700_000_000,
        "old_chat_member": {"user": who, "status": "left"},
        "new_chat_member": {"user": who, "status": "member"},
        **more,
    }


async def test_who_let_someone_in_comes_from_the_update(fake: FakeBotAPI, adapter: TelegramAdapter) -> None:
    eve, alice = person(EVE, "Eve", "Stranger"), person(ALICE, "Alice")
    link = {
        "invite_link": "https://t.me/+X",
        "creator": alice,
        "creates_join_request": True,
        "is_primary": False,
        "is_revoked": False,
    }
    cases = {
        "added by alice": (joined(eve, alice), str(ALICE)),
        "her own link": (joined(eve, eve, invite_link=link | {"creates_join_request": False}), ""),
        "request alice approved": (joined(eve, alice, invite_link=link), str(ALICE)),
        "direct request": (joined(eve, alice, via_join_request=True), str(ALICE)),
        "folder link": (joined(eve, eve, via_chat_folder_invite_link=True), ""),
    }
    for n, (what, (change, by)) in enumerate(cases.items()):
        events = await adapter.convert(Update.de_json({"update_id": n, "chat_member": change}, adapter.bot))
        assert events == [MemberJoined("telegram", f"u{n}", str(GROUP), str(EVE), by, "Eve Stranger")], what
    # Removed by alice in her app, or gone by themselves.
    gone = joined(eve, alice) | {
        "old_chat_member": {"user": eve, "status": "member"},
        "new_chat_member": {"user": eve, "status": "kicked", "until_date": 0},
    }
    events = await adapter.convert(Update.de_json({"update_id": 10, "chat_member": gone}, adapter.bot))
    assert events == [MemberLeft("telegram", "u10", str(GROUP), str(EVE), str(ALICE))]
    left = gone | {"from": eve, "new_chat_member": {"user": eve, "status": "left"}}
    events = await adapter.convert(Update.de_json({"update_id": 11, "chat_member": left}, adapter.bot))
    assert events == [MemberLeft("telegram", "u11", str(GROUP), str(EVE), "")]
    # The service message saying the same is not a second event.
    service = {
        "message_id": 5,
        "date": 1_700_000_000,
        "chat": {"id": GROUP, "type": "group", "title": "x"},
        "from": alice,
        "new_chat_members": [eve],
    }
    assert await adapter.convert(Update.de_json({"update_id": 12, "message": service}, adapter.bot)) == []
    assert adapter.info.bot_user == str(fake.bot_id)  # the core never removes the bot itself


def test_the_guards_permissions_leave_members_writing_only() -> None:
    for read_only in (False, True):
        given = guarded(read_only).to_dict()
        assert set(given) == set(CHAT_PERMISSIONS)  # every permission given, none left to a default
        assert {k for k, v in given.items() if v} == (set() if read_only else WRITING)


# --- the fake Bot API, as documented --------------------------------------------------------------------


@pytest.fixture
async def raw(fake: FakeBotAPI) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.base_url) as bot:
        yield bot


async def test_fake_set_chat_permissions_as_documented(fake: FakeBotAPI, raw: Bot) -> None:
    fake.group(GROUP, "g", creator=ALICE, members=[BOB])
    fake.add_bot(GROUP, "member")
    with pytest.raises(BadRequest, match=r"(?i)not enough rights to change chat permissions"):
        await raw.set_chat_permissions(GROUP, ChatPermissions(can_send_messages=True))
    fake.set_bot_rights(GROUP, "administrator", can_restrict_members=False)
    with pytest.raises(BadRequest, match=r"(?i)not enough rights"):
        await raw.set_chat_permissions(GROUP, ChatPermissions(can_send_messages=True))
    fake.set_bot_rights(GROUP, "administrator")
    # Left out means False; without independent permissions, "other messages" implies the sends.
    await raw.set_chat_permissions(GROUP, ChatPermissions(can_send_other_messages=True))
    now = fake.permissions(GROUP)
    assert now["can_send_messages"] and now["can_send_photos"] and not now["can_send_polls"]
    assert not now["can_invite_users"]
    await raw.set_chat_permissions(
        GROUP, ChatPermissions(can_send_other_messages=True), use_independent_chat_permissions=True
    )
    assert not fake.permissions(GROUP)["can_send_messages"]
    with pytest.raises(BadRequest, match=r"(?i)CHAT_NOT_MODIFIED"):
        await raw.set_chat_permissions(
            GROUP, ChatPermissions(can_send_other_messages=True), use_independent_chat_permissions=True
        )
    chat = await raw.get_chat(GROUP)
    assert chat.permissions is not None
    assert chat.permissions.to_dict() == {k: k == "can_send_other_messages" for k in CHAT_PERMISSIONS}
    # bob may not write now; alice, the owner, may.
    with pytest.raises(Refused):
        fake.say(BOB, GROUP, "hello")
    fake.say(ALICE, GROUP, "hello")
    assert await raw.get_chat_member_count(GROUP) == 3


async def test_fake_a_member_bot_obeys_the_groups_permissions(fake: FakeBotAPI, raw: Bot) -> None:
    fake.group(GROUP, "g", creator=ALICE, members=[])
    fake.add_bot(GROUP, "administrator")
    await raw.set_chat_permissions(GROUP, guarded(True), use_independent_chat_permissions=True)
    await raw.send_message(GROUP, "as an administrator")
    fake.set_bot_rights(GROUP, "member")
    with pytest.raises(BadRequest, match=r"(?i)not enough rights to send text messages"):
        await raw.send_message(GROUP, "as a member")


async def test_fake_membership_updates_say_who_and_how(fake: FakeBotAPI, raw: Bot) -> None:
    fake.group(GROUP, "g", creator=ALICE, members=[BOB])
    fake.add_bot(GROUP, "administrator")
    first = await raw.get_updates(
        allowed_updates=["chat_member", "my_chat_member", "message", "chat_join_request"]
    )
    fake.add_member(GROUP, CAROL, by=ALICE)
    link = fake.create_link(GROUP, by=ALICE, creates_join_request=True)
    assert fake.request_join(DORA, link)
    fake.approve_join(GROUP, DORA, by=ALICE)
    fake.remove_member(GROUP, BOB, by=ALICE)
    updates = await raw.get_updates(offset=first[-1].update_id + 1)
    changes = [u.chat_member for u in updates if u.chat_member is not None]
    assert [(c.new_chat_member.user.id, c.from_user.id, c.new_chat_member.status) for c in changes] == [
        (CAROL, ALICE, "member"),
        (DORA, ALICE, "member"),
        (BOB, ALICE, "kicked"),
    ]
    assert changes[1].invite_link is not None and changes[1].invite_link.creator.id == ALICE
    services = [u.message for u in updates if u.message is not None and u.message.new_chat_members]
    assert [(m.from_user.id if m.from_user else 0, m.new_chat_members[0].id) for m in services] == [
        (ALICE, CAROL),
        (DORA, DORA),
    ]
    assert any(u.chat_join_request is not None for u in updates)
    # A member adds people only where the group lets members do so; a banned person only the owner.
    fake.set_permissions(GROUP, by=ALICE, can_invite_users=False)
    with pytest.raises(Refused, match="CHAT_ADMIN_REQUIRED"):
        fake.add_member(GROUP, EVE, by=CAROL)
    fake.set_permissions(GROUP, by=ALICE, can_invite_users=True)
    with pytest.raises(Refused, match="USER_KICKED"):
        fake.add_member(GROUP, BOB, by=CAROL)
    fake.add_member(GROUP, EVE, by=CAROL)
    assert EVE in fake.members(GROUP)
