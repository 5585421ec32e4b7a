"""Telegram: updates become neutral events; effects become Bot API requests.

The adapter owns its update loop instead of python-telegram-bot's Updater, which confirms an update
before its handler has run and keeps the offset in memory: here each update is recorded in the inbox,
then the next offset is stored in the database, and only then is Telegram polled again (which confirms
what came before). Handling comes from the inbox, once.

Telegram has no idempotency key for sends: a message that Telegram accepted just before a crash, before
the outbox row was marked sent, is sent again after the restart. That window is the time between
Telegram's answer and the commit that follows it (see the README for the measured figure).
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import logging
import re
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeDefault,
    ChatMember,
    ChatMemberAdministrator,
    ChatMemberOwner,
    ChatMemberRestricted,
    ChatMemberUpdated,
    ChatPermissions,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.adapters.base import EffectDispatch
from bot.adapters.telegram.limits import SendLimits
from bot.adapters.telegram.render import length, pieces
from bot.core.context import Network
from bot.delivery.outbox import DeliveryError, no_failpoint
from bot.domain.events import (
    AnswerJoin,
    BotStanding,
    ButtonPressed,
    CreateCaseRoom,
    Effect,
    EraseRoom,
    Event,
    GuardRoom,
    Invite,
    JoinRequested,
    JoinRoom,
    Kick,
    LeaveRoom,
    LinkRoom,
    MemberJoined,
    MemberLeft,
    RoomMoved,
    SendFile,
    SendJoinLink,
    SendMessage,
    TextMessage,
)
from bot.settings import TelegramSettings

log = logging.getLogger(__name__)

NAME = "telegram"
# In commands, people are named by the name they were invited by (or their numeric id).
USER_REF = re.compile(r"@?[^\W\d_][\w.'-]{0,63}|\d{1,20}")
ALLOWED_UPDATES = ("message", "callback_query", "chat_join_request", "chat_member", "my_chat_member")
# A command addressed to a bot: "/plan@some_bot add ..." (the bot name is optional).
COMMAND = re.compile(r"^/([A-Za-z0-9_]+)(?:@([A-Za-z0-9_]+))?(?=\s|$)")
PRESENT = ("member", "administrator", "creator", "restricted")
JOIN_LINK_HOURS = 24
# Telegram's limits for what a bot sends as a document: its caption (after entity parsing) and its size.
MAX_CAPTION = 1024
MAX_DOCUMENT = 50 * 1024 * 1024


class Host(Protocol):
    """What the adapter needs from the application (bot.app.App)."""

    async def cursor(self, network: str) -> str | None: ...

    async def set_cursor(self, network: str, value: str) -> None: ...

    async def record(self, event: Event) -> None: ...

    async def process(self, network: str) -> None: ...


class CaseRooms(Protocol):
    """Where the guard goes at start (bot.app.App.case_rooms): each linked case group, and whether its
    case is closed."""

    async def case_rooms(self, network: str) -> list[tuple[str, bool]]: ...


class RunHost(Host, CaseRooms, Protocol):
    """The host of a running adapter (`run`, `serve_webhook`)."""


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _name(first: str, last: str | None) -> str:
    return f"{first} {last}".strip() if last else first


def _present(member: ChatMember) -> bool:
    """In the chat now: a restricted member who left keeps the status "restricted", with is_member off."""
    if isinstance(member, ChatMemberRestricted):
        return member.is_member
    return member.status in PRESENT


def guarded(read_only: bool) -> ChatPermissions:
    """A case group's default permissions: members write (unless its case is closed) and do nothing else;
    adding people, the group's info, pins, topics and tags stay with the bot (and the owner). Every field
    is given, and sent with use_independent_chat_permissions, so that no permission implies another."""
    write = not read_only
    return ChatPermissions(
        can_send_messages=write,
        can_send_audios=write,
        can_send_documents=write,
        can_send_photos=write,
        can_send_videos=write,
        can_send_video_notes=write,
        can_send_voice_notes=write,
        can_send_polls=write,
        can_send_other_messages=write,
        can_add_web_page_previews=write,
        can_react_to_messages=write,
        can_change_info=False,
        can_invite_users=False,
        can_pin_messages=False,
        can_manage_topics=False,
        can_edit_tag=False,
    )


def _how(change: ChatMemberUpdated, by: str) -> str:
    """How someone came into a group, for the log (no names)."""
    if change.via_join_request:
        return "a join request approved by an administrator"
    if change.via_chat_folder_invite_link:
        return "a chat folder link"
    if change.invite_link is not None:
        return "an invitation link" + (" (request approved)" if by else "")
    return "added by someone" if by else "by themselves"


class TelegramAdapter(EffectDispatch):
    network = NAME

    def __init__(
        self,
        settings: TelegramSettings,
        bot: Bot | None = None,
        limits: SendLimits | None = None,
        failpoint: Callable[[str], None] = no_failpoint,
    ) -> None:
        self._settings = settings
        self.bot = bot or Bot(settings.token, base_url=settings.base_url)
        self._limits = limits or SendLimits(
            per_chat_seconds=settings.chat_interval_seconds,
            per_group_minute=settings.group_messages_per_minute,
            per_second=settings.messages_per_second,
        )
        self._failpoint = failpoint
        self._stopping = asyncio.Event()
        self._host: Host | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        # Chats where Telegram answered 403 (the bot was removed or blocked): nothing more is sent there
        # until the bot is back. Groups upgraded to supergroups: old id -> new id.
        self._forbidden: set[int] = set()
        self._moved: dict[int, int] = {}
        # Chats whose loss a 403 reported already: the update saying the same is not told twice.
        self._lost: set[int] = set()
        # The case groups to guard (set by `run` / `serve_webhook`).
        self._rooms: CaseRooms | None = None
        self.bot_id = 0
        self.username = ""
        self.reads_all = False
        self.info = self._network()

    def _network(self) -> Network:
        return Network(
            NAME,
            USER_REF,
            "bob",
            frozenset(self._settings.staff),
            creates_rooms=False,
            invites_by_id=False,
            invite_link=f"https://t.me/{self.username}?start={{token}}",
            bot_user=str(self.bot_id) if self.bot_id else "",
        )

    # session -------------------------------------------------------------------------------------------
    async def connect(
        self, menus: Mapping[str | None, tuple[Sequence[tuple[str, str]], Sequence[tuple[str, str]]]]
    ) -> None:
        """Learn who the bot is, and set its command menus: per language, for groups and private chats
        (`menus[language] = (group commands, private commands)`; the None language is the default)."""
        await self.bot.initialize()
        me = await self.bot.get_me()
        self.bot_id, self.username = me.id, me.username or ""
        self.reads_all = bool(me.can_read_all_group_messages)
        self.info = self._network()
        for language, (in_groups, in_private) in menus.items():
            for scope, entries in (
                (BotCommandScopeAllGroupChats(), in_groups),
                (BotCommandScopeAllPrivateChats(), in_private),
                *(((BotCommandScopeDefault(), in_private),) if language is None else ()),
            ):
                await self.bot.set_my_commands(
                    [BotCommand(name, summary) for name, summary in entries],
                    scope=scope,
                    language_code=language,
                )
        log.info("telegram bot @%s ready (sees all group messages: %s)", self.username, self.reads_all)

    async def close(self, grace_seconds: float = 5.0) -> None:
        """Stop polling; what the adapter was still reporting (a chat lost, a group moved) gets a moment
        to be recorded, then is cancelled and awaited, so nothing runs on after the application closes."""
        self._stopping.set()
        tasks = list(self._tasks)
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=grace_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self.bot.shutdown()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # updates ---------------------------------------------------------------------------------------
    async def run(self, host: RunHost) -> None:
        """Poll until closed; a failed poll is retried (a 409 means a webhook is set or another process
        polls: say so)."""
        self._host = host
        self._guard_in_background(host)
        await self.bot.delete_webhook()
        while not self._stopping.is_set():
            try:
                await self.poll_once(host, self._settings.poll_timeout_seconds)
            except RetryAfter as error:
                await asyncio.sleep(_seconds(error.retry_after))
            except TelegramError as error:
                log.warning(
                    "getUpdates failed (%s: %s); retrying in 5 s", type(error).__name__, error.message
                )
                await asyncio.sleep(5)
            except OSError as error:
                log.warning("getUpdates failed (%s); retrying in 5 s", type(error).__name__)
                await asyncio.sleep(5)

    async def poll_once(self, host: Host, wait_seconds: int) -> int:
        """One long poll: record what came, move the stored offset past it, handle it. Returns how many
        updates came."""
        self._host = host
        cursor = await host.cursor(NAME)
        updates = await self.bot.get_updates(
            offset=int(cursor) if cursor else None,
            timeout=wait_seconds,
            allowed_updates=list(ALLOWED_UPDATES),
            read_timeout=wait_seconds + 10,
        )
        for update in updates:
            await self.record_update(host, update)
        if updates:
            self._failpoint("telegram.after_record")
            await host.set_cursor(NAME, str(updates[-1].update_id + 1))
            self._failpoint("telegram.after_cursor")
            for update in updates:
                if update.callback_query is not None:
                    await self._answer_press(update.callback_query.id)
        await host.process(NAME)
        return len(updates)

    async def record_update(self, host: Host, update: Update) -> None:
        for event in await self.convert(update):
            await host.record(event)

    async def _answer_press(self, query_id: str) -> None:
        """A pressed button stops spinning at once; what it does is answered in the chat. Too old a
        query (after a restart) cannot be answered any more, which is fine."""
        try:
            await self.bot.answer_callback_query(query_id)
        except TelegramError as error:
            log.info("callback query not answered (%s)", type(error).__name__)

    async def convert(self, update: Update) -> list[Event]:
        """The neutral events an update means (most mean one, some none)."""
        uid = f"u{update.update_id}"
        if update.message is not None:
            return self._message(uid, update.message)
        if update.callback_query is not None:
            query = update.callback_query
            message = query.message
            if message is None or query.data is None:
                return []
            chat = message.chat.id
            return [
                ButtonPressed(
                    NAME,
                    uid,
                    str(chat),
                    str(query.from_user.id),
                    f"{chat}:{message.message_id}",
                    query.data,
                    _name(query.from_user.first_name, query.from_user.last_name),
                )
            ]
        if update.chat_join_request is not None:
            request = update.chat_join_request
            link = request.invite_link
            ours = link is not None and link.creator.id == self.bot_id
            return [
                JoinRequested(
                    NAME,
                    uid,
                    str(request.chat.id),
                    str(request.from_user.id),
                    _name(request.from_user.first_name, request.from_user.last_name),
                    link.invite_link if link is not None and ours else "",
                )
            ]
        if update.chat_member is not None:
            return self._member_change(uid, update.chat_member)
        if update.my_chat_member is not None:
            change = update.my_chat_member
            chat = change.chat.id
            if not _present(change.new_chat_member):
                self._forbidden.add(chat)
                if chat in self._lost:
                    self._lost.discard(chat)
                    return []
                return [BotStanding(NAME, uid, str(chat), False)]
            self._forbidden.discard(chat)
            self._lost.discard(chat)
            if change.chat.type == "private":
                return []
            missing = await self._missing(chat, change.new_chat_member)
            if "admin" not in missing and "restrict" not in missing:
                self._spawn(self._guard_if_case_room(chat))  # given the rights the guard needs
            return [BotStanding(NAME, uid, str(chat), True, missing)]
        return []

    def _member_change(self, uid: str, change: ChatMemberUpdated) -> list[Event]:
        """Someone came into a group or went (Telegram sends these to administrators only, so they are
        the one source of membership: the service messages saying the same are not used).

        `by` is whoever did it when that is not the person themselves: the member who added them, the
        administrator who approved their request, who removed them."""
        person = change.new_chat_member.user
        user, actor, room = str(person.id), str(change.from_user.id), str(change.chat.id)
        by = "" if actor == user else actor
        before, after = _present(change.old_chat_member), _present(change.new_chat_member)
        if after and not before:
            log.info("someone came into a group: %s", _how(change, by))
            return [MemberJoined(NAME, uid, room, user, by, _name(person.first_name, person.last_name))]
        if before and not after:
            return [MemberLeft(NAME, uid, room, user, by)]
        return []

    def _message(self, uid: str, message: Message) -> list[Event]:
        chat = message.chat.id
        if message.migrate_to_chat_id is not None:
            self._moved[chat] = message.migrate_to_chat_id
            return [RoomMoved(NAME, uid, str(chat), str(message.migrate_to_chat_id))]
        if message.text is None or message.from_user is None or message.from_user.is_bot:
            return []
        # Someone wrote where the bot reads (a service message may be about the bot leaving): it can
        # write there again, even if a send was refused before (a private chat not started yet).
        self._forbidden.discard(chat)
        text = message.text
        found = COMMAND.match(text)
        if found is not None:
            addressed = found.group(2)
            if addressed is not None and addressed.lower() != self.username.lower():
                return []  # a command for another bot in the group
            text = "!" + found.group(1) + text[found.end() :]
        sender = message.from_user
        return [
            TextMessage(
                NAME,
                uid,
                str(chat),
                str(sender.id),
                text,
                message.chat.type == "private",
                _name(sender.first_name, sender.last_name),
            )
        ]

    async def _missing(self, chat: int, member: ChatMember | None = None) -> tuple[str, ...]:
        """What the bot lacks in a group to run it as a case room (bot.domain.events.ROOM_NEEDS)."""
        if member is None:
            member = await self.bot.get_chat_member(chat, self.bot_id)
        if isinstance(member, ChatMemberOwner):
            return ()
        if not isinstance(member, ChatMemberAdministrator):
            # Every right at once: an administrator made without them would hear of them only then.
            return ("admin", "invite", "restrict", "title", *(() if self.reads_all else ("read",)))
        missing = []
        if not member.can_invite_users:
            missing.append("invite")
        if not member.can_restrict_members:
            missing.append("restrict")
        if not member.can_change_info:
            missing.append("title")
        return tuple(missing)

    # webhook ---------------------------------------------------------------------------------------
    async def serve_webhook(self, host: RunHost) -> web.AppRunner:
        """Receive updates by webhook: a request without the secret gets 403 and is not recorded."""
        assert self._settings.webhook_url and self._settings.secret_token
        self._host = host
        self._guard_in_background(host)
        runner = web.AppRunner(self.webhook_app(host))
        await runner.setup()
        site = web.TCPSite(runner, self._settings.webhook_listen, self._settings.webhook_port)
        await site.start()
        await self.bot.set_webhook(
            self._settings.webhook_url,
            secret_token=self._settings.secret_token,
            allowed_updates=list(ALLOWED_UPDATES),
        )
        return runner

    def webhook_app(self, host: Host) -> web.Application:
        secret = (self._settings.secret_token or "").encode()

        async def receive(request: web.Request) -> web.Response:
            given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "").encode()
            if not secret or not hmac.compare_digest(given, secret):
                log.warning("webhook request without the right secret refused")
                return web.Response(status=403)
            try:
                update = Update.de_json(await request.json(), self.bot)
            except (ValueError, TypeError, KeyError, AttributeError):  # not JSON, or not an update
                return web.Response(status=400)
            await self.record_update(host, update)
            if update.callback_query is not None:
                await self._answer_press(update.callback_query.id)
            self._spawn(host.process(NAME))
            return web.Response(status=200)

        app = web.Application()
        app.router.add_post("/", receive)
        app.router.add_post("/{path:.*}", receive)
        return app

    # effects ---------------------------------------------------------------------------------------
    def _chat(self, room_id: str | None) -> int:
        assert room_id is not None
        chat = int(room_id)
        while chat in self._moved:
            chat = self._moved[chat]
        return chat

    async def deliver(self, room_id: str | None, effect: Effect, txn_id: str) -> str | None:
        try:
            return await EffectDispatch.deliver(self, room_id, effect, txn_id)
        except ChatMigrated as error:
            # A request other than a message's (those follow the group themselves): the group moved; try
            # again at once, to its new id.
            if room_id is not None:
                self._migrated(self._chat(room_id), error.new_chat_id)
            raise DeliveryError(f"the group moved to {error.new_chat_id}", 0.0) from error
        except RetryAfter as error:
            seconds = _seconds(error.retry_after)
            self._limits.pause(seconds)
            raise DeliveryError(f"429: retry after {seconds:.0f}s", seconds) from error
        except Forbidden as error:
            self._lose(self._chat(room_id), txn_id)
            raise DeliveryError(f"403: {error.message}", permanent=True) from error
        except BadRequest as error:
            raise DeliveryError(f"400: {error.message}", permanent=True) from error
        except (NetworkError, OSError) as error:  # TimedOut is a NetworkError
            raise DeliveryError(f"network: {type(error).__name__}", 5.0) from error
        except TelegramError as error:  # 401, 404, 409...: the row waits, the other rooms go on
            raise DeliveryError(f"{type(error).__name__}: {error.message}", 5.0) from error

    def _lose(self, chat: int, txn_id: str) -> None:
        """Telegram answered 403: nothing more goes there, and the core hears it (once)."""
        self._forbidden.add(chat)
        self._lost.add(chat)
        self._report(BotStanding(NAME, f"403:{chat}:{txn_id}", str(chat), False))

    def _migrated(self, old: int, new: int) -> None:
        if self._moved.get(old) != new:
            self._moved[old] = new
            self._report(RoomMoved(NAME, f"moved:{old}", str(old), str(new)))

    def _report(self, event: Event) -> None:
        """Tell the core something learnt while sending (a chat lost, a group moved), outside the flush."""
        host = self._host
        if host is None:
            return

        async def report() -> None:
            await host.record(event)
            await host.process(NAME)

        self._spawn(report())

    async def _send(self, chat: int, first: bool, **kwargs: Any) -> Message:
        """One request to send, within the limits: before the first piece of a message the row waits its
        turn (the outbox tries other chats meanwhile); later pieces wait here, since the first is out."""
        while chat in self._moved:  # a later piece of a message whose first found the group moved
            chat = self._moved[chat]
        if chat in self._forbidden:
            raise DeliveryError("the bot was removed or blocked in this chat", permanent=True)
        while True:
            while (wait := self._limits.wait(chat)) > 0:
                if first:
                    raise DeliveryError("sending limit", wait)
                await asyncio.sleep(wait)
            try:
                return await self.bot.send_message(chat, **kwargs)
            except ChatMigrated as error:
                self._migrated(chat, error.new_chat_id)
                chat = error.new_chat_id
            except RetryAfter as error:
                if first:
                    raise
                # Retrying the whole row would send the pieces already out a second time.
                self._limits.pause(_seconds(error.retry_after))

    async def do_send_message(self, room_id: str | None, effect: SendMessage, txn_id: str) -> str | None:
        chat = self._chat(room_id)
        parts = pieces(effect)
        markup = (
            InlineKeyboardMarkup(
                [[InlineKeyboardButton(label, callback_data=data) for label, data in effect.buttons]]
            )
            if effect.buttons
            else None
        )
        sent: Message | None = None
        for index, (formatted, plain) in enumerate(parts):
            last = index == len(parts) - 1
            sent = await self._send_piece(chat, index == 0, formatted, plain, markup if last else None)
        assert sent is not None
        return f"{sent.chat.id}:{sent.message_id}"

    async def do_send_file(self, room_id: str | None, effect: SendFile, txn_id: str) -> str | None:
        """sendDocument with the bytes (multipart) and the caption as plain text, within the same limits
        as a message; a 429 or a moved group is handled by `deliver` like any request."""
        chat = self._chat(room_id)
        if chat in self._forbidden:
            raise DeliveryError("the bot was removed or blocked in this chat", permanent=True)
        data = base64.b64decode(effect.data)
        if len(data) > MAX_DOCUMENT:
            raise DeliveryError(f"file of {len(data)} bytes: bots may send up to 50 MB", permanent=True)
        wait = self._limits.wait(chat)
        if wait > 0:
            raise DeliveryError("sending limit", wait)
        caption = effect.caption
        while length(caption) > MAX_CAPTION:
            caption = caption[: len(caption) - (length(caption) - MAX_CAPTION)]
        sent = await self.bot.send_document(
            chat, InputFile(data, filename=effect.name), caption=caption or None
        )
        return f"{sent.chat.id}:{sent.message_id}"

    async def _send_piece(
        self, chat: int, first: bool, formatted: str, plain: str, markup: InlineKeyboardMarkup | None
    ) -> Message:
        try:
            return await self._send(
                chat, first, text=formatted, parse_mode=ParseMode.HTML, reply_markup=markup
            )
        except BadRequest as error:
            if "can't parse entities" not in error.message.lower():
                raise
            log.warning("Telegram refused the formatting of a message; sending it as plain text")
            return await self._send(chat, False, text=plain, reply_markup=markup)

    async def do_create_case_room(
        self, room_id: str | None, effect: CreateCaseRoom, txn_id: str
    ) -> str | None:
        raise DeliveryError("Telegram bots cannot create groups; case rooms are linked", permanent=True)

    async def do_link_room(self, room_id: str | None, effect: LinkRoom, txn_id: str) -> str | None:
        """Name the group after its case, guard it, and tell the case managers what the bot still lacks
        there: rights, and a group of only them and the bot (Telegram tells a bot how many people a group
        holds, not who: those already in are removed when they show themselves)."""
        chat = self._chat(effect.room_id)
        if effect.title:
            try:
                await self.bot.set_chat_title(chat, effect.title[:128])
            except BadRequest as error:
                log.info("group title not set (%s)", error.message)
        missing = await self._guard_and_check(chat, read_only=False)
        others = await self.bot.get_chat_member_count(chat) - 2  # the case manager linking it, and the bot
        if others > 0:
            missing = (*missing, f"alone:{others}")
        self._report(BotStanding(NAME, f"linked:{chat}:{txn_id}", str(chat), True, missing))
        return str(chat)

    async def do_guard_room(self, room_id: str | None, effect: GuardRoom, txn_id: str) -> str | None:
        """The group's default permissions (`guarded`): read-only for a closed case, writable again when it
        reopens. Refused for want of a right, the case managers hear which."""
        chat = self._chat(room_id)
        try:
            await self._guard(chat, effect.read_only)
        except BadRequest as error:
            if "rights" in error.message.lower():
                missing = await self._missing(chat)
                self._report(BotStanding(NAME, f"guard:{chat}:{txn_id}", str(chat), True, missing))
            raise
        return None

    async def _guard(self, chat: int, read_only: bool) -> None:
        try:
            await self.bot.set_chat_permissions(
                chat, guarded(read_only), use_independent_chat_permissions=True
            )
        except BadRequest as error:
            if "CHAT_NOT_MODIFIED" not in error.message.upper():
                raise
            # The group's permissions were already these (a retry, a restart): nothing to do.

    async def _guard_and_check(self, chat: int, read_only: bool) -> tuple[str, ...]:
        """Guard the group; what the bot lacks there (a guard refused for want of rights shows there)."""
        try:
            await self._guard(chat, read_only)
        except BadRequest as error:
            if "rights" not in error.message.lower():
                raise
            log.info("group permissions not set: the bot lacks rights there")
        return await self._missing(chat)

    def _guard_in_background(self, rooms: CaseRooms) -> None:
        """At start, every linked case group is guarded again and its rights checked (whatever changed
        while the bot was away), in the background and within the sending limits."""
        self._rooms = rooms
        self._spawn(self._guard_all(rooms, f"start{int(datetime.now(UTC).timestamp())}"))

    async def _guard_all(self, rooms: CaseRooms, tag: str) -> None:
        try:
            known = await rooms.case_rooms(NAME)
        except Exception:  # the database is away: the next start tries again
            log.exception("case groups not guarded at start: their list could not be read")
            return
        done = 0
        for room_id, closed in known:
            if self._stopping.is_set():
                return
            done += await self._guard_at_start(int(room_id), closed, tag)
        log.info("guard applied at start to %d of %d case groups", done, len(known))

    async def _guard_at_start(self, chat: int, read_only: bool, tag: str) -> int:
        """1 when the group is guarded; a group the bot lost, or where it lacks rights, is reported."""
        for _attempt in range(3):
            chat = self._chat(str(chat))
            wait = self._limits.wait(chat)
            while wait > 0:  # counted as a send to the group, among the messages
                await asyncio.sleep(wait)
                wait = self._limits.wait(chat)
            try:
                missing = await self._guard_and_check(chat, read_only)
            except ChatMigrated as error:
                self._migrated(chat, error.new_chat_id)
                continue
            except RetryAfter as error:
                self._limits.pause(_seconds(error.retry_after))
                continue
            except Forbidden:
                self._lose(chat, tag)
                return 0
            except (TelegramError, OSError) as error:
                log.warning("a case group not guarded at start (%s)", type(error).__name__)
                await asyncio.sleep(1)
                continue
            if missing:
                self._report(BotStanding(NAME, f"{tag}:{chat}", str(chat), True, missing))
            return 0 if "restrict" in missing or "admin" in missing else 1
        return 0

    async def _guard_if_case_room(self, chat: int) -> None:
        """The bot was given the rights the guard needs: a case group gets it now, not at the next start."""
        if self._rooms is None:
            return
        try:
            closed = dict(await self._rooms.case_rooms(NAME)).get(str(chat))
            if closed is not None:
                await self._guard(chat, closed)
        except (TelegramError, OSError) as error:
            log.warning("a case group not guarded (%s)", type(error).__name__)

    async def do_invite(self, room_id: str | None, effect: Invite, txn_id: str) -> str | None:
        raise DeliveryError("Telegram bots cannot add people; invitations go by link", permanent=True)

    async def do_send_join_link(self, room_id: str | None, effect: SendJoinLink, txn_id: str) -> str | None:
        """A join-request link for one person (Telegram does not allow a member limit on those: the bot
        approves only its invitee and revokes the link once used), sent to their private chat."""
        group = self._chat(effect.group)
        expires = datetime.now(UTC) + timedelta(hours=JOIN_LINK_HOURS)
        try:
            link = await self.bot.create_chat_invite_link(
                group, expire_date=expires, name=effect.name[:32], creates_join_request=True
            )
        except Forbidden as error:  # the group is lost, not the private chat the link was for
            self._lose(group, txn_id)
            raise DeliveryError(f"403: {error.message}", permanent=True) from error
        except ChatMigrated as error:
            self._migrated(group, error.new_chat_id)
            raise DeliveryError(f"the group moved to {error.new_chat_id}", 0.0) from error
        text = effect.text.replace("{link}", link.invite_link)
        message = await self._send_piece(
            self._chat(room_id), False, pieces(SendMessage(text))[0][0], text, None
        )
        return f"{message.chat.id}:{message.message_id}"

    async def do_answer_join(self, room_id: str | None, effect: AnswerJoin, txn_id: str) -> str | None:
        chat = self._chat(room_id)
        try:
            if effect.approve:
                await self.bot.approve_chat_join_request(chat, int(effect.user))
            else:
                await self.bot.decline_chat_join_request(chat, int(effect.user))
        except BadRequest as error:
            if "HIDE_REQUESTER_MISSING" not in error.message.upper():
                raise
            log.info("join request answered already")  # a retry after a crash
        if effect.link:
            try:
                await self.bot.revoke_chat_invite_link(chat, effect.link)
            except BadRequest as error:
                log.info("invitation link not revoked (%s)", error.message)
        return None

    async def do_kick(self, room_id: str | None, effect: Kick, txn_id: str) -> str | None:
        """Removal without a permanent ban: ban (which removes), then lift the ban."""
        if not effect.user.isdigit():
            return None
        chat = self._chat(room_id)
        try:
            await self.bot.ban_chat_member(chat, int(effect.user))
        except BadRequest as error:
            if "rights" in error.message.lower():  # the case managers hear which right is missing
                missing = await self._missing(chat)
                self._report(BotStanding(NAME, f"kick:{chat}:{txn_id}", str(chat), True, missing))
            raise
        await self.bot.unban_chat_member(chat, int(effect.user), only_if_banned=True)
        return None

    async def do_join_room(self, room_id: str | None, effect: JoinRoom, txn_id: str) -> str | None:
        return None  # nothing to join on Telegram: a private chat is open once the person writes

    async def do_leave_room(self, room_id: str | None, effect: LeaveRoom, txn_id: str) -> str | None:
        await self.bot.leave_chat(self._chat(room_id))
        return None

    async def do_erase_room(self, room_id: str | None, effect: EraseRoom, txn_id: str) -> str | None:
        """The group of an erased case: delete the bot's messages where Telegram still allows it (not after
        48 hours: those refusals are expected, and counted), remove every member (ban, then lift the ban;
        the group's owner cannot be removed), leave. Each step may be repeated: Telegram skips messages
        already deleted, and removing someone already gone changes nothing."""
        assert room_id is not None
        chat = self._chat(room_id)
        ids = sorted(
            {
                int(number)
                for where, _, number in (event_id.rpartition(":") for event_id in effect.redact)
                if where in (room_id, str(chat)) and number.isdigit()
            }
        )
        deleted = kept = removed = refused = 0
        for start in range(0, len(ids), 100):
            part = ids[start : start + 100]
            try:
                await self.bot.delete_messages(chat, part)
                deleted += len(part)
            except (BadRequest, Forbidden) as error:
                kept += len(part)
                log.info("messages of an erased case's group not deleted (%s)", error.message)
        for user in effect.members:
            if not user.isdigit() or int(user) == self.bot_id:
                continue  # invited by name and never came
            try:
                await self.bot.ban_chat_member(chat, int(user))
                await self.bot.unban_chat_member(chat, int(user), only_if_banned=True)
                removed += 1
            except (BadRequest, Forbidden) as error:
                refused += 1
                log.info("a member of an erased case's group not removed (%s)", error.message)
        try:
            await self.bot.leave_chat(chat)
        except (BadRequest, Forbidden) as error:
            log.info("leaving an erased case's group: %s", error.message)  # out already
        self._forbidden.add(chat)
        log.info(
            "erased group %s: %d messages deleted, %d not (too old), %d members removed, %d not",
            chat,
            deleted,
            kept,
            removed,
            refused,
        )
        return None
