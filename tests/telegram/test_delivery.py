"""Delivery on Telegram, end to end: the bot in this process (LiveBot) against the suite's fake Bot API.

Reminder buttons, long messages, formatting refused, 429 storms and the sending limits, 403s, a group
migrating while a message waits, and the webhook. Waits poll the fake; to show that something did *not*
happen, a later command is answered first (updates are handled, and a room's messages sent, in order).
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from telegram import Bot, Message
from telegram.error import RetryAfter, TelegramError

from bot.adapters.telegram.adapter import TelegramAdapter
from bot.adapters.telegram.limits import SendLimits
from bot.delivery.outbox import DeliveryError
from bot.domain.events import BotStanding, Event, RoomMoved, SendJoinLink, SendMessage
from bot.i18n import Catalogs
from bot.settings import Settings, TelegramSettings
from bot.storage.models import InboxRow, OutboxRow
from tests.telegram.fake_api import FakeBotAPI
from tests.telegram.harness import GROUP, PEOPLE, LiveBot, invite_by_link, said

ALICE, BOB, DORA, EVE = PEOPLE["alice"], PEOPLE["bob"], PEOPLE["dora"], PEOPLE["eve"]
PARIS = ZoneInfo("Europe/Paris")


# --- helpers ---------------------------------------------------------------------------------------------


def last_id(fake: FakeBotAPI, chat: int) -> int:
    return max((m["message_id"] for m in fake.sent(chat)), default=0)


def texts(fake: FakeBotAPI, chat: int, after: int = 0) -> list[str]:
    return [str(m["text"]) for m in fake.sent(chat) if m["message_id"] > after]


def buttons(record: dict[str, Any]) -> list[tuple[str, str]]:
    rows = (record.get("reply_markup") or {}).get("inline_keyboard", [])
    return [(b["text"], b["callback_data"]) for row in rows for b in row]


async def case_room(fake: FakeBotAPI, members: tuple[int, ...] = ()) -> None:
    """alice makes the group (with `members`, who are not in the case), adds the bot as an administrator
    and opens a case there."""
    fake.group(GROUP, "new group", creator=ALICE, members=list(members))
    fake.add_bot(GROUP, "administrator")
    await said(fake, "alice", GROUP, "/case open Mrs D at home", "is open")


async def reminder_for_bob(
    fake: FakeBotAPI, language: str = "en", text: str = "check the pump"
) -> dict[str, Any]:
    """bob, professional in the case (reading `language`), gets a reminder that falls due in the room;
    returns it as the fake recorded it."""
    await invite_by_link(fake, "bob", "professional", language=language)
    await said(fake, "alice", GROUP, f"/remind professionals in 2 seconds {text}", "set for")
    return await fake.wait_for_sent(GROUP, text, timeout=15, after=last_id(fake, GROUP))


async def answered(fake: FakeBotAPI, query_id: str, within: float = 1.0) -> float:
    """Seconds until the callback query was answered (the button stops spinning)."""
    start = time.monotonic()
    while not any(a["id"] == query_id for a in fake.answers()):
        assert time.monotonic() - start < within, f"callback query {query_id} not answered in {within}s"
        await asyncio.sleep(0.01)
    return time.monotonic() - start


async def reminders_sent(live: LiveBot) -> list[OutboxRow]:
    """The outbox rows of reminders (a room's go by case, a personal one to its owner's private chat)."""
    assert live.app is not None
    async with live.app.sessions() as session:
        rows = await session.scalars(select(OutboxRow).where(OutboxRow.reminder_id.is_not(None)))
        return list(rows)


async def until(check: Callable[[], Awaitable[bool]], what: str, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


@dataclass
class Call:
    """One sendMessage request the bot made, as python-telegram-bot saw it."""

    chat: int
    start: float
    end: float = 0.0
    error: TelegramError | None = None


@pytest.fixture
def send_calls(monkeypatch: pytest.MonkeyPatch) -> list[Call]:
    """Every sendMessage request, timed (the fake keeps the times of the messages it accepted only)."""
    calls: list[Call] = []
    original = Bot.send_message

    async def timed(self: Bot, chat_id: int | str, *args: Any, **kwargs: Any) -> Message:
        call = Call(int(chat_id), time.monotonic())
        calls.append(call)
        try:
            return await original(self, chat_id, *args, **kwargs)
        except TelegramError as error:
            call.error = error
            raise
        finally:
            call.end = time.monotonic()

    monkeypatch.setattr(Bot, "send_message", timed)
    return calls


# --- reminders and their buttons ----------------------------------------------------------------------------


async def test_a_reminder_names_its_addressees_and_carries_two_buttons(
    fake: FakeBotAPI, live: LiveBot
) -> None:
    await case_room(fake)
    reminder = await reminder_for_bob(fake)
    assert reminder["text"] == "bob: Reminder: check the pump"
    assert reminder["parse_mode"] == "HTML"
    assert '<a href="tg://user?id=1002">bob</a>' in reminder["source"]
    mentions = [e for e in reminder["entities"] if e["type"] == "text_mention"]
    assert [(m["offset"], m["length"], m["user"]["id"]) for m in mentions] == [(0, 3, BOB)]
    assert buttons(reminder) == [("✅ Done", "done"), ("💤 Snooze 1 day", "snooze")]
    # A reminder to the whole room names nobody, and has the buttons too.
    await said(fake, "alice", GROUP, "/remind room in 1 second water the plants", "set for")
    room = await fake.wait_for_sent(GROUP, "Reminder: water the plants", after=reminder["message_id"])
    assert "tg://user" not in room["source"] and room["entities"] == []
    assert [data for _label, data in buttons(room)] == ["done", "snooze"]


async def test_the_buttons_speak_the_readers_language(fake: FakeBotAPI, live: LiveBot) -> None:
    await case_room(fake)
    reminder = await reminder_for_bob(fake, language="fr", text="vérifier la pompe")
    french = Catalogs().translator("fr", PARIS)
    assert reminder["text"] == french.gettext("{names}: {text}").format(
        names="bob", text=french.gettext("Reminder: {text}").format(text="vérifier la pompe")
    )
    labels = [label for label, _data in buttons(reminder)]
    assert labels == [french.gettext("✅ Done"), french.gettext("💤 Snooze 1 day")]
    assert labels != ["✅ Done", "💤 Snooze 1 day"], "the French catalog does not translate the button labels"


async def test_done_acknowledges_once_and_only_for_a_member_who_acts(fake: FakeBotAPI, live: LiveBot) -> None:
    await case_room(fake, members=(EVE,))  # eve is in the group, not in the case
    await invite_by_link(fake, "dora", "observer")
    reminder = await reminder_for_bob(fake)
    message = reminder["message_id"]

    # Someone in the group but not in the case, then an observer (who only reads): refused, nothing changes.
    eve = fake.press(EVE, GROUP, message, "done")
    assert await answered(fake, eve) < 1.0
    # The refusal comes after the notice that eve was removed from the group (the room guard), at the
    # group's pace of one message a second, behind the removal itself.
    await fake.wait_for_sent(GROUP, "You are not a member of case", timeout=30.0, after=message)
    dora = fake.press(DORA, GROUP, message, "done")
    assert await answered(fake, dora) < 1.0
    await fake.wait_for_sent(GROUP, "As observer you cannot", timeout=30.0, after=message)
    await said(fake, "alice", GROUP, "/history", "Nothing has been logged yet.")

    # bob acts: confirmed in the room, and in the history.
    before = last_id(fake, GROUP)
    bob = fake.press(BOB, GROUP, message, "done")
    assert await answered(fake, bob) < 1.0
    await fake.wait_for_sent(GROUP, "bob confirmed reminder 1.", after=before)
    history = await said(fake, "alice", GROUP, "/history", "acknowledged reminder 1")
    assert re.search(r"· bob · acknowledged reminder 1$", history, re.M), history

    # Again: answered, and nothing more.
    before = last_id(fake, GROUP)
    again = fake.press(BOB, GROUP, message, "done")
    assert await answered(fake, again) < 1.0
    history = await said(fake, "alice", GROUP, "/history", "Action log")
    assert history.count("acknowledged reminder 1") == 1
    assert not any("confirmed reminder" in t for t in texts(fake, GROUP, before)), texts(fake, GROUP, before)


async def test_snooze_brings_the_reminder_back_to_the_presser_tomorrow_once(
    fake: FakeBotAPI, live: LiveBot
) -> None:
    await case_room(fake)
    reminder = await reminder_for_bob(fake)
    english = Catalogs().translator("en", PARIS)
    tomorrow = {english.date(datetime.now(UTC) + timedelta(days=1))}
    query = fake.press(BOB, GROUP, reminder["message_id"], "snooze")
    assert await answered(fake, query) < 1.0
    back = await fake.wait_for_sent(GROUP, "Reminder 1 comes back to bob on", after=reminder["message_id"])
    tomorrow.add(english.date(datetime.now(UTC) + timedelta(days=1)))  # (should midnight have passed)
    assert "(as reminder 2)" in back["text"]
    pending = await said(fake, "bob", GROUP, "/reminders", "Pending reminders")
    lines = [line for line in pending.splitlines() if line.startswith("2 · ")]
    assert len(lines) == 1 and any(day in lines[0] for day in tomorrow), pending
    assert "· bob ·" in lines[0]

    again = fake.press(BOB, GROUP, reminder["message_id"], "snooze")
    assert await answered(fake, again) < 1.0
    pending = await said(fake, "bob", GROUP, "/reminders", "Pending reminders", within=15)
    assert not any(line.startswith("3 · ") for line in pending.splitlines()), pending
    assert sum("comes back to" in t for t in texts(fake, GROUP)) == 1


async def test_a_press_while_the_bot_is_stopped_is_handled_after_the_restart(
    fake: FakeBotAPI, live: LiveBot
) -> None:
    await case_room(fake)
    reminder = await reminder_for_bob(fake)
    sent_as = f"{GROUP}:{reminder['message_id']}"

    async def recorded() -> bool:  # stopped before this, the bot would send the reminder again
        return any(row.network_event_id == sent_as for row in await reminders_sent(live))

    await until(recorded, "the reminder was marked sent")
    await live.stop()
    query = fake.press(BOB, GROUP, reminder["message_id"], "done")
    await live.start()
    await fake.wait_for_sent(GROUP, "bob confirmed reminder 1.", after=reminder["message_id"])
    await answered(fake, query, within=5)
    history = await said(fake, "alice", GROUP, "/history", "acknowledged reminder 1")
    assert history.count("acknowledged reminder 1") == 1


# --- what Telegram makes of the messages --------------------------------------------------------------------


async def test_a_message_over_4096_characters_arrives_split_at_line_ends_in_order(
    fake: FakeBotAPI, live: LiveBot
) -> None:
    await case_room(fake)
    entries = [" ".join(f"e{e}w{w:03d}" for w in range(250)) for e in range(1, 4)]  # 1,749 characters each
    for entry in entries:
        await said(fake, "alice", GROUP, f"/log {entry}", "Logged.")
    before = last_id(fake, GROUP)
    fake.say(ALICE, GROUP, "/history")
    first = await fake.wait_for_sent(GROUP, "Action log of", after=before)
    last = await fake.wait_for_sent(GROUP, entries[2], after=before)
    pieces = texts(fake, GROUP, before)
    assert len(pieces) == 2 and first["message_id"] < last["message_id"]
    assert all(len(piece) <= 4096 for piece in pieces)
    history = "\n".join(pieces)
    lines = history.splitlines()
    assert lines[0].startswith("Action log of")
    # Every entry whole on a line of its own, in order; no piece begins or ends inside a line.
    assert [line.split(" · ")[-1] for line in lines[1:]] == entries
    assert [piece.splitlines()[0] for piece in pieces] == [lines[0], lines[3]]


async def test_formatting_refused_the_same_text_arrives_plain(fake: FakeBotAPI, live: LiveBot) -> None:
    await case_room(fake)
    await said(fake, "alice", GROUP, "/log BP <high> & rising", "Logged.")
    formatted = await said(fake, "alice", GROUP, "/history", "BP <high> & rising")
    before = last_id(fake, GROUP)
    fake.fail("sendMessage", 1, 400, description="Bad Request: can't parse entities: Unsupported start tag")
    fake.say(ALICE, GROUP, "/history")
    plain = await fake.wait_for_sent(GROUP, "BP <high> & rising", after=before)
    assert plain["text"] == formatted
    assert plain["parse_mode"] is None and plain["source"] == formatted
    refused, resent = fake.calls("sendMessage")[-2:]
    assert refused["parse_mode"] == "HTML" and "&lt;high&gt; &amp; rising" in refused["text"]
    assert "parse_mode" not in resent or resent["parse_mode"] is None
    assert len(texts(fake, GROUP, before)) == 1


# --- sending limits -----------------------------------------------------------------------------------------


async def test_a_429_storm_delays_the_answers_but_keeps_them_all_in_order(
    fake: FakeBotAPI, live: LiveBot, send_calls: list[Call]
) -> None:
    await case_room(fake)
    before = last_id(fake, GROUP)
    send_calls.clear()
    fake.fail("sendMessage", times=5, error_code=429, retry_after=1)
    for n in range(1, 11):
        fake.say(ALICE, GROUP, f"/plan add storm {n}")
    await fake.wait_for_sent(GROUP, "Plan item #10 added", timeout=40, after=before)
    answers = [
        int(m.group(1)) for t in texts(fake, GROUP, before) if (m := re.match(r"Plan item #(\d+) added", t))
    ]
    assert answers == list(range(1, 11))
    assert len(texts(fake, GROUP, before)) == 10
    refused = [call for call in send_calls if isinstance(call.error, RetryAfter)]
    assert len(refused) == 5
    for call in refused:
        later = [c.start for c in send_calls if c.start > call.start]
        assert all(start >= call.end + 1.0 - 0.01 for start in later), (call, later)


class TunedBot(LiveBot):
    """A LiveBot with other Telegram settings."""

    def __init__(self, fake: FakeBotAPI, root: Path, **telegram: Any) -> None:
        super().__init__(fake, root, [ALICE])
        self.telegram = telegram

    def settings(self) -> Settings:
        settings: Settings = super().settings()
        assert settings.telegram is not None
        tuned = settings.telegram.model_copy(update=self.telegram)
        return settings.model_copy(update={"telegram": tuned})


@pytest.fixture
async def tuned(fake: FakeBotAPI, tmp_path: Path) -> AsyncIterator[LiveBot]:
    # 25 messages in a group at Telegram's 20 a minute would take over a minute: the per-minute limit is
    # checked with a clock of its own (test_adapter_offline), this test checks one a second in a chat.
    bot = TunedBot(fake, tmp_path, group_messages_per_minute=60)
    await bot.start()
    fake.start(ALICE)
    try:
        yield bot
    finally:
        await bot.stop()


async def test_a_burst_of_answers_keeps_one_message_a_second_in_the_group(
    fake: FakeBotAPI, tuned: LiveBot
) -> None:
    await case_room(fake)
    before = last_id(fake, GROUP)
    for n in range(1, 26):
        fake.say(ALICE, GROUP, f"/plan add burst {n}")
    await fake.wait_for_sent(GROUP, "Plan item #25 added", timeout=60, after=before)
    sent = fake.sent(GROUP)
    answers = [int(m.group(1)) for r in sent if (m := re.match(r"Plan item #(\d+) added", str(r["text"])))]
    assert answers == list(range(1, 26))
    gaps = [b["time"] - a["time"] for a, b in itertools.pairwise(sent)]
    assert min(gaps) >= 0.95, gaps


# --- chats lost, groups moved -------------------------------------------------------------------------------


async def test_sending_stops_where_the_bot_was_blocked_or_removed(
    fake: FakeBotAPI, live: LiveBot, send_calls: list[Call]
) -> None:
    await case_room(fake)
    for text in ("pills A", "pills B"):
        await said(fake, "alice", ALICE, f"/remind me in 2 seconds {text}", "set for")
    quiet = last_id(fake, ALICE)
    fake.block(ALICE)
    blocked = time.monotonic()

    async def closed() -> bool:
        rows = [r for r in await reminders_sent(live) if r.room_id == str(ALICE)]
        return len(rows) == 2 and all(r.sent_at is not None for r in rows)

    await until(closed, "the personal reminders were given up")
    given_up = [r for r in await reminders_sent(live) if r.room_id == str(ALICE)]
    assert all(r.network_event_id is None and r.last_error for r in given_up), given_up
    tries = [c for c in send_calls if c.chat == ALICE and c.start >= blocked]
    assert len(tries) <= 1, tries  # at most the one that learnt of the block
    assert texts(fake, ALICE, quiet) == []

    # alice writes again: the bot can answer her there.
    await said(fake, "alice", ALICE, "/reminders", "reminders")

    # The case room is lost: its case manager hears it in her private chat, once; the room's messages stop.
    before = last_id(fake, ALICE)
    await said(fake, "alice", GROUP, "/remind room in 2 seconds water the plants", "set for")
    fake.remove_bot(GROUP)
    removed = time.monotonic()
    notice = await fake.wait_for_sent(ALICE, "I can no longer write in the room of case C-", after=before)
    assert "C-20" in notice["text"]

    async def room_closed() -> bool:
        rows = [r for r in await reminders_sent(live) if "water" in str(r.payload.get("text"))]
        return len(rows) == 1 and rows[0].sent_at is not None

    await until(room_closed, "the room's reminder was given up")
    assert len([c for c in send_calls if c.chat == GROUP and c.start >= removed]) <= 1
    await said(fake, "alice", ALICE, "/reminders", "reminders")
    assert sum("I can no longer write" in t for t in texts(fake, ALICE)) == 1


async def test_a_message_waiting_when_the_group_migrates_lands_in_the_supergroup(
    fake: FakeBotAPI, live: LiveBot
) -> None:
    await case_room(fake)
    calls = len(fake.calls("sendMessage"))
    fake.fail("sendMessage", 1, 429, retry_after=1)
    fake.say(ALICE, GROUP, "/members")
    await fake.wait_for_call("sendMessage", after=calls)  # refused: the answer waits for the old id
    new = fake.migrate(GROUP)
    answer = await fake.wait_for_sent(new, "Care team of C-")
    assert "alice · case manager" in answer["text"]
    assert not any("Care team" in t for t in texts(fake, GROUP))
    # The supergroup is the case room now.
    await said(fake, "alice", new, "/plan add Insulin injections", "Plan item #1 added")
    reminder = await said(fake, "alice", new, "/remind room in 1 second check", "set for")
    assert "Reminder 1 set" in reminder
    await fake.wait_for_sent(new, "Reminder: check")


class Recorder:
    """A host for an adapter driven by hand: it keeps what the adapter reports, handles nothing."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.offset: str | None = None

    async def cursor(self, network: str) -> str | None:
        return self.offset

    async def set_cursor(self, network: str, value: str) -> None:
        self.offset = value

    async def record(self, event: Event) -> None:
        self.events.append(event)

    async def process(self, network: str) -> None:
        pass


