"""The fake Bot API, checked through python-telegram-bot's own ``telegram.Bot``."""

from __future__ import annotations

import asyncio
import datetime as dtm
import struct
import threading
import time
import zlib
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Conflict, Forbidden, InvalidToken, RetryAfter

from tests.telegram.fake_api import FakeBotAPI

ANN, BOB, CLEO = 1001, 1002, 1003
GROUP = -4001
EVERYTHING = ["message", "callback_query", "my_chat_member", "chat_member", "chat_join_request"]


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as fake:
        fake.user(ANN, "Ann", username="ann")
        fake.user(BOB, "Bob", language_code="fr")
        fake.user(CLEO, "Cleo")
        yield fake


@pytest.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[Bot]:
    async with Bot(api.token, base_url=api.base_url) as telegram_bot:
        yield telegram_bot


async def drain(bot: Bot, allowed: list[str] | None = None) -> list[Update]:
    """Everything pending, confirmed."""
    updates = await bot.get_updates(allowed_updates=allowed)
    if updates:
        await bot.get_updates(offset=updates[-1].update_id + 1)
    return list(updates)


async def admin_group(api: FakeBotAPI, bot: Bot, **rights: bool) -> None:
    """A group of Ann (creator) and Bob with the bot as admin, updates drained, chat_member allowed."""
    api.group(GROUP, "Care team", creator=ANN, members=[BOB])
    await drain(bot, EVERYTHING)
    api.add_bot(GROUP, "administrator", **rights)
    await drain(bot)


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"".join(b"\x00" + b"\x80" * width for _ in range(height)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


# --- getMe, routes, encodings -----------------------------------------------------------------------------


async def test_get_me_parses_and_reflects_the_configuration() -> None:
    fake = FakeBotAPI(username="other_bot", can_read_all_group_messages=True)
    async with fake, Bot(fake.token, base_url=fake.base_url) as bot:
        me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123456, True, "other_bot")
    assert me.can_read_all_group_messages is True and me.can_join_groups is True
    assert me.supports_inline_queries is False


async def test_wrong_token_and_unknown_method(api: FakeBotAPI) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("123456:WRONG", base_url=api.base_url):
            pass
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{api.base_url}{api.token}/noSuchMethod") as response:
            assert response.status == 404
            assert await response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        async with http.get(f"{api.base_url}123456:WRONG/getMe") as response:
            assert response.status == 401
            assert (await response.json())["description"] == "Unauthorized"


async def test_json_urlencoded_and_query_parameters_are_all_accepted(api: FakeBotAPI) -> None:
    api.start(ANN)
    markup = {"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]}
    url = f"{api.base_url}{api.token}/sendMessage"
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"chat_id": ANN, "text": "json", "reply_markup": markup}) as response:
            assert (await response.json())["result"]["reply_markup"] == markup
        form = {"chat_id": str(ANN), "text": "form", "reply_markup": '{"inline_keyboard": []}'}
        async with http.post(url, data=form) as response:
            assert (await response.json())["ok"] is True
        async with http.get(url, params={"chat_id": str(ANN), "text": "query"}) as response:
            assert (await response.json())["result"]["text"] == "query"
    assert [m["text"] for m in api.sent(ANN)] == ["json", "form", "query"]
    assert api.calls("sendMessage")[1]["reply_markup"] == {"inline_keyboard": []}


# --- getUpdates -------------------------------------------------------------------------------------------


async def test_updates_are_redelivered_until_an_offset_confirms_them(api: FakeBotAPI, bot: Bot) -> None:
    api.say(ANN, ANN, "one")
    api.say(ANN, ANN, "two")
    first = await bot.get_updates()
    assert [u.message.text for u in first if u.message] == ["one", "two"]
    assert [u.update_id for u in first] == [1, 2]
    assert [u.update_id for u in await bot.get_updates()] == [1, 2]  # not confirmed yet
    assert [u.update_id for u in await bot.get_updates(limit=1)] == [1]
    assert [u.update_id for u in await bot.get_updates(offset=2)] == [2]  # confirms 1
    assert [u.update_id for u in await bot.get_updates()] == [2]
    assert await bot.get_updates(offset=3) == ()
    api.say(ANN, ANN, "three")
    assert [u.update_id for u in await bot.get_updates()] == [3]


