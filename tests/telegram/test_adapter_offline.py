"""The Telegram adapter's pure parts, offline: how messages are cut and formatted, the sending limits, and
what each kind of update means to the core.

The bot here goes through python-telegram-bot's own offline pattern (its test suite's OfflineRequest,
tests/auxil/networking.py): a request class whose every request fails the test, so nothing in this file
can reach a network.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram import Bot, Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, RequestData

from bot.adapters.telegram.adapter import TelegramAdapter
from bot.adapters.telegram.limits import SendLimits
from bot.adapters.telegram.render import MAX_TEXT, length, pieces, split, to_html
from bot.domain.events import (
    BotStanding,
    ButtonPressed,
    Event,
    JoinRequested,
    MemberJoined,
    MemberLeft,
    RoomMoved,
    SendMessage,
    TextMessage,
)
from bot.settings import TelegramSettings

TOKEN = "123456:OFFLINE-TOKEN"
BOT_ID = 123456
USERNAME = "caseroom_test_bot"
ALICE, BOB = 1001, 1002
GROUP = -4001


class OfflineRequest(BaseRequest):
    """No request leaves this process: one would fail the test that made it."""

    def __init__(self) -> None:
        pass

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def read_timeout(self) -> float | None:
        return 1

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        pytest.fail(f"OfflineRequest: network access disallowed in this test ({method} {url})")


# --- render.split ---------------------------------------------------------------------------------------


def rejoins(text: str, parts: list[str]) -> bool:
    """The parts are the text in order, with nothing but whitespace dropped, and only between parts or
    at the ends (where lines or a long line were cut)."""
    pattern = r"\s*" + r"\s*".join(re.escape(part) for part in parts) + r"\s*"
    return re.fullmatch(pattern, text) is not None


TEXT = st.text(
    st.one_of(
        st.sampled_from([" ", " ", "\n", "\n", "😀", "é", "&", "<"]),
        st.characters(codec="utf-8"),  # no lone surrogates
    ),
    max_size=400,
)


@settings(max_examples=300, deadline=None)
@given(TEXT.filter(lambda t: t.strip()), st.integers(min_value=2, max_value=60))
def test_split_keeps_every_piece_within_the_limit_and_loses_nothing(text: str, limit: int) -> None:
    parts = split(text, limit)
    assert parts and all(part.strip() for part in parts)
    assert all(length(part) <= limit for part in parts), [length(p) for p in parts]
    assert rejoins(text, parts), parts


@settings(max_examples=200, deadline=None)
@given(
    # Lines of at most 10 characters, so at most 20 UTF-16 units: each fits.
    st.lists(st.text(st.sampled_from("ab 😀"), min_size=1, max_size=10).filter(str.strip), min_size=1),
    st.integers(min_value=20, max_value=80),
)
def test_split_cuts_at_line_ends_when_every_line_fits(lines: list[str], limit: int) -> None:
    parts = split("\n".join(lines), limit)
    at = 0
    for part in parts:  # each piece is whole consecutive lines
        taken = part.split("\n")
        assert lines[at : at + len(taken)] == taken, (lines, parts)
        at += len(taken)
    assert at == len(lines)


def test_split_real_messages() -> None:
    lines = [f"{n} · Insulin injections · owner: bob · every day at 08:00" for n in range(200)]
    text = "\n".join(lines)
    parts = split(text)
    assert len(parts) > 1 and "\n".join(parts) == text
    assert all(length(part) <= MAX_TEXT for part in parts)
    assert split("short") == ["short"]


def test_a_single_long_line_is_cut_at_a_space() -> None:
    words = " ".join(f"word{n:04d}" for n in range(1000))  # 9,999 characters, no line end
    parts = split(words)
    assert len(parts) == 3
    assert all(length(part) <= MAX_TEXT for part in parts)
    assert all(re.fullmatch(r"word\d{4}( word\d{4})*", part) for part in parts), "a word was cut"
    assert " ".join(parts) == words


def test_a_line_without_spaces_is_cut_at_the_limit() -> None:
    assert [len(p) for p in split("x" * 10_000)] == [4096, 4096, 1808]


def test_emoji_count_two() -> None:
    emoji = "😀" * 3000  # 6,000 UTF-16 code units in 3,000 characters
    parts = split(emoji)
    assert [len(p) for p in parts] == [2048, 952]
    assert [length(p) for p in parts] == [4096, 1904]
    # 4,095 letters and one emoji: one unit over, so the emoji goes to the next piece.
    parts = split("a" * 4095 + "😀")
    assert parts == ["a" * 4095, "😀"]


# --- render.to_html -------------------------------------------------------------------------------------


def test_user_text_is_escaped() -> None:
    assert to_html("BP <b>high</b> & rising", (), ()) == "BP &lt;b&gt;high&lt;/b&gt; &amp; rising"


def test_the_first_occurrence_of_an_addressees_name_links_to_them() -> None:
    html = to_html("bob, alice: see bob's note", ("1002", "1001"), ("bob", "alice"))
    assert html == (
        '<a href="tg://user?id=1002">bob</a>, <a href="tg://user?id=1001">alice</a>: see bob\'s note'
    )


def test_names_that_are_not_there_leave_the_text_alone() -> None:
    assert to_html("Reminder: call the GP & the <pharmacy>", ("1002",), ("bob",)) == (
        "Reminder: call the GP &amp; the &lt;pharmacy&gt;"
    )
    # Ids that are not Telegram's, and addressees without a name, are not linked.
    assert to_html("bob: hi", ("@bob:matrix",), ("bob",)) == "bob: hi"
    assert to_html("bob: hi", ("1002",), ("",)) == "bob: hi"


def test_names_are_linked_once_each_and_never_inside_another_link_or_an_escape() -> None:
    # "Jo" is in "Joe", linked first: the second link must not nest inside it.
    assert to_html("Joe, Jo: the visit", ("1", "2"), ("Joe", "Jo")) == (
        '<a href="tg://user?id=1">Joe</a>, <a href="tg://user?id=2">Jo</a>: the visit'
    )
    # A whole word is preferred to the same letters inside a longer one.
    assert to_html("Alice, Al: hi", ("2",), ("Al",)) == 'Alice, <a href="tg://user?id=2">Al</a>: hi'
    # Names are found in the text, not in its escaped form ("amp" is in "&amp;").
    assert to_html("R&D, amp: hi", ("3",), ("amp",)) == 'R&amp;D, <a href="tg://user?id=3">amp</a>: hi'
    # A name with markup in it is escaped inside its link.
    assert to_html("<Bo>: hi", ("4",), ("<Bo>",)) == '<a href="tg://user?id=4">&lt;Bo&gt;</a>: hi'


def test_pieces_give_html_and_the_plain_text_to_fall_back_to() -> None:
    message = SendMessage("bob: <check> " + "x " * 3000, ("1002",), mention_names=("bob",))
    parts = pieces(message)
    assert len(parts) == 2
    assert parts[0][0].startswith('<a href="tg://user?id=1002">bob</a>: &lt;check&gt;')
    assert parts[0][1].startswith("bob: <check>")


# --- limits.SendLimits ----------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_one_message_per_second_in_a_chat() -> None:
    clock = FakeClock()
    limits = SendLimits(clock)
    assert limits.wait(ALICE) == 0
    assert limits.wait(ALICE) == pytest.approx(1.0)
    assert limits.wait(BOB) == 0  # another chat is not held up
    clock.now += 0.4
    assert limits.wait(ALICE) == pytest.approx(0.6)  # a refused turn is not counted
    clock.now += 0.6
    assert limits.wait(ALICE) == 0
    assert limits.wait(ALICE) == pytest.approx(1.0)


def test_twenty_messages_per_minute_in_a_group() -> None:
    clock = FakeClock()
    limits = SendLimits(clock)
    for _n in range(20):
        assert limits.wait(GROUP) == 0
        clock.now += 1.0
    # 20 went out between 1000 and 1019: the 21st waits until a minute after the first.
    assert limits.wait(GROUP) == pytest.approx(40.0)
    assert limits.wait(-4002) == 0  # another group has its own minute
    clock.now += 40.0
    assert limits.wait(GROUP) == 0
    assert limits.wait(GROUP) == pytest.approx(1.0)
    # Private chats (positive ids) have no per-minute limit.
    for _n in range(30):
        assert limits.wait(ALICE) == 0
        clock.now += 1.0


def test_thirty_messages_per_second_in_all() -> None:
    clock = FakeClock()
    limits = SendLimits(clock)
    for chat in range(1, 31):
        assert limits.wait(chat) == 0
    assert limits.wait(31) == pytest.approx(1.0)
    clock.now += 0.5
    assert limits.wait(31) == pytest.approx(0.5)
    clock.now += 0.5
    assert limits.wait(31) == 0


def test_pause_after_a_429_holds_every_chat() -> None:
    clock = FakeClock()
    limits = SendLimits(clock)
    limits.pause(5)
    assert limits.wait(ALICE) == pytest.approx(5.0)
    assert limits.wait(GROUP) == pytest.approx(5.0)
    limits.pause(2)  # a shorter pause does not shorten the longer one
    clock.now += 3
    assert limits.wait(BOB) == pytest.approx(2.0)
    clock.now += 2
    assert limits.wait(BOB) == 0


# --- TelegramAdapter.convert ----------------------------------------------------------------------------


@pytest.fixture
async def adapter() -> TelegramAdapter:
    bot = Bot(TOKEN, request=OfflineRequest(), get_updates_request=OfflineRequest())
    telegram = TelegramAdapter(TelegramSettings(token=TOKEN), bot=bot)
    telegram.bot_id, telegram.username = BOT_ID, USERNAME
    return telegram


def user(user_id: int, first: str, last: str | None = None, is_bot: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {"id": user_id, "is_bot": is_bot, "first_name": first}
    if last:
        data["last_name"] = last
    return data


BOT_USER = user(BOT_ID, "Caseroom", is_bot=True) | {"username": USERNAME}
ALICE_USER = user(ALICE, "Alice", "Martin")
BOB_USER = user(BOB, "Bob")
GROUP_CHAT = {"id": GROUP, "type": "group", "title": "Mrs D"}


def private(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "type": "private", "first_name": "someone"}


def message(
    text: str, chat: dict[str, Any], sender: dict[str, Any] = ALICE_USER, **more: Any
) -> dict[str, Any]:
    return {"message_id": 7, "date": 1_700_000_000, "chat": chat, "from": sender, "text": text, **more}


async def convert(adapter: TelegramAdapter, update_id: int, **kind: Any) -> list[Event]:
    return await adapter.convert(Update.de_json({"update_id": update_id, **kind}, adapter.bot))


def member(who: dict[str, Any], status: str, **more: Any) -> dict[str, Any]:
    return {"user": who, "status": status, **more}


ADMIN_RIGHTS = dict.fromkeys(
    (
        "can_be_edited",
        "is_anonymous",
        "can_manage_chat",
        "can_delete_messages",
        "can_manage_video_chats",
        "can_restrict_members",
        "can_promote_members",
        "can_change_info",
        "can_invite_users",
        "can_post_stories",
        "can_edit_stories",
        "can_delete_stories",
    ),
    True,
)
RESTRICTED = dict.fromkeys(
    (
        "can_send_messages",
        "can_send_audios",
        "can_send_documents",
        "can_send_photos",
        "can_send_videos",
        "can_send_video_notes",
        "can_send_voice_notes",
        "can_send_polls",
        "can_send_other_messages",
        "can_add_web_page_previews",
        "can_change_info",
        "can_invite_users",
        "can_pin_messages",
        "can_manage_topics",
        "can_edit_tag",
        "can_react_to_messages",
    ),
    False,
) | {"until_date": 0}


def change(who: dict[str, Any], old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    return {
        "chat": GROUP_CHAT,
        "from": ALICE_USER,
        "date": 1_700_000_000,
        "old_chat_member": member(who, **old),
        "new_chat_member": member(who, **new),
    }


async def test_a_command_addressed_to_the_bot_becomes_a_bang_command(adapter: TelegramAdapter) -> None:
    events = await convert(adapter, 1, message=message("/plan@caseroom_test_bot add x", GROUP_CHAT))
    assert events == [
        TextMessage("telegram", "u1", str(GROUP), str(ALICE), "!plan add x", False, "Alice Martin")
    ]
    events = await convert(adapter, 2, message=message("/plan@CASEROOM_TEST_BOT", GROUP_CHAT))
    assert [e.text for e in events if isinstance(e, TextMessage)] == ["!plan"]
    events = await convert(adapter, 3, message=message("/members", GROUP_CHAT))
    assert [e.text for e in events if isinstance(e, TextMessage)] == ["!members"]


async def test_a_command_for_another_bot_is_nothing(adapter: TelegramAdapter) -> None:
    assert await convert(adapter, 1, message=message("/plan@other_bot add x", GROUP_CHAT)) == []


async def test_start_with_a_token_in_a_private_chat_is_direct(adapter: TelegramAdapter) -> None:
    events = await convert(adapter, 5, message=message("/start TOKEN-123", private(BOB), BOB_USER))
    assert events == [TextMessage("telegram", "u5", str(BOB), str(BOB), "!start TOKEN-123", True, "Bob")]


async def test_plain_group_text_passes_through_unchanged(adapter: TelegramAdapter) -> None:
    text = "  see you at 5 <b>&</b> /plan later "
    events = await convert(adapter, 6, message=message(text, GROUP_CHAT))
    assert events == [TextMessage("telegram", "u6", str(GROUP), str(ALICE), text, False, "Alice Martin")]


async def test_messages_of_bots_and_without_text_are_nothing(adapter: TelegramAdapter) -> None:
    assert (
        await convert(adapter, 1, message=message("/plan", GROUP_CHAT, user(999, "Other", is_bot=True))) == []
    )
    photo = message("", GROUP_CHAT)
    del photo["text"]
    assert await convert(adapter, 2, message=photo | {"caption": "/plan"}) == []


async def test_a_callback_query_is_a_button_press(adapter: TelegramAdapter) -> None:
    bot_message = message("Reminder: pills", GROUP_CHAT, BOT_USER) | {"message_id": 42}
    query = {"id": "77", "from": BOB_USER, "chat_instance": "1", "message": bot_message, "data": "done"}
    events = await convert(adapter, 8, callback_query=query)
    assert events == [ButtonPressed("telegram", "u8", str(GROUP), str(BOB), f"{GROUP}:42", "done", "Bob")]
    # Without data (a game button) or without its message, there is nothing to do.
    assert await convert(adapter, 9, callback_query={k: v for k, v in query.items() if k != "data"}) == []


async def test_a_join_request_through_the_bots_own_link_carries_it(adapter: TelegramAdapter) -> None:
    def request(creator: dict[str, Any]) -> dict[str, Any]:
        link = {
            "invite_link": "https://t.me/+AbCdEf",
            "creator": creator,
            "creates_join_request": True,
            "is_primary": False,
            "is_revoked": False,
        }
        return {
            "chat": GROUP_CHAT,
            "from": BOB_USER,
            "user_chat_id": BOB,
            "date": 1_700_000_000,
            "invite_link": link,
        }

    ours = await convert(adapter, 10, chat_join_request=request(BOT_USER))
    assert ours == [JoinRequested("telegram", "u10", str(GROUP), str(BOB), "Bob", "https://t.me/+AbCdEf")]
    # Someone else's link: the request is the core's to decline, but there is no link of ours to revoke.
    theirs = await convert(adapter, 11, chat_join_request=request(ALICE_USER))
    assert theirs == [JoinRequested("telegram", "u11", str(GROUP), str(BOB), "Bob", "")]


async def test_members_joining_leaving_and_kicked(adapter: TelegramAdapter) -> None:
    left, joined = {"status": "left"}, {"status": "member"}
    kicked = {"status": "kicked", "until_date": 0}
    # alice did each (the update's "from"): she added bob, removed him (see test_room_guard_telegram).
    assert await convert(adapter, 1, chat_member=change(BOB_USER, left, joined)) == [
        MemberJoined("telegram", "u1", str(GROUP), str(BOB), str(ALICE), "Bob")
    ]
    assert await convert(adapter, 2, chat_member=change(BOB_USER, joined, left)) == [
        MemberLeft("telegram", "u2", str(GROUP), str(BOB), str(ALICE))
    ]
    assert await convert(adapter, 3, chat_member=change(BOB_USER, joined, kicked)) == [
        MemberLeft("telegram", "u3", str(GROUP), str(BOB), str(ALICE))
    ]
    # Promoted, not moved: nothing.
    admin = {"status": "administrator"} | ADMIN_RIGHTS
    assert await convert(adapter, 4, chat_member=change(BOB_USER, joined, admin)) == []
    # A restricted member stays "restricted" when they leave; only is_member says they went.
    inside = {"status": "restricted", "is_member": True} | RESTRICTED
    outside = {"status": "restricted", "is_member": False} | RESTRICTED
    assert await convert(adapter, 5, chat_member=change(BOB_USER, joined, inside)) == []
    assert await convert(adapter, 6, chat_member=change(BOB_USER, inside, outside)) == [
        MemberLeft("telegram", "u6", str(GROUP), str(BOB), str(ALICE))
    ]
    assert await convert(adapter, 7, chat_member=change(BOB_USER, outside, inside)) == [
        MemberJoined("telegram", "u7", str(GROUP), str(BOB), str(ALICE), "Bob")
    ]


async def test_the_bot_kicked_from_a_group_loses_its_standing(adapter: TelegramAdapter) -> None:
    admin = {"status": "administrator"} | ADMIN_RIGHTS
    kicked = {"status": "kicked", "until_date": 0}
    assert await convert(adapter, 1, my_chat_member=change(BOT_USER, admin, kicked)) == [
        BotStanding("telegram", "u1", str(GROUP), False)
    ]
    # Added back as an administrator with every right: present, lacking nothing (no request needed).
    assert await convert(adapter, 2, my_chat_member=change(BOT_USER, kicked, admin)) == [
        BotStanding("telegram", "u2", str(GROUP), True, ())
    ]
    # Added back as a plain member: it lacks being an administrator and every right one has (and, in
    # privacy mode, reading the group), all named at once.
    assert await convert(adapter, 3, my_chat_member=change(BOT_USER, admin, {"status": "member"})) == [
        BotStanding("telegram", "u3", str(GROUP), True, ("admin", "invite", "restrict", "title", "read"))
    ]
    partial = (
        {"status": "administrator"} | ADMIN_RIGHTS | {"can_invite_users": False, "can_change_info": False}
    )
    assert await convert(adapter, 4, my_chat_member=change(BOT_USER, kicked, partial)) == [
        BotStanding("telegram", "u4", str(GROUP), True, ("invite", "title"))
    ]


async def test_a_migrated_group_is_a_moved_room(adapter: TelegramAdapter) -> None:
    service = message("", GROUP_CHAT) | {"migrate_to_chat_id": -1000000004001}
    del service["text"]
    assert await convert(adapter, 12, message=service) == [
        RoomMoved("telegram", "u12", str(GROUP), "-1000000004001")
    ]


async def test_an_edited_message_is_nothing(adapter: TelegramAdapter) -> None:
    edited = message("/plan add x", GROUP_CHAT) | {"edit_date": 1_700_000_100}
    assert await convert(adapter, 13, edited_message=edited) == []


async def test_offline_requests_cannot_reach_a_network(adapter: TelegramAdapter) -> None:
    """The guard itself: a request through the offline bot fails the test that makes it."""
    with pytest.raises(pytest.fail.Exception, match="network access disallowed"):
        await adapter.bot.get_me()