@pytest.fixture
async def by_hand(fake: FakeBotAPI) -> AsyncIterator[tuple[TelegramAdapter, Recorder]]:
    """The adapter alone, against the fake, without the per-chat limit; a poll has told it of `Recorder`."""
    settings = TelegramSettings(token=fake.token, base_url=fake.base_url, poll_timeout_seconds=0)
    host = Recorder()
    async with Bot(fake.token, base_url=fake.base_url) as bot:
        adapter = TelegramAdapter(settings, bot=bot, limits=SendLimits(per_chat_seconds=0))
        adapter.bot_id, adapter.username = fake.bot_id, fake.username
        await adapter.poll_once(host, 0)
        yield adapter, host
        await adapter.close()


async def test_a_send_to_a_migrated_group_follows_it_at_once(
    fake: FakeBotAPI, by_hand: tuple[TelegramAdapter, Recorder]
) -> None:
    """Before the update saying so is read: the 400 with migrate_to_chat_id moves the group."""
    adapter, host = by_hand
    fake.group(GROUP, "new group", creator=ALICE, members=[])
    fake.add_bot(GROUP, "administrator")
    fake.start(ALICE)
    new = fake.migrate(GROUP)
    message_id = await adapter.deliver(str(GROUP), SendMessage("hello"), "t1")
    assert message_id == f"{new}:{fake.sent(new)[0]['message_id']}"
    calls = len(fake.calls("sendMessage"))
    await adapter.deliver(str(GROUP), SendMessage("again"), "t2")  # straight to the new id
    assert [c["chat_id"] for c in fake.calls("sendMessage")[calls:]] == [new]
    await asyncio.sleep(0)  # reports are tasks of their own
    assert RoomMoved("telegram", f"moved:{GROUP}", str(GROUP), str(new)) in host.events
    # Another request about the old group (an invitation link) follows it too.
    fresh = TelegramAdapter(TelegramSettings(token=fake.token, base_url=fake.base_url), bot=adapter.bot)
    link = SendJoinLink(str(GROUP), "bob", "Join: {link}")
    with pytest.raises(DeliveryError) as raised:
        await fresh.deliver(str(ALICE), link, "t3")
    assert not raised.value.permanent and raised.value.retry_after == 0
    await fresh.deliver(str(ALICE), link, "t3")
    assert "Join: https://t.me/+" in texts(fake, ALICE)[-1]