async def test_long_polling_returns_when_a_user_writes(api: FakeBotAPI, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.3)
    assert not poll.done()
    began = time.monotonic()
    api.say(BOB, BOB, "/start")
    updates = await asyncio.wait_for(poll, 3)
    assert time.monotonic() - began < 1.5
    message = updates[0].message
    assert message is not None and message.text == "/start" and message.chat.type == "private"
    assert message.entities[0].type == "bot_command" and message.entities[0].length == 6


async def test_long_polling_waits_out_its_timeout(bot: Bot) -> None:
    began = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert time.monotonic() - began >= 0.9


async def test_a_second_poller_terminates_the_first(api: FakeBotAPI, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    async with Bot(api.token, base_url=api.base_url) as other_instance:
        second = asyncio.create_task(other_instance.get_updates(timeout=5))
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await asyncio.wait_for(first, 3)
        api.say(ANN, ANN, "hi")
        assert len(await asyncio.wait_for(second, 3)) == 1


async def test_webhook_blocks_get_updates_until_deleted(bot: Bot) -> None:
    await bot.set_webhook("https://example.invalid/hook", secret_token="s3cret")
    assert (await bot.get_webhook_info()).url == "https://example.invalid/hook"
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    await bot.delete_webhook()
    assert await bot.get_updates() == ()


async def test_allowed_updates_is_remembered_and_chat_member_is_not_sent_by_default(
    api: FakeBotAPI, bot: Bot
) -> None:
    api.group(GROUP, "Care team", creator=ANN, members=[BOB])
    api.add_bot(GROUP, "administrator")
    api.leave(BOB, GROUP)
    kinds = [u.to_dict().keys() - {"update_id"} for u in await drain(bot)]
    assert {"chat_member"} not in kinds and {"my_chat_member"} in kinds
    await drain(bot, ["chat_member"])  # remembered for the next calls
    api.say(ANN, GROUP, "not wanted now")
    link = await bot.create_chat_invite_link(GROUP)
    assert api.join_by_link(BOB, link.invite_link)
    updates = await drain(bot)
    assert [u.chat_member.new_chat_member.status for u in updates if u.chat_member] == ["member"]
    assert all(u.message is None for u in updates)


# --- sendMessage ------------------------------------------------------------------------------------------


async def test_text_length_is_counted_in_utf16_after_entity_parsing(api: FakeBotAPI, bot: Bot) -> None:
    api.start(ANN)
    assert (await bot.send_message(ANN, "a" * 4096)).text == "a" * 4096
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(ANN, "a" * 4097)
    await bot.send_message(ANN, "😀" * 2048)  # 4096 UTF-16 code units
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(ANN, "😀" * 2049)  # 2049 characters but 4098 code units
    await bot.send_message(ANN, "<b>" + "a" * 4096 + "</b>", parse_mode=ParseMode.HTML)  # tags don't count
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(ANN, "<b> </b>", parse_mode=ParseMode.HTML)
    assert len(api.sent(ANN)) == 3


@pytest.mark.parametrize(
    "bad",
    [
        "<b>x",
        "a < b",
        "fish & chips",
        "<b>x</i>",
        "<foo>x</foo>",
        "<b><i>x</b></i>",
        "x</b>",
        "<span>x</span>",
    ],
)
async def test_html_that_telegram_rejects(api: FakeBotAPI, bot: Bot, bad: str) -> None:
    api.start(ANN)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(ANN, bad, parse_mode=ParseMode.HTML)
    assert api.sent(ANN) == []


async def test_escaped_html_passes_and_yields_text_and_entities(api: FakeBotAPI, bot: Bot) -> None:
    api.start(ANN)
    message = await bot.send_message(
        ANN, "a &lt; b &amp;&#33; 😀 <b>bold</b> <i>it</i>", parse_mode=ParseMode.HTML
    )
    assert message.text == "a < b &! 😀 bold it"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bold", 12, 4), ("italic", 17, 2)]
    sent = api.sent(ANN)[0]
    assert sent["parse_mode"] == "HTML" and sent["source"].startswith("a &lt; b")
    assert sent["entities"][0]["type"] == "bold"


async def test_a_tg_user_link_becomes_a_text_mention(api: FakeBotAPI, bot: Bot) -> None:
    api.start(ANN)
    message = await bot.send_message(
        ANN,
        'Hi <a href="tg://user?id=1002">Bob</a>, see <a href="https://example.org/x?a=1&amp;b=2">this</a>',
        parse_mode=ParseMode.HTML,
    )
    mention, link = message.entities
    assert mention.type == "text_mention" and mention.user is not None and mention.user.id == BOB
    assert (mention.offset, mention.length) == (3, 3)
    assert link.type == "text_link" and link.url == "https://example.org/x?a=1&b=2"


async def test_who_the_bot_may_write_to(api: FakeBotAPI, bot: Bot) -> None:
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await bot.send_message(ANN, "hello")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999, "hello")
    api.say(ANN, ANN, "hi bot")
    await bot.send_message(ANN, "hello")
    api.block(ANN)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(ANN, "still there?")
    updates = await drain(bot)
    blocked = updates[-1].my_chat_member
    assert blocked is not None and blocked.new_chat_member.status == "kicked"
    api.group(GROUP, "Care team", creator=ANN, members=[BOB])
    with pytest.raises(Forbidden, match="bot is not a member of the group chat"):
        await bot.send_message(GROUP, "hello")
    api.add_bot(GROUP)
    await bot.send_message(GROUP, "hello group")
    api.remove_bot(GROUP)
    with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
        await bot.send_message(GROUP, "hello again")
    assert [m["text"] for m in api.sent(GROUP)] == ["hello group"]