async def test_a_429_on_a_later_piece_does_not_send_the_first_again(
    fake: FakeBotAPI, by_hand: tuple[TelegramAdapter, Recorder], send_calls: list[Call]
) -> None:
    adapter, _host = by_hand
    fake.start(ALICE)
    text = "\n".join(f"line {n} " + "x" * 90 for n in range(80))  # 7,900 characters: two pieces
    original = Bot.send_message

    async def refuse_the_second(self: Bot, chat_id: int | str, *args: Any, **kwargs: Any) -> Message:
        if len(send_calls) == 1:
            fake.fail("sendMessage", 1, 429, retry_after=1)
        return await original(self, chat_id, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Bot, "send_message", refuse_the_second)
        await adapter.deliver(str(ALICE), SendMessage(text), "t1")
    pieces = texts(fake, ALICE)[-2:]
    assert "\n".join(pieces) == text and len(texts(fake, ALICE)) == 2
    assert [type(c.error) for c in send_calls] == [type(None), RetryAfter, type(None)]
    assert send_calls[2].start >= send_calls[1].end + 1.0 - 0.01


async def test_a_chat_lost_on_a_send_is_reported_once(
    fake: FakeBotAPI, by_hand: tuple[TelegramAdapter, Recorder]
) -> None:
    """A 403 tells the core at once; the update saying the bot was removed, read after, adds nothing."""
    adapter, host = by_hand
    fake.group(GROUP, "new group", creator=ALICE, members=[])
    fake.add_bot(GROUP, "administrator")
    await adapter.poll_once(host, 0)
    fake.remove_bot(GROUP)
    with pytest.raises(DeliveryError) as raised:
        await adapter.deliver(str(GROUP), SendMessage("hello"), "t1")
    assert raised.value.permanent
    await adapter.poll_once(host, 0)  # the my_chat_member update ("kicked")
    lost = [e for e in host.events if isinstance(e, BotStanding) and not e.present]
    assert [e.event_id for e in lost] == [f"403:{GROUP}:t1"]
    calls = len(fake.calls("sendMessage"))
    with pytest.raises(DeliveryError):
        await adapter.deliver(str(GROUP), SendMessage("again"), "t2")
    assert len(fake.calls("sendMessage")) == calls  # not even tried
    # Added back: the bot writes there again, and a later removal is reported again.
    fake.add_bot(GROUP, "administrator")
    await adapter.poll_once(host, 0)
    await adapter.deliver(str(GROUP), SendMessage("back"), "t3")
    fake.remove_bot(GROUP)
    await adapter.poll_once(host, 0)
    lost = [e for e in host.events if isinstance(e, BotStanding) and not e.present]
    assert len(lost) == 2 and lost[1].event_id.startswith("u")