async def test_privacy_mode_hides_ordinary_group_messages(api: FakeBotAPI, bot: Bot) -> None:
    api.group(GROUP, "Care team", creator=ANN, members=[BOB, CLEO])
    api.add_bot(GROUP)
    await drain(bot, EVERYTHING)
    api.leave(CLEO, GROUP)  # chat_member updates go to admin bots only; service messages to all
    (left,) = await drain(bot)
    assert left.message is not None and left.message.left_chat_member is not None
    api.say(BOB, GROUP, "hello all")
    api.say(BOB, GROUP, "/plan@caseroom_test_bot")
    api.say(BOB, GROUP, "/plan@some_other_bot")
    texts = [u.message.text for u in await drain(bot) if u.message]
    assert texts == ["/plan@caseroom_test_bot"]
    api.set_bot_rights(GROUP, "administrator")  # admins see everything
    await drain(bot)
    api.say(BOB, GROUP, "hello again")
    assert [u.message.text for u in await drain(bot) if u.message] == ["hello again"]


async def test_buttons_callback_queries_and_edits(api: FakeBotAPI, bot: Bot) -> None:
    api.start(ANN)
    await drain(bot)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Done", callback_data="done:7")]])
    message = await bot.send_message(ANN, "Visit <b>today</b>?", parse_mode="HTML", reply_markup=keyboard)
    with pytest.raises(ValueError, match="no button"):
        api.press(ANN, ANN, message.message_id, "other")
    query_id = api.press(ANN, ANN, message.message_id, "done:7")
    (update,) = await drain(bot)
    query = update.callback_query
    assert query is not None and query.id == query_id and query.data == "done:7"
    assert query.from_user.id == ANN and query.message is not None
    assert query.message.message_id == message.message_id
    assert await bot.answer_callback_query(query_id, text="Logged")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query_id)
    assert api.answers()[0]["answer"]["text"] == "Logged"
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "Visit <b>today</b>?", ANN, message.message_id, parse_mode="HTML", reply_markup=keyboard
        )
    edited = await bot.edit_message_text("Logged ✓", ANN, message.message_id)
    assert isinstance(edited, object) and api.sent(ANN)[0]["text"] == "Logged ✓"
    assert api.sent(ANN)[0]["reply_markup"] is None and api.sent(ANN)[0]["edits"][0]["text"] == "Visit today?"
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", ANN, 999)


# --- invite links and join requests -----------------------------------------------------------------------


async def test_invite_links_need_rights_and_reject_member_limit_with_join_request(
    api: FakeBotAPI, bot: Bot
) -> None:
    await admin_group(api, bot, can_invite_users=False)
    with pytest.raises(BadRequest, match=r"(?i)not enough rights to manage chat invite links"):
        await bot.create_chat_invite_link(GROUP)
    api.set_bot_rights(GROUP, "administrator", can_invite_users=True)
    with pytest.raises(BadRequest, match=r"(?i)can't combine member limit with join request"):
        await bot.create_chat_invite_link(GROUP, member_limit=1, creates_join_request=True)
    expires = dtm.datetime.now(dtm.UTC) + dtm.timedelta(days=1)
    link = await bot.create_chat_invite_link(GROUP, name="Nurse", expire_date=expires, member_limit=1)
    assert link.invite_link.startswith("https://t.me/+") and link.name == "Nurse"
    assert link.member_limit == 1 and link.creator.id == api.bot_id and not link.is_revoked
    assert link.expire_date is not None and abs((link.expire_date - expires).total_seconds()) < 1


async def test_join_request_flow_ends_with_a_chat_member_update(api: FakeBotAPI, bot: Bot) -> None:
    await admin_group(api, bot)
    link = await bot.create_chat_invite_link(GROUP, creates_join_request=True, name="case C-1")
    assert api.request_join(CLEO, link.invite_link) is True
    (update,) = await drain(bot)
    request = update.chat_join_request
    assert request is not None and request.from_user.id == CLEO and request.user_chat_id == CLEO
    assert request.chat.id == GROUP and request.invite_link is not None
    assert request.invite_link.invite_link == link.invite_link
    await bot.send_message(request.user_chat_id, "Please wait")  # allowed while the request is pending
    assert await bot.approve_chat_join_request(GROUP, CLEO) is True
    updates = await drain(bot)
    joined = next(u.chat_member for u in updates if u.chat_member)
    assert joined.old_chat_member.status == "left" and joined.new_chat_member.status == "member"
    assert joined.new_chat_member.user.id == CLEO
    assert joined.invite_link is not None and joined.invite_link.invite_link == link.invite_link
    assert CLEO in api.members(GROUP)
    assert isinstance(await bot.get_chat_member(GROUP, CLEO), ChatMemberMember)
    with pytest.raises(BadRequest, match=r"(?i)HIDE_REQUESTER_MISSING"):
        await bot.approve_chat_join_request(GROUP, CLEO)


async def test_a_revoked_link_cannot_be_used(api: FakeBotAPI, bot: Bot) -> None:
    await admin_group(api, bot)
    link = await bot.create_chat_invite_link(GROUP, creates_join_request=True)
    revoked = await bot.revoke_chat_invite_link(GROUP, link.invite_link)
    assert revoked.is_revoked and revoked.invite_link == link.invite_link
    assert api.request_join(CLEO, link.invite_link) is False
    assert api.request_join(CLEO, "https://t.me/+unknown") is False
    assert await drain(bot) == []
    with pytest.raises(BadRequest, match=r"(?i)INVITE_HASH_INVALID"):
        await bot.revoke_chat_invite_link(GROUP, "https://t.me/+unknown")


async def test_a_declined_request_leaves_no_member(api: FakeBotAPI, bot: Bot) -> None:
    await admin_group(api, bot)
    link = await bot.create_chat_invite_link(GROUP, creates_join_request=True)
    assert api.request_join(CLEO, link.invite_link)
    assert api.pending_join_requests(GROUP) == [CLEO]
    assert await bot.decline_chat_join_request(GROUP, CLEO) is True
    assert CLEO not in api.members(GROUP) and api.pending_join_requests(GROUP) == []
    assert isinstance(await bot.get_chat_member(GROUP, CLEO), ChatMemberLeft)
    assert not any(u.chat_member for u in await drain(bot))
    with pytest.raises(BadRequest, match=r"(?i)HIDE_REQUESTER_MISSING"):
        await bot.decline_chat_join_request(GROUP, CLEO)