async def test_a_join_link_for_a_lost_group_loses_the_group_not_the_private_chat(
    fake: FakeBotAPI, by_hand: tuple[TelegramAdapter, Recorder]
) -> None:
    adapter, host = by_hand
    fake.group(GROUP, "new group", creator=ALICE, members=[])
    fake.add_bot(GROUP, "administrator")
    fake.start(ALICE)
    fake.remove_bot(GROUP)
    with pytest.raises(DeliveryError) as raised:
        await adapter.deliver(str(ALICE), SendJoinLink(str(GROUP), "bob", "Join: {link}"), "t1")
    assert raised.value.permanent
    await asyncio.sleep(0)
    assert [(e.room_id, e.present) for e in host.events if isinstance(e, BotStanding)] == [
        (str(GROUP), False)
    ]
    await adapter.deliver(str(ALICE), SendMessage("still here"), "t2")
    assert texts(fake, ALICE) == ["still here"]


# --- webhook ------------------------------------------------------------------------------------------------


async def test_the_webhook_records_only_what_comes_with_the_secret(fake: FakeBotAPI, live: LiveBot) -> None:
    assert live.app is not None
    settings = TelegramSettings(
        token=fake.token,
        base_url=fake.base_url,
        webhook_url="https://bot.example.org/telegram",
        secret_token="s3cret-token-of-the-test",
    )
    webhook = TelegramAdapter(settings, bot=Bot(fake.token, base_url=fake.base_url))
    webhook.bot_id, webhook.username = fake.bot_id, fake.username
    update = {
        "update_id": 900_001,
        "message": {
            "message_id": 901,
            "date": int(time.time()),
            "chat": {"id": ALICE, "type": "private", "first_name": "alice"},
            "from": {"id": ALICE, "is_bot": False, "first_name": "alice"},
            "text": "/members",
        },
    }

    async def recorded() -> int:
        assert live.app is not None
        async with live.app.sessions() as session:
            count = await session.scalar(
                select(func.count()).select_from(InboxRow).where(InboxRow.event_id == "u900001")
            )
            return int(count or 0)

    before = last_id(fake, ALICE)
    async with TestClient(TestServer(webhook.webhook_app(live.app), host="127.0.0.1")) as client:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
            response = await client.post("/telegram", json=update, headers=headers)
            assert response.status == 403
        assert await recorded() == 0
        right = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token-of-the-test"}
        for _n in range(2):  # Telegram sends an update again when it is not sure it was received
            response = await client.post("/telegram", json=update, headers=right)
            assert response.status == 200
        assert await recorded() == 1
        await fake.wait_for_sent(ALICE, "works in a case room", after=before)
        for body in ("not json", "[]", '{"update_id": 1, "message": "x"}'):
            response = await client.post("/telegram", data=body, headers=right)
            assert response.status == 400, body
    await said(fake, "alice", ALICE, "/reminders", "reminders")
    assert sum("works in a case room" in t for t in texts(fake, ALICE, before)) == 1
    await webhook.close()