async def test_ban_then_unban_leaves_the_user_out_but_free_to_rejoin(api: FakeBotAPI, bot: Bot) -> None:
    await admin_group(api, bot, can_restrict_members=False)
    with pytest.raises(BadRequest, match=r"(?i)not enough rights to restrict/unrestrict chat member"):
        await bot.ban_chat_member(GROUP, BOB)
    api.set_bot_rights(GROUP, "administrator")
    with pytest.raises(BadRequest, match=r"(?i)can't remove chat owner"):
        await bot.ban_chat_member(GROUP, ANN)
    await drain(bot)
    assert await bot.ban_chat_member(GROUP, BOB)
    banned = next(u.chat_member for u in await drain(bot) if u.chat_member)
    assert banned.new_chat_member.status == "kicked" and banned.from_user.id == api.bot_id
    assert isinstance(await bot.get_chat_member(GROUP, BOB), ChatMemberBanned)
    link = await bot.create_chat_invite_link(GROUP)
    assert api.join_by_link(BOB, link.invite_link) is False  # banned
    assert await bot.unban_chat_member(GROUP, BOB)
    assert api.member_status(GROUP, BOB) == "left" and BOB not in api.members(GROUP)
    assert api.join_by_link(BOB, link.invite_link) is True
    assert BOB in api.members(GROUP)


# --- errors with parameters -------------------------------------------------------------------------------


async def test_fail_surfaces_as_retry_after(
    api: FakeBotAPI, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    api.start(ANN)
    api.fail("sendMessage", retry_after=7)
    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(ANN, "flood")
    assert raised.value.retry_after == dtm.timedelta(seconds=7)
    await bot.send_message(ANN, "after the wait")
    assert [m["text"] for m in api.sent(ANN)] == ["after the wait"]
    assert len(api.calls("sendMessage")) == 2
    api.fail("getChat", error_code=500)
    with pytest.raises(Exception, match="Internal Server Error"):
        await bot.get_chat(ANN)


async def test_migrated_group_answers_with_the_new_id(api: FakeBotAPI, bot: Bot) -> None:
    api.group(GROUP, "Care team", creator=ANN, members=[BOB])
    api.add_bot(GROUP)
    await drain(bot)
    new_id = api.migrate(GROUP)
    assert str(new_id).startswith("-100")
    with pytest.raises(ChatMigrated) as raised:
        await bot.send_message(GROUP, "hello")
    assert raised.value.new_chat_id == new_id
    sent = await bot.send_message(new_id, "hello supergroup")
    assert sent.chat.type == "supergroup" and sent.message_id == 2
    messages = [u.message for u in await drain(bot) if u.message]
    assert [(m.chat.id, m.migrate_to_chat_id, m.migrate_from_chat_id) for m in messages] == [
        (GROUP, new_id, None),
        (new_id, None, GROUP),
    ]
    assert set(api.members(new_id)) == {ANN, BOB}


# --- members, chats, commands, files ----------------------------------------------------------------------


async def test_get_chat_member_parses_to_the_right_subclass(api: FakeBotAPI, bot: Bot) -> None:
    await admin_group(api, bot, can_restrict_members=False, can_change_info=False)
    me = await bot.get_chat_member(GROUP, api.bot_id)
    assert isinstance(me, ChatMemberAdministrator)
    assert me.can_invite_users and me.can_manage_chat and me.can_delete_messages
    assert not me.can_restrict_members and not me.can_change_info and not me.can_promote_members
    assert isinstance(await bot.get_chat_member(GROUP, ANN), ChatMemberOwner)
    assert isinstance(await bot.get_chat_member(GROUP, BOB), ChatMemberMember)
    assert isinstance(await bot.get_chat_member(GROUP, CLEO), ChatMemberLeft)
    admins = await bot.get_chat_administrators(GROUP)
    assert {a.user.id for a in admins} == {ANN, api.bot_id}
    chat = await bot.get_chat(GROUP)
    assert (chat.id, chat.type, chat.title) == (GROUP, "group", "Care team")
    assert await bot.get_chat_member_count(GROUP) == 3


async def test_set_chat_title_needs_can_change_info(api: FakeBotAPI, bot: Bot) -> None:
    await admin_group(api, bot, can_change_info=False)
    with pytest.raises(BadRequest, match=r"(?i)not enough rights to change chat title"):
        await bot.set_chat_title(GROUP, "C-2026-0001")
    assert api.title(GROUP) == "Care team"
    api.set_bot_rights(GROUP, "administrator", can_change_info=True)
    assert await bot.set_chat_title(GROUP, "C-2026-0001")
    assert api.title(GROUP) == "C-2026-0001"
    assert (await bot.get_chat(GROUP)).title == "C-2026-0001"


async def test_commands_are_stored_per_language_and_scope(api: FakeBotAPI, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("plan", "Show the plan")])
    await bot.set_my_commands([BotCommand("plan", "Voir le plan")], language_code="fr")
    assert [c.description for c in await bot.get_my_commands()] == ["Show the plan"]
    assert [c.description for c in await bot.get_my_commands(language_code="fr")] == ["Voir le plan"]
    assert await bot.get_my_commands(language_code="de") == ()
    assert api.commands("fr") == [{"command": "plan", "description": "Voir le plan"}]
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Plan", "Capital letters are not allowed")])
    await bot.delete_my_commands(language_code="fr")
    assert api.commands("fr") == [] and len(api.commands()) == 1


async def test_documents_and_photos_are_uploaded_as_multipart(api: FakeBotAPI, bot: Bot) -> None:
    api.start(ANN)
    message = await bot.send_document(
        ANN, b"plan v1", filename="plan.txt", caption="<b>Plan</b>", parse_mode=ParseMode.HTML
    )
    assert message.document is not None and message.document.file_name == "plan.txt"
    assert message.caption == "Plan" and message.caption_entities[0].type == "bold"
    photo = await bot.send_photo(ANN, png(3, 2), caption="chart")
    assert (photo.photo[-1].width, photo.photo[-1].height) == (3, 2)
    document, picture = api.sent(ANN)
    assert document["document"]["data"] == b"plan v1" and document["caption"] == "Plan"
    assert picture["photo"]["data"] == png(3, 2) and picture["method"] == "sendPhoto"
    with pytest.raises(BadRequest, match=r"(?i)IMAGE_PROCESS_FAILED"):
        await bot.send_photo(ANN, b"not an image")
    again = await bot.send_document(ANN, message.document.file_id)  # by file_id, no upload
    assert again.document is not None and again.document.file_id == message.document.file_id


# --- waiting, threads -------------------------------------------------------------------------------------


async def test_wait_for_sent_sees_later_messages_only(api: FakeBotAPI, bot: Bot) -> None:
    api.start(ANN)
    first = await bot.send_message(ANN, "Reminder: visit")

    async def later() -> None:
        await asyncio.sleep(0.2)
        await bot.send_message(ANN, "Reminder: review")

    task = asyncio.create_task(later())
    found = await api.wait_for_sent(ANN, "Reminder", after=first.message_id)
    await task
    assert found["text"] == "Reminder: review"
    with pytest.raises(TimeoutError, match="Reminder: visit"):
        await api.wait_for_sent(ANN, "never", timeout=0.2)


async def test_thread_mode_serves_a_bot_in_another_loop() -> None:
    api = FakeBotAPI()
    base_url = api.start_in_thread()
    try:
        api.user(ANN, "Ann")
        async with Bot(api.token, base_url=base_url) as bot:
            poll = asyncio.create_task(bot.get_updates(timeout=5))
            await asyncio.sleep(0.2)
            writer = threading.Thread(target=api.start, args=(ANN, "case-7"))
            writer.start()
            updates = await asyncio.wait_for(poll, 3)
            writer.join()
            assert updates[0].message is not None and updates[0].message.text == "/start case-7"
            waiter = asyncio.create_task(asyncio.to_thread(api.wait_for_sent_sync, ANN, "Welcome", 5.0))
            await asyncio.sleep(0.1)
            await bot.send_message(ANN, "Welcome Ann")
            assert (await waiter)["text"] == "Welcome Ann"
            assert api.wait_for_call_sync("sendMessage")["chat_id"] == ANN
    finally:
        api.stop_thread()
    assert not any(t.name == "fake-bot-api" for t in threading.enumerate())
    with pytest.raises(RuntimeError):
        _ = api.base_url
