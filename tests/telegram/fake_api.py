"""The suite's own fake Telegram Bot API server (https://core.telegram.org/bots/api).

It speaks HTTP on 127.0.0.1 like api.telegram.org, so python-telegram-bot's ``telegram.Bot(token,
base_url=api.base_url)`` works against it unchanged, and it implements the documented behaviour of the
methods the adapter uses: long polling with offsets, HTML entity parsing and length limits, who the bot may
write to, admin rights, invite links and join requests, bans, group migration, commands and uploads, the
members' default permissions (setChatPermissions) and the chat_member updates membership changes cause. The
test side plays the users (``say``, ``press``, ``request_join``, ``add_member``...; what their app would
refuse raises ``Refused``) and observes what the bot did (``sent``, ``calls``, ``members``...).

It runs in the test's event loop (``await api.start()`` / ``async with FakeBotAPI() as api``) or in a thread
of its own (``start_in_thread()`` / ``stop_thread()``); the public methods are thread-safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import re
import secrets
import socket
import struct
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

Json = dict[str, Any]
T = TypeVar("T")

# Update types a bot receives when allowed_updates was never given (or given as []).
NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
PRESENT = frozenset({"creator", "administrator", "member", "restricted"})
ADMIN_RIGHTS = (
    *("can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members"),
    *("can_promote_members", "can_change_info", "can_invite_users", "can_post_stories"),
    *("can_edit_stories", "can_delete_stories", "can_pin_messages"),
)
# ChatPermissions: what members who are not administrators may do in a group (all of it in a new group).
SEND_PERMISSIONS = (
    *("can_send_messages", "can_send_audios", "can_send_documents", "can_send_photos", "can_send_videos"),
    *("can_send_video_notes", "can_send_voice_notes"),
)
CHAT_PERMISSIONS = (
    *SEND_PERMISSIONS,
    *("can_send_polls", "can_send_other_messages", "can_add_web_page_previews", "can_react_to_messages"),
    *("can_edit_tag", "can_change_info", "can_invite_users", "can_pin_messages", "can_manage_topics"),
)
MAX_TEXT, MAX_CAPTION = 4096, 1024
JOIN_REQUEST_CONTACT_SECONDS = 300  # the bot may write to user_chat_id for 5 minutes
DELETE_WINDOW_SECONDS = 48 * 3600  # documented: a message can only be deleted within 48 hours

# Form fields PTB (and any client) sends JSON-serialized, as integers or as booleans.
JSON_FIELDS = frozenset(
    {"reply_markup", "commands", "scope", "allowed_updates", "entities", "caption_entities", "permissions"}
    | {"link_preview_options", "reply_parameters", "message_ids"}
)
INT_FIELDS = frozenset(
    {"chat_id", "user_id", "message_id", "offset", "limit", "timeout", "expire_date", "member_limit"}
    | {"until_date", "reply_to_message_id", "cache_time"}
)
BOOL_FIELDS = frozenset(
    {"show_alert", "creates_join_request", "revoke_messages", "only_if_banned", "disable_web_page_preview"}
    | {"disable_notification", "protect_content", "drop_pending_updates", "allow_sending_without_reply"}
    | {"use_independent_chat_permissions"}
)
ERROR_NAMES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict"}
COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
BOT_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?(?=\s|$)")


class ApiError(Exception):
    """An error response: the HTTP status is the error code, as with Telegram."""

    def __init__(self, code: int, description: str, parameters: Json | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters

    def body(self) -> Json:
        body: Json = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str, parameters: Json | None = None) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}", parameters)


def forbidden(reason: str) -> ApiError:
    return ApiError(403, f"Forbidden: {reason}")


class Refused(Exception):
    """Telegram refused what a person tried in their app (the test side): ``reason`` is the error the app
    gets (CHAT_SEND_PLAIN_FORBIDDEN, CHAT_ADMIN_REQUIRED...); nothing happened in the chat."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Upload:
    """A file the bot uploaded (multipart/form-data)."""

    filename: str
    content_type: str
    data: bytes


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --- HTML parse mode -------------------------------------------------------------------------------------

SUPPORTED_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "tg-emoji"}
    | {"code", "pre", "blockquote", "tg-time"}
)
SIMPLE_TAGS = {
    **dict.fromkeys(("b", "strong"), "bold"),
    **dict.fromkeys(("i", "em"), "italic"),
    **dict.fromkeys(("u", "ins"), "underline"),
    **dict.fromkeys(("s", "strike", "del"), "strikethrough"),
    **dict.fromkeys(("span", "tg-spoiler"), "spoiler"),
}
HTML_ENTITY = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|(lt|gt|amp|quot));")
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
START_TAG = re.compile(
    r"<([^\s>/\"'=]+)((?:\s+[^\s=>/\"']+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*>"
)
TAG_NAME = re.compile(r"<([^\s>]*)")
ATTRIBUTE = re.compile(r"([^\s=>/\"']+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>\"']+)))?")
END_TAG = re.compile(r"</([^\s>]*)\s*>")
TG_USER = re.compile(r"tg://user\?id=([0-9]+)")


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int  # offset in the parsed text, UTF-16 code units
    language: str | None = None


def _html_error(reason: str) -> ApiError:
    return bad_request(f"can't parse entities: {reason}")


def _decode_entity(match: re.Match[str], byte_offset: int) -> str:
    decimal, hexadecimal, name = match.groups()
    if name:
        return NAMED_ENTITIES[name]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise _html_error(f"Invalid HTML entity at byte offset {byte_offset}")
    return chr(code)


def parse_html(source: str, users: Mapping[int, Json]) -> tuple[str, list[Json]]:
    """The text and entities Telegram makes of ``source`` with parse_mode HTML (offsets in UTF-16 units)."""
    out: list[str] = []
    length = 0
    stack: list[_OpenTag] = []
    entities: list[Json] = []
    i = 0

    def byte_offset(pos: int) -> int:
        return len(source[:pos].encode())

    def decode(value: str) -> str:
        return HTML_ENTITY.sub(lambda m: _decode_entity(m, 0), value)

    while i < len(source):
        char = source[i]
        if char == "&":
            entity = HTML_ENTITY.match(source, i)
            if entity is None:
                raise _html_error(f'Character "&" must be escaped as "&amp;" at byte offset {byte_offset(i)}')
            text = _decode_entity(entity, byte_offset(i))
            out.append(text)
            length += utf16_len(text)
            i = entity.end()
        elif char != "<":
            out.append(char)
            length += utf16_len(char)
            i += 1
        elif source.startswith("</", i):
            end = END_TAG.match(source, i)
            if end is None:
                raise _html_error(f"Unclosed end tag at byte offset {byte_offset(i)}")
            if not stack:
                raise _html_error(f"Unexpected end tag at byte offset {byte_offset(i)}")
            name, top = end.group(1).lower(), stack.pop()
            if name and name != top.name:
                raise _html_error(
                    f'Unmatched end tag at byte offset {byte_offset(i)}, expected "</{top.name}>", '
                    f'found "</{name}>"'
                )
            entity_json = _entity_for(top, length, stack, users, "".join(out))
            if entity_json is not None:
                entities.append(entity_json)
            i = end.end()
        else:
            start = START_TAG.match(source, i)
            name_match = TAG_NAME.match(source, i)
            name = (start.group(1) if start else name_match.group(1) if name_match else "").lower()
            if name not in SUPPORTED_TAGS:
                raise _html_error(f'Unsupported start tag "{name}" at byte offset {byte_offset(i)}')
            if start is None:
                raise _html_error(f'Unclosed start tag "{name}" at byte offset {byte_offset(i)}')
            attrs = {
                m.group(1).lower(): decode(next((g for g in m.groups()[1:] if g is not None), ""))
                for m in ATTRIBUTE.finditer(start.group(2))
            }
            if name == "span" and attrs.get("class") != "tg-spoiler":
                raise _html_error(f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(i)}')
            if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
                raise _html_error("Invalid custom emoji identifier specified")
            if name == "tg-time" and not attrs.get("unix", "").isdigit():
                raise _html_error(f'Tag "tg-time" must have attribute "unix" at byte offset {byte_offset(i)}')
            stack.append(_OpenTag(name, attrs, length))
            i = start.end()
    if stack:
        raise _html_error(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _entity_for(
    tag: _OpenTag, end: int, stack: list[_OpenTag], users: Mapping[int, Json], text: str
) -> Json | None:
    if end <= tag.start:
        return None
    entity: Json = {
        "type": SIMPLE_TAGS.get(tag.name, tag.name),
        "offset": tag.start,
        "length": end - tag.start,
    }
    if tag.name == "a":
        href = tag.attrs.get("href") or text.encode("utf-16-le")[2 * tag.start : 2 * end].decode("utf-16-le")
        mention = TG_USER.fullmatch(href)
        if mention is None:
            entity.update(type="text_link", url=href)
        elif int(mention.group(1)) in users:
            entity.update(type="text_mention", user=users[int(mention.group(1))])
        else:
            return None  # Telegram drops mentions of users it cannot resolve
    elif tag.name == "code":
        language = tag.attrs.get("class", "")
        if (
            stack
            and stack[-1].name == "pre"
            and stack[-1].start == tag.start
            and language.startswith("language-")
        ):
            stack[-1].language = language.removeprefix("language-")
            return None
    elif tag.name == "pre" and tag.language:
        entity["language"] = tag.language
    elif tag.name == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    elif tag.name == "tg-emoji":
        entity.update(type="custom_emoji", custom_emoji_id=tag.attrs["emoji-id"])
    elif tag.name == "tg-time":
        entity.update(type="date_time", unix_time=int(tag.attrs["unix"]))
        if tag.attrs.get("format"):
            entity["date_time_format"] = tag.attrs["format"]
    return entity


def _strip(text: str, entities: list[Json]) -> tuple[str, list[Json]]:
    """Telegram trims leading and trailing whitespace from texts, shifting and clipping the entities."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead, size = utf16_len(text[: len(text) - len(text.lstrip())]), utf16_len(stripped)
    kept = []
    for entity in entities:
        start, end = max(entity["offset"] - lead, 0), min(entity["offset"] + entity["length"] - lead, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG or JPEG image, None when it is neither."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data) and data[i] == 0xFF:
            marker, size = data[i + 1], struct.unpack(">H", data[i + 2 : i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(width), int(height)
            i += 2 + int(size)
    return None


# --- state -----------------------------------------------------------------------------------------------


@dataclass
class _Chat:
    info: Json  # the Chat object
    members: dict[int, Json] = field(default_factory=dict)  # user id -> ChatMember fields but "user"
    messages: dict[int, Json] = field(default_factory=dict)
    next_message_id: int = 1
    migrated_to: int | None = None
    requests: dict[int, Json] = field(default_factory=dict)  # pending join requests by user id
    bot_has_spoken: bool = False
    # The default permissions of members (setChatPermissions); a restricted member has their own.
    permissions: Json = field(default_factory=lambda: dict.fromkeys(CHAT_PERMISSIONS, True))

    @property
    def id(self) -> int:
        return int(self.info["id"])

    @property
    def type(self) -> str:
        return str(self.info["type"])

    def status(self, user_id: int) -> str:
        return str(self.members.get(user_id, {"status": "left"})["status"])

    def may(self, user_id: int, permission: str) -> bool:
        """Whether the user may do this here: the owner and administrators (their own rights aside) may;
        a restricted member by their own permissions, any other member by the group's."""
        record = self.members.get(user_id, {"status": "left"})
        if record["status"] == "administrator" and permission in ADMIN_RIGHTS:
            return bool(record.get(permission))  # an administrator adds people only with that right
        if record["status"] in ("creator", "administrator"):
            return True
        if record["status"] == "restricted":
            return bool(record.get(permission))
        return bool(self.permissions.get(permission))


class FakeBotAPI:
    """A fake Bot API server for one bot, plus the users around it."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_id: int = 123456,
        username: str = "caseroom_test_bot",
        can_read_all_group_messages: bool = False,
        first_name: str = "Caseroom Test",
    ) -> None:
        self.token = token
        self.bot_id = bot_id
        self.username = username
        self.can_read_all_group_messages = can_read_all_group_messages
        self._bot_user: Json = {"id": bot_id, "is_bot": True, "first_name": first_name, "username": username}
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._users: dict[int, Json] = {bot_id: self._bot_user}
        self._started: set[int] = set()
        self._blocked: set[int] = set()
        self._chats: dict[int, _Chat] = {}
        self._links: dict[str, Json] = {}  # invite link -> {"chat_id", "object", "joined"}
        self._updates: list[Json] = []
        self._next_update_id = 1
        self._allowed_updates: list[str] | None = None
        self._webhook: Json | None = None
        self._sent: dict[int, list[Json]] = {}
        self._calls: list[tuple[str, Json]] = []
        self._failures: dict[str, list[ApiError]] = {}
        self._queries: dict[str, Json] = {}
        self._answers: list[Json] = []
        self._commands: dict[tuple[str, str], list[Json]] = {}
        self._files: dict[str, Json] = {}
        self._poll_generation = 0
        self._next_query_id = 1
        self._methods: dict[str, Callable[[Json], Any]] = {
            name.removeprefix("_api_").lower(): getattr(self, name)
            for name in dir(self)
            if name.startswith("_api_")
        }
        # Server side, touched only from the server's event loop.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._pulse_event: asyncio.Event | None = None
        self._closing = False
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None

    # --- running ---------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What to pass as ``telegram.Bot(token, base_url=...)``: PTB appends the token."""
        if self._port is None:
            raise RuntimeError("the fake Bot API is not running")
        return f"http://127.0.0.1:{self._port}/bot"

    async def serve(self) -> str:
        """Listens on a free loopback port in the running loop; returns :attr:`base_url`."""
        if self._runner is not None:
            raise RuntimeError("already running")
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(runner, sock).start()
        self._loop, self._runner, self._closing = asyncio.get_running_loop(), runner, False
        self._pulse_event = asyncio.Event()
        self._port = int(sock.getsockname()[1])
        return self.base_url

    async def close(self) -> None:
        """Ends pending long polls and closes the server (call it in the loop that started it)."""
        runner = self._runner
        if runner is None:
            return
        self._closing = True
        self._pulse()
        await runner.cleanup()
        self._runner = self._loop = self._pulse_event = None
        self._port = None

    async def __aenter__(self) -> FakeBotAPI:
        await self.serve()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def start_in_thread(self) -> str:
        """Runs the server in a thread with its own event loop; returns :attr:`base_url`."""
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.serve())
            except BaseException as exc:  # reported to the caller below
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread_loop = loop
        self._thread = threading.Thread(target=run, name="fake-bot-api", daemon=True)
        self._thread.start()
        if not ready.wait(10) or failure:
            raise RuntimeError("the fake Bot API did not start") from (failure[0] if failure else None)
        return self.base_url

    def stop_thread(self) -> None:
        loop, thread = self._thread_loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._thread = self._thread_loop = None

    def _pulse(self) -> None:
        """Wakes the long polls (runs in the server loop)."""
        if self._pulse_event is not None:
            self._pulse_event.set()
            self._pulse_event = asyncio.Event()

    def _notify(self) -> None:
        """Something changed: wake long polls and synchronous waiters. Called with the lock held."""
        self._changed.notify_all()
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self._pulse)

    # --- HTTP ------------------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").body(), status=401)
        method = request.match_info["method"].lower()
        if method != "getupdates" and method not in self._methods:
            return web.json_response(ApiError(404, "Not Found").body(), status=404)
        try:
            params = await self._read_params(request)
            with self._lock:
                self._calls.append((method, params))
                self._notify()
                failures = self._failures.get(method)
                if failures:
                    raise failures.pop(0)
            if method == "getupdates":
                result = await self._get_updates(params)
            else:
                with self._lock:
                    result = self._methods[method](params)
        except ApiError as error:
            return web.json_response(error.body(), status=error.code)
        return web.json_response({"ok": True, "result": result})

    async def _read_params(self, request: web.Request) -> Json:
        raw: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.body_exists:
            if request.content_type == "application/json":
                body = await request.json()
                if not isinstance(body, dict):
                    raise bad_request("parameters must be a JSON object")
                raw.update(body)
            else:
                for key, value in (await request.post()).items():
                    if isinstance(value, web.FileField):
                        raw[key] = Upload(value.filename, value.content_type, value.file.read())
                    else:
                        raw[key] = value.decode() if isinstance(value, bytes | bytearray) else value
        return {key: self._coerce(key, value) for key, value in raw.items()}

    @staticmethod
    def _coerce(key: str, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            if key in JSON_FIELDS:
                return json.loads(value)
            if key in INT_FIELDS and not (key == "chat_id" and value.startswith("@")):
                return int(value)
        except ValueError:
            raise bad_request(f"invalid {key} specified") from None
        if key in BOOL_FIELDS:
            return value.lower() in ("true", "1")
        return value

    # --- updates ---------------------------------------------------------------------------------------

    def _emit(self, kind: str, payload: Json) -> None:
        allowed = self._allowed_updates
        if kind not in allowed if allowed else kind in NOT_BY_DEFAULT:
            return  # allowed_updates applies when updates are created, as documented
        self._updates.append({"update_id": self._next_update_id, kind: copy.deepcopy(payload)})
        self._next_update_id += 1
        self._notify()

    def _set_allowed(self, params: Json) -> None:
        if "allowed_updates" in params:
            allowed = params["allowed_updates"]
            if not isinstance(allowed, list):
                raise bad_request("allowed_updates must be an array")
            self._allowed_updates = [str(kind) for kind in allowed] or None

    async def _get_updates(self, params: Json) -> list[Json]:
        with self._lock:
            if self._webhook is not None:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            offset = int(params.get("offset", 0))
            if offset < 0:
                del self._updates[: max(len(self._updates) + offset, 0)]
            elif offset:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self._set_allowed(params)
            limit = min(max(int(params.get("limit", 100)), 1), 100)
            self._poll_generation += 1
            generation = self._poll_generation
        deadline = time.monotonic() + max(int(params.get("timeout", 0)), 0)
        while True:
            event = self._pulse_event
            with self._lock:
                if generation != self._poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                batch = copy.deepcopy(self._updates[:limit])
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0 or self._closing or event is None:
                return batch
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def _api_setWebhook(self, params: Json) -> bool:
        if not str(params.get("url", "")):
            return self._api_deleteWebhook(params)
        self._set_allowed(params)
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self._webhook = {k: params[k] for k in ("url", "secret_token", "max_connections") if k in params}
        return True

    def _api_deleteWebhook(self, params: Json) -> bool:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self._webhook = None
        return True

    def _api_getWebhookInfo(self, params: Json) -> Json:
        info: Json = {
            "url": (self._webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._allowed_updates:
            info["allowed_updates"] = list(self._allowed_updates)
        return info

    # --- chats and members -----------------------------------------------------------------------------

    def _now(self) -> int:
        return int(time.time())

    def _chat(self, chat_id: Any) -> _Chat:
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad_request("chat not found")
        if chat.migrated_to is not None:
            raise bad_request(
                "group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": chat.migrated_to}
            )
        return chat

    def _reachable(self, chat_id: Any) -> _Chat:
        """The chat, if the bot can act there."""
        chat = self._chat(chat_id)
        if chat.type == "private":
            if chat.id in self._blocked:
                raise forbidden("bot was blocked by the user")
            if chat.id not in self._started and not self._join_request_contact(chat.id):
                raise forbidden("bot can't initiate conversation with a user")
            return chat
        status = chat.status(self.bot_id)
        if status == "kicked":
            raise forbidden(f"bot was kicked from the {chat.type} chat")
        if status not in PRESENT:
            raise forbidden(f"bot is not a member of the {chat.type} chat")
        return chat

    def _group(self, chat_id: Any) -> _Chat:
        chat = self._reachable(chat_id)
        if chat.type == "private":
            raise bad_request("method is not available for private chats")
        return chat

    def _require_right(self, chat: _Chat, right: str, reason: str) -> None:
        record = chat.members.get(self.bot_id, {})
        if record.get("status") != "administrator" or not record.get(right):
            raise bad_request(reason)

    def _join_request_contact(self, user_id: int) -> bool:
        limit = self._now() - JOIN_REQUEST_CONTACT_SECONDS
        return any(c.requests.get(user_id, {}).get("date", 0) >= limit for c in self._chats.values())

    def _member_json(self, chat: _Chat, user_id: int) -> Json:
        record = dict(chat.members.get(user_id, {"status": "left"}))
        if record["status"] == "kicked":
            record.setdefault("until_date", 0)
        elif record["status"] == "administrator":
            record = {
                "can_be_edited": False,
                "is_anonymous": False,
                **dict.fromkeys(ADMIN_RIGHTS, False),
                **record,
            }
        elif record["status"] == "creator":
            record.setdefault("is_anonymous", False)
        return {"user": self._users[user_id], **record}

    def _change_member(
        self,
        chat: _Chat,
        user_id: int,
        record: Json,
        actor: int,
        invite_link: Json | None = None,
        **flags: bool,
    ) -> None:
        """Sets a membership and sends the chat_member / my_chat_member update it causes (``flags``:
        via_join_request, via_chat_folder_invite_link, as the update carries them)."""
        old = self._member_json(chat, user_id)
        chat.members[user_id] = record
        new = self._member_json(chat, user_id)
        if old == new:
            return
        chat.requests.pop(user_id, None)
        update: Json = {
            "chat": chat.info,
            "from": self._users[actor],
            "date": self._now(),
            "old_chat_member": old,
            "new_chat_member": new,
        }
        if invite_link is not None:
            update["invite_link"] = invite_link
        update.update({key: True for key, value in flags.items() if value})
        if user_id == self.bot_id:
            self._emit("my_chat_member", update)
        elif chat.status(self.bot_id) == "administrator":  # documented: only admins get chat_member
            self._emit("chat_member", update)

    def _new_message(self, chat: _Chat, sender: int, fields: Json) -> Json:
        message: Json = {
            "message_id": chat.next_message_id,
            "from": self._users[sender],
            "chat": chat.info,
            "date": self._now(),
            **fields,
        }
        chat.messages[chat.next_message_id] = message
        chat.next_message_id += 1
        return message

    def _deliver(self, chat: _Chat, message: Json, service: bool = False) -> None:
        """Sends a user's message to the bot when the bot gets to see it (privacy mode as documented)."""
        if chat.type != "private":
            status = chat.status(self.bot_id)
            if status not in PRESENT:
                return
            text, replied = str(message.get("text", "")), message.get("reply_to_message") or {}
            command = BOT_COMMAND.match(text)
            sees = (
                service
                or self.can_read_all_group_messages
                or status == "administrator"
                or (replied.get("from") or {}).get("id") == self.bot_id
                or (command is not None and command.group().endswith(f"@{self.username}"))
                or (command is not None and "@" not in command.group() and chat.bot_has_spoken)
            )
            if not sees:
                return
        self._emit("message", message)

    # --- the bot's messages ----------------------------------------------------------------------------

    def _format(self, params: Json, key: str, limit: int) -> tuple[str, list[Json]]:
        source = params.get(key)
        if source is None:
            source = ""
        if not isinstance(source, str):
            source = json.dumps(source)
        mode = str(params.get("parse_mode") or "")
        if mode.lower() == "html":
            text, entities = parse_html(source, self._users)
        elif mode:
            raise bad_request(f"unsupported parse_mode {mode!r} (the fake implements HTML only)")
        else:
            text, entities = (
                source,
                list(params.get("caption_entities" if key == "caption" else "entities", [])),
            )
        text, entities = _strip(text, entities)
        what = "message caption" if key == "caption" else "message"
        if utf16_len(text) > limit:
            raise bad_request(f"{what} is too long")
        if key == "text" and not text:
            raise bad_request("message text is empty")
        return text, entities

    def _reply_markup(self, params: Json) -> Json | None:
        markup = params.get("reply_markup")
        if not isinstance(markup, dict):
            return None
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
                if not button.get("text"):
                    raise bad_request("text buttons are unallowed in the inline keyboard")
        return markup

    def _reply_fields(self, chat: _Chat, params: Json) -> Json:
        reply = params.get("reply_parameters") or {}
        message_id = reply.get("message_id", params.get("reply_to_message_id"))
        if message_id is None:
            return {}
        replied = chat.messages.get(int(message_id))
        if replied is None:
            if reply.get("allow_sending_without_reply") or params.get("allow_sending_without_reply"):
                return {}
            raise bad_request("message to be replied not found")
        return {"reply_to_message": {k: v for k, v in replied.items() if k != "reply_to_message"}}

    def _bot_sends(self, chat: _Chat, method: str, params: Json, fields: Json, record: Json) -> Json:
        markup = self._reply_markup(params)
        fields = {**self._reply_fields(chat, params), **fields}
        if markup and "inline_keyboard" in markup:
            fields["reply_markup"] = markup
        message = self._new_message(chat, self.bot_id, fields)
        chat.bot_has_spoken = True
        self._sent.setdefault(chat.id, []).append(
            {
                "method": method,
                "chat_id": chat.id,
                "message_id": message["message_id"],
                "date": message["date"],
                "time": time.monotonic(),
                "parse_mode": params.get("parse_mode"),
                "reply_markup": markup,
                "link_preview_options": params.get("link_preview_options"),
                "disable_web_page_preview": params.get("disable_web_page_preview"),
                "reply_to_message_id": (fields.get("reply_to_message") or {}).get("message_id"),
                "edits": [],
                **record,
            }
        )
        self._notify()
        return message

    def _api_getMe(self, params: Json) -> Json:
        return {
            **self._bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": self.can_read_all_group_messages,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _bot_may_send(self, chat: _Chat, permission: str, what: str) -> None:
        """A bot that is no administrator is a member like the others: the group's permissions hold."""
        if chat.type != "private" and not chat.may(self.bot_id, permission):
            raise bad_request(f"not enough rights to send {what} to the chat")

    def _api_sendMessage(self, params: Json) -> Json:
        chat = self._reachable(params.get("chat_id"))
        self._bot_may_send(chat, "can_send_messages", "text messages")
        text, entities = self._format(params, "text", MAX_TEXT)
        fields: Json = {"text": text, **({"entities": entities} if entities else {})}
        record = {"text": text, "source": params.get("text"), "entities": entities, "caption": None}
        return self._bot_sends(chat, "sendMessage", params, fields, record)

    def _find_sent(self, chat: _Chat, params: Json) -> tuple[Json, Json]:
        if "inline_message_id" in params:
            raise bad_request("inline messages are not supported by the fake")
        message = chat.messages.get(int(params.get("message_id", 0)))
        if message is None:
            raise bad_request("message to edit not found")
        record = next(
            (r for r in self._sent.get(chat.id, []) if r["message_id"] == message["message_id"]), None
        )
        if record is None:  # a user's message, or a service message
            raise bad_request("message can't be edited")
        return message, record

    def _edit(self, message: Json, record: Json, fields: Json, changes: Json) -> Json:
        if all(message.get(k) == v for k, v in fields.items()):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are exactly the "
                "same as a current content and reply markup of the message"
            )
        previous = {
            k: record[k] for k in ("text", "source", "entities", "parse_mode", "reply_markup", "time")
        }
        record["edits"].append(previous)
        record.update(changes, time=time.monotonic())
        for key, value in fields.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = self._now()
        self._notify()
        return message

    def _api_editMessageText(self, params: Json) -> Json:
        chat = self._reachable(params.get("chat_id"))
        message, record = self._find_sent(chat, params)
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        text, entities = self._format(params, "text", MAX_TEXT)
        markup = self._reply_markup(params)
        inline = markup if markup and "inline_keyboard" in markup else None
        fields = {"text": text, "entities": entities or None, "reply_markup": inline}
        changes = {
            "text": text,
            "source": params.get("text"),
            "entities": entities,
            "parse_mode": params.get("parse_mode"),
            "reply_markup": markup,
        }
        return self._edit(message, record, fields, changes)

    def _api_editMessageReplyMarkup(self, params: Json) -> Json:
        chat = self._reachable(params.get("chat_id"))
        message, record = self._find_sent(chat, params)
        markup = self._reply_markup(params)
        inline = markup if markup and "inline_keyboard" in markup else None
        return self._edit(message, record, {"reply_markup": inline}, {"reply_markup": markup})

    def _upload(self, params: Json, key: str) -> tuple[Json, bytes]:
        value = params.get(key)
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        if isinstance(value, str):
            known = self._files.get(value)
            if known is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
            return dict(known["object"]), bytes(known["data"])
        if not isinstance(value, Upload):
            raise bad_request(f"there is no {key} in the request")
        if not value.data:
            raise bad_request("file must be non-empty")
        unique = secrets.token_hex(8)
        obj: Json = {"file_id": f"{key}-{unique}", "file_unique_id": unique, "file_size": len(value.data)}
        if key == "document":
            obj.update(file_name=value.filename, mime_type=value.content_type)
        else:
            size = _image_size(value.data)
            if size is None:
                raise bad_request("IMAGE_PROCESS_FAILED")
            obj.update(width=size[0], height=size[1])
        self._files[obj["file_id"]] = {"object": obj, "data": value.data, "filename": value.filename}
        return obj, value.data

    def _send_file(self, params: Json, key: str, method: str) -> Json:
        chat = self._reachable(params.get("chat_id"))
        self._bot_may_send(chat, f"can_send_{key}s", f"{key}s")
        caption, entities = self._format(params, "caption", MAX_CAPTION)
        obj, data = self._upload(params, key)
        fields: Json = {key: [obj] if key == "photo" else obj}
        if caption:
            fields["caption"] = caption
        if entities:
            fields["caption_entities"] = entities
        record = {
            "text": None,
            "source": params.get("caption"),
            "caption": caption,
            "entities": entities,
            key: {**obj, "data": data, "filename": self._files[obj["file_id"]]["filename"]},
        }
        return self._bot_sends(chat, method, params, fields, record)

    def _api_sendDocument(self, params: Json) -> Json:
        return self._send_file(params, "document", "sendDocument")

    def _api_sendPhoto(self, params: Json) -> Json:
        return self._send_file(params, "photo", "sendPhoto")

    def _api_answerCallbackQuery(self, params: Json) -> bool:
        query = self._queries.get(str(params.get("callback_query_id", "")))
        if query is None or query["answered"]:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        query["answered"] = True
        self._answers.append({**query["query"], "answer": {k: v for k, v in params.items()}})
        self._notify()
        return True

    # --- invite links and join requests ----------------------------------------------------------------

    def _api_createChatInviteLink(self, params: Json) -> Json:
        chat = self._group(params.get("chat_id"))
        self._require_right(chat, "can_invite_users", "not enough rights to manage chat invite links")
        name, limit = params.get("name"), params.get("member_limit")
        if name is not None and len(str(name)) > 32:
            raise bad_request("invite link name is too long")
        if limit is not None and not 1 <= int(limit) <= 99999:
            raise bad_request("member limit is invalid")
        if limit is not None and params.get("creates_join_request"):
            raise bad_request("can't combine member limit with join request")
        link: Json = {
            "invite_link": f"https://t.me/+{secrets.token_urlsafe(12)}",
            "creator": self._bot_user,
            "creates_join_request": bool(params.get("creates_join_request", False)),
            "is_primary": False,
            "is_revoked": False,
        }
        for key in ("name", "expire_date", "member_limit"):
            if params.get(key) is not None:
                link[key] = params[key]
        self._links[link["invite_link"]] = {"chat_id": chat.id, "object": link, "joined": 0}
        return link

    def _api_revokeChatInviteLink(self, params: Json) -> Json:
        chat = self._group(params.get("chat_id"))
        self._require_right(chat, "can_invite_users", "not enough rights to manage chat invite links")
        state = self._links.get(str(params.get("invite_link", "")))
        if state is None or state["chat_id"] != chat.id:
            raise bad_request("INVITE_HASH_INVALID")
        state["object"]["is_revoked"] = True
        return dict(state["object"])

    def _join_request(self, params: Json) -> tuple[_Chat, int]:
        chat = self._group(params.get("chat_id"))
        self._require_right(chat, "can_invite_users", "not enough rights to manage chat invite links")
        user_id = int(params.get("user_id", 0))
        if user_id not in chat.requests:
            raise bad_request("HIDE_REQUESTER_MISSING")
        return chat, user_id

    def _api_approveChatJoinRequest(self, params: Json) -> bool:
        chat, user_id = self._join_request(params)
        link = chat.requests[user_id]["invite_link"]
        self._join(chat, user_id, link, actor=self.bot_id)
        return True

    def _api_declineChatJoinRequest(self, params: Json) -> bool:
        chat, user_id = self._join_request(params)
        del chat.requests[user_id]
        return True

    def _join(self, chat: _Chat, user_id: int, link: Json | None, actor: int, **flags: bool) -> None:
        """``user_id`` is in the chat now, by a link or a request ``actor`` approved: the chat_member
        update, and the service message (from the user) saying they joined."""
        if link is not None:
            self._links[link["invite_link"]]["joined"] += 1
        self._change_member(chat, user_id, {"status": "member"}, actor, invite_link=link, **flags)
        self._deliver(
            chat, self._new_message(chat, user_id, {"new_chat_members": [self._users[user_id]]}), True
        )

    # --- moderation, chat info, commands ---------------------------------------------------------------

    def _target_user(self, params: Json) -> int:
        user_id = int(params.get("user_id", 0))
        if user_id not in self._users:
            raise bad_request("user not found")
        return user_id

    def _api_banChatMember(self, params: Json) -> bool:
        chat = self._group(params.get("chat_id"))
        self._require_right(
            chat, "can_restrict_members", "not enough rights to restrict/unrestrict chat member"
        )
        user_id = self._target_user(params)
        if chat.status(user_id) == "creator":
            raise bad_request("can't remove chat owner")
        if chat.status(user_id) == "administrator":
            raise bad_request("user is an administrator of the chat")
        until = int(params.get("until_date") or 0)
        if until and not 30 <= until - self._now() <= 366 * 86400:
            until = 0  # documented: banned forever
        self._change_member(chat, user_id, {"status": "kicked", "until_date": until}, self.bot_id)
        return True

    def _api_unbanChatMember(self, params: Json) -> bool:
        chat = self._group(params.get("chat_id"))
        self._require_right(
            chat, "can_restrict_members", "not enough rights to restrict/unrestrict chat member"
        )
        user_id = self._target_user(params)
        status = chat.status(user_id)
        if status in ("creator", "administrator") and not params.get("only_if_banned"):
            raise bad_request("user is an administrator of the chat")
        if status == "kicked" or (status in PRESENT and not params.get("only_if_banned")):
            self._change_member(chat, user_id, {"status": "left"}, self.bot_id)
        return True

    def _api_setChatTitle(self, params: Json) -> bool:
        chat = self._group(params.get("chat_id"))
        self._require_right(chat, "can_change_info", "not enough rights to change chat title")
        title = str(params.get("title", "")).strip()
        if not 1 <= len(title) <= 128:
            raise bad_request("chat title is empty" if not title else "chat title is too long")
        if title == chat.info["title"]:
            raise bad_request("chat title is not modified")
        chat.info["title"] = title
        self._new_message(chat, self.bot_id, {"new_chat_title": title})  # the bot's own: no update
        self._notify()
        return True

    def _api_getChat(self, params: Json) -> Json:
        chat = self._reachable(params.get("chat_id"))
        gifts = (
            "unlimited_gifts",
            "limited_gifts",
            "unique_gifts",
            "premium_subscription",
            "gifts_from_channels",
        )
        return {
            **chat.info,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": dict.fromkeys(gifts, False),
            **({"permissions": dict(chat.permissions)} if chat.type != "private" else {}),
        }

    def _api_setChatPermissions(self, params: Json) -> bool:
        """Documented: the bot must be an administrator with can_restrict_members. A permission left out is
        False; without use_independent_chat_permissions, can_send_other_messages and
        can_add_web_page_previews imply the send permissions, and can_send_polls implies
        can_send_messages. Setting what is already set is refused (CHAT_NOT_MODIFIED), as Telegram does."""
        chat = self._group(params.get("chat_id"))
        self._require_right(chat, "can_restrict_members", "not enough rights to change chat permissions")
        given = params.get("permissions")
        if not isinstance(given, dict):
            raise bad_request("can't parse permissions JSON object")
        new = {key: bool(given.get(key, False)) for key in CHAT_PERMISSIONS}
        if not params.get("use_independent_chat_permissions"):
            if new["can_send_other_messages"] or new["can_add_web_page_previews"]:
                new.update(dict.fromkeys(SEND_PERMISSIONS, True))
            if new["can_send_polls"]:
                new["can_send_messages"] = True
        if new == chat.permissions:
            raise bad_request("CHAT_NOT_MODIFIED")
        chat.permissions = new
        self._notify()
        return True

    def _api_getChatMember(self, params: Json) -> Json:
        chat = self._reachable(params.get("chat_id"))
        return self._member_json(chat, self._target_user(params))

    def _api_getChatAdministrators(self, params: Json) -> list[Json]:
        chat = self._group(params.get("chat_id"))
        admins = [uid for uid, m in chat.members.items() if m["status"] in ("creator", "administrator")]
        return [self._member_json(chat, uid) for uid in admins]

    def _api_getChatMemberCount(self, params: Json) -> int:
        chat = self._reachable(params.get("chat_id"))
        return sum(1 for m in chat.members.values() if m["status"] in PRESENT)

    def _api_leaveChat(self, params: Json) -> bool:
        chat = self._group(params.get("chat_id"))
        self._change_member(chat, self.bot_id, {"status": "left"}, self.bot_id)
        return True

    def _deletable(self, chat: _Chat, message: Json) -> bool:
        """As documented: only within 48 hours; the bot's own messages, incoming ones in private chats, any
        in a group where the bot is an administrator (in a supergroup, with can_delete_messages)."""
        if self._now() - int(message["date"]) > DELETE_WINDOW_SECONDS:
            return False
        if (message.get("from") or {}).get("id") == self.bot_id or chat.type == "private":
            return True
        record = chat.members.get(self.bot_id, {})
        if record.get("status") != "administrator":
            return False
        return chat.type == "group" or bool(record.get("can_delete_messages"))

    def _api_deleteMessage(self, params: Json) -> bool:
        chat = self._reachable(params.get("chat_id"))
        message = chat.messages.get(int(params.get("message_id") or 0))
        if message is None:
            raise bad_request("message to delete not found")
        if not self._deletable(chat, message):
            raise bad_request("message can't be deleted")
        del chat.messages[int(message["message_id"])]
        return True

    def _api_deleteMessages(self, params: Json) -> bool:
        """Messages not found are skipped; when none of those found may be deleted, the call fails."""
        chat = self._reachable(params.get("chat_id"))
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad_request("message_ids must be a list of 1 to 100 message identifiers")
        found = [chat.messages[int(i)] for i in ids if int(i) in chat.messages]
        deletable = [m for m in found if self._deletable(chat, m)]
        if found and not deletable:
            raise bad_request("message can't be deleted")
        for message in deletable:
            del chat.messages[int(message["message_id"])]
        return True

    @staticmethod
    def _commands_key(params: Json) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def _api_setMyCommands(self, params: Json) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands must be an array of at most 100 BotCommand")
        for command in commands:
            if not COMMAND_NAME.fullmatch(str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            description = str(command.get("description", "")).strip()
            if not description:
                raise bad_request("command description must be non-empty")
            if len(description) > 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        language = str(params.get("language_code") or "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise bad_request("LANG_CODE_INVALID")
        key = self._commands_key(params)
        self._commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
        if not commands:
            del self._commands[key]
        self._notify()
        return True

    def _api_getMyCommands(self, params: Json) -> list[Json]:
        return list(self._commands.get(self._commands_key(params), []))

    def _api_deleteMyCommands(self, params: Json) -> bool:
        self._commands.pop(self._commands_key(params), None)
        self._notify()
        return True

    # --- the test side: people ---------------------------------------------------------------------------

    def _known_chat(self, chat_id: int) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            raise ValueError(f"no chat {chat_id}")
        if chat.migrated_to is not None:
            raise ValueError(f"chat {chat_id} was migrated to {chat.migrated_to}")
        return chat

    def _known_user(self, user_id: int) -> Json:
        if user_id not in self._users or user_id == self.bot_id:
            raise ValueError(f"no user {user_id}: register it with user()")
        return self._users[user_id]

    def user(
        self,
        user_id: int,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> Json:
        """Registers a Telegram user (its private chat with the bot exists but is not started)."""
        with self._lock:
            user: Json = {"id": user_id, "is_bot": False, "first_name": first_name}
            optional = {"last_name": last_name, "username": username, "language_code": language_code}
            user.update({k: v for k, v in optional.items() if v is not None})
            self._users[user_id] = user
            info = {"id": user_id, "type": "private", "first_name": first_name}
            info.update({k: v for k, v in optional.items() if v is not None and k != "language_code"})
            chat = _Chat(info, members={user_id: {"status": "member"}, self.bot_id: {"status": "member"}})
            self._chats.setdefault(user_id, chat)
            return dict(user)

    def group(
        self, chat_id: int, title: str, creator: int, members: list[int], admins: list[int] | None = None
    ) -> None:
        """A group (supergroup when the id starts with -100) the bot is not in yet."""
        if chat_id >= 0:
            raise ValueError("group ids are negative")
        with self._lock:
            for uid in [creator, *members, *(admins or [])]:
                self._known_user(uid)
            kind = "supergroup" if str(chat_id).startswith("-100") else "group"
            chat = _Chat({"id": chat_id, "type": kind, "title": title})
            chat.members = {uid: {"status": "member"} for uid in members}
            for uid in admins or []:
                chat.members[uid] = {
                    "status": "administrator",
                    "can_manage_chat": True,
                    "can_invite_users": True,
                }
            chat.members[creator] = {"status": "creator"}
            self._chats[chat_id] = chat

    def add_bot(
        self,
        chat_id: int,
        status: str = "member",
        *,
        can_invite_users: bool = True,
        can_restrict_members: bool = True,
        can_change_info: bool = True,
        can_delete_messages: bool = True,
        can_pin_messages: bool = True,
        by: int | None = None,
    ) -> None:
        """Adds the bot to a group or changes its rights: a my_chat_member update (and a service message)."""
        if status not in ("member", "administrator"):
            raise ValueError("status is member or administrator")
        with self._lock:
            chat = self._known_chat(chat_id)
            actor = (
                by if by is not None else next(u for u, m in chat.members.items() if m["status"] == "creator")
            )
            record: Json = {"status": status}
            if status == "administrator":
                rights = {
                    "can_invite_users": can_invite_users,
                    "can_restrict_members": can_restrict_members,
                    "can_change_info": can_change_info,
                    "can_delete_messages": can_delete_messages,
                    "can_pin_messages": can_pin_messages,
                }
                record.update(dict.fromkeys(ADMIN_RIGHTS, False), can_manage_chat=True, **rights)
            joined = chat.status(self.bot_id) not in PRESENT
            self._change_member(chat, self.bot_id, record, actor)
            if joined:
                message = self._new_message(chat, actor, {"new_chat_members": [self._bot_user]})
                self._deliver(chat, message, service=True)

    set_bot_rights = add_bot

    def remove_bot(self, chat_id: int, by: int | None = None) -> None:
        """An admin removes the bot: it is "kicked" (my_chat_member update)."""
        with self._lock:
            chat = self._known_chat(chat_id)
            actor = (
                by if by is not None else next(u for u, m in chat.members.items() if m["status"] == "creator")
            )
            self._change_member(chat, self.bot_id, {"status": "kicked", "until_date": 0}, actor)

    def say(self, user_id: int, chat_id: int, text: str, reply_to: int | None = None) -> int:
        """The user writes ``text`` (in the private chat when chat_id == user_id); returns the message id."""
        with self._lock:
            user = self._known_user(user_id)
            chat = self._known_chat(chat_id)
            if chat.type == "private":
                if chat_id != user_id:
                    raise ValueError("users write in groups or in their own private chat")
                if user_id in self._blocked:  # writing to the bot again restarts it
                    self._blocked.discard(user_id)
                    self._change_member(chat, self.bot_id, {"status": "member"}, user_id)
                self._started.add(user_id)
            elif chat.status(user_id) not in PRESENT:
                raise ValueError(f"{user['first_name']} is not a member of {chat_id}")
            elif not chat.may(user_id, "can_send_messages"):
                raise Refused("CHAT_SEND_PLAIN_FORBIDDEN")  # the app says: writing is not allowed here
            fields: Json = {"text": text}
            command = BOT_COMMAND.match(text)
            if command:
                fields["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": utf16_len(command.group())}
                ]
            if reply_to is not None:
                fields["reply_to_message"] = {
                    k: v for k, v in chat.messages[reply_to].items() if k != "reply_to_message"
                }
            message = self._new_message(chat, user_id, fields)
            self._deliver(chat, message)
            return int(message["message_id"])

    def start(self, user_id: int, payload: str | None = None) -> int:
        """The user opens t.me/<bot>?start=<payload>: sends "/start <payload>" in the private chat."""
        return self.say(user_id, user_id, f"/start {payload}" if payload else "/start")

    def block(self, user_id: int) -> None:
        """The user blocks the bot: my_chat_member (kicked) in the private chat, later sends get 403."""
        with self._lock:
            self._known_user(user_id)
            self._blocked.add(user_id)
            chat = self._chats[user_id]
            self._change_member(chat, self.bot_id, {"status": "kicked", "until_date": 0}, user_id)

    def press(self, user_id: int, chat_id: int, message_id: int, data: str) -> str:
        """The user presses the inline button carrying ``data``; returns the callback query id."""
        with self._lock:
            user = self._known_user(user_id)
            chat = self._known_chat(chat_id)
            message = chat.messages.get(message_id)
            if message is None or message["from"]["id"] != self.bot_id:
                raise ValueError(f"no message {message_id} of the bot in {chat_id}")
            rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
            if not any(b.get("callback_data") == data for row in rows for b in row):
                raise ValueError(f"message {message_id} has no button with callback_data {data!r}")
            if (chat.type == "private" and chat_id != user_id) or chat.status(user_id) not in PRESENT:
                raise ValueError(f"{user['first_name']} cannot see chat {chat_id}")
            query_id = str(4_000_000_000_000_000 + self._next_query_id)
            self._next_query_id += 1
            query: Json = {
                "id": query_id,
                "from": user,
                "message": message,
                "chat_instance": str(abs(hash((self.bot_id, chat_id)))),
                "data": data,
            }
            self._queries[query_id] = {"query": copy.deepcopy(query), "answered": False}
            self._emit("callback_query", query)
            return query_id

    def _usable_link(self, user_id: int, invite_link: str) -> tuple[_Chat, Json] | None:
        state = self._links.get(invite_link)
        if state is None or state["object"]["is_revoked"]:
            return None
        link = state["object"]
        if link.get("expire_date") is not None and link["expire_date"] <= self._now():
            return None
        if link.get("member_limit") is not None and state["joined"] >= link["member_limit"]:
            return None
        chat = self._chats[state["chat_id"]]
        if chat.status(user_id) in PRESENT or chat.status(user_id) == "kicked":
            return None
        return chat, link

    def request_join(self, user_id: int, invite_link: str) -> bool:
        """The user opens a join-request link: a chat_join_request update; False when the link is unusable."""
        with self._lock:
            user = self._known_user(user_id)
            usable = self._usable_link(user_id, invite_link)
            if usable is None or not usable[1]["creates_join_request"]:
                return False
            chat, link = usable
            if user_id in chat.requests:
                return True
            chat.requests[user_id] = {"invite_link": link, "date": self._now()}
            bot = chat.members.get(self.bot_id, {})
            if bot.get("status") == "administrator" and bot.get("can_invite_users"):
                request = {"chat": chat.info, "from": user, "user_chat_id": user_id, "date": self._now()}
                self._emit("chat_join_request", {**request, "invite_link": link})
            self._notify()
            return True

    def join_by_link(self, user_id: int, invite_link: str) -> bool:
        """The user joins through a plain invite link (no join request); False when it is unusable."""
        with self._lock:
            self._known_user(user_id)
            usable = self._usable_link(user_id, invite_link)
            if usable is None or usable[1]["creates_join_request"]:
                return False
            self._join(usable[0], user_id, usable[1], actor=user_id)
            return True

    def leave(self, user_id: int, chat_id: int) -> None:
        """The user leaves the group: a chat_member update and the service message."""
        with self._lock:
            user = self._known_user(user_id)
            chat = self._known_chat(chat_id)
            if chat.status(user_id) not in PRESENT:
                raise ValueError(f"{user['first_name']} is not in {chat_id}")
            self._change_member(chat, user_id, {"status": "left"}, user_id)
            self._deliver(chat, self._new_message(chat, user_id, {"left_chat_member": user}), service=True)

    def add_member(self, chat_id: int, user_id: int, by: int) -> None:
        """``by`` adds ``user_id`` to the group in their app (Add Members): the owner may; an administrator
        with the right to invite; any other member only where the group's permissions let members add
        people (else Refused CHAT_ADMIN_REQUIRED). A chat_member update (from ``by``) and the service
        message from ``by``. Adding someone banned lifts the ban (owner and administrators only)."""
        with self._lock:
            self._known_user(user_id)
            adder = self._known_user(by)
            chat = self._known_chat(chat_id)
            if chat.type == "private" or chat.status(by) not in PRESENT:
                raise ValueError(f"{adder['first_name']} is not in {chat_id}")
            if chat.status(user_id) in PRESENT:
                raise ValueError(f"{user_id} is in {chat_id} already")
            if not chat.may(by, "can_invite_users"):
                raise Refused("CHAT_ADMIN_REQUIRED")
            if chat.status(user_id) == "kicked" and chat.status(by) not in ("creator", "administrator"):
                raise Refused("USER_KICKED")
            self._change_member(chat, user_id, {"status": "member"}, by)
            added = self._new_message(chat, by, {"new_chat_members": [self._users[user_id]]})
            self._deliver(chat, added, service=True)

    def create_link(self, chat_id: int, by: int, creates_join_request: bool = False) -> str:
        """The owner or an administrator with the right to invite makes an invitation link in their app."""
        with self._lock:
            self._known_user(by)
            chat = self._known_chat(chat_id)
            if chat.status(by) not in ("creator", "administrator") or not chat.may(by, "can_invite_users"):
                raise Refused("CHAT_ADMIN_REQUIRED")
            link: Json = {
                "invite_link": f"https://t.me/+{secrets.token_urlsafe(12)}",
                "creator": self._users[by],
                "creates_join_request": creates_join_request,
                "is_primary": False,
                "is_revoked": False,
            }
            self._links[link["invite_link"]] = {"chat_id": chat.id, "object": link, "joined": 0}
            return str(link["invite_link"])

    def approve_join(self, chat_id: int, user_id: int, by: int) -> None:
        """The owner or an administrator approves a pending join request in their app: the chat_member
        update comes from them, with the link the request came through."""
        with self._lock:
            self._known_user(by)
            chat = self._known_chat(chat_id)
            if chat.status(by) not in ("creator", "administrator") or not chat.may(by, "can_invite_users"):
                raise Refused("CHAT_ADMIN_REQUIRED")
            if user_id not in chat.requests:
                raise ValueError(f"no join request of {user_id} in {chat_id}")
            link = chat.requests[user_id].get("invite_link")
            self._join(chat, user_id, link, actor=by, via_join_request=link is None)

    def remove_member(self, chat_id: int, user_id: int, by: int) -> None:
        """The owner (or an administrator who may ban) removes a member in their app: they are banned (a
        chat_member update from ``by``) and the service message says they left."""
        with self._lock:
            user = self._known_user(user_id)
            self._known_user(by)
            chat = self._known_chat(chat_id)
            record = chat.members.get(by, {})
            if record.get("status") != "creator" and not (
                record.get("status") == "administrator" and record.get("can_restrict_members")
            ):
                raise Refused("CHAT_ADMIN_REQUIRED")
            if chat.status(user_id) not in PRESENT:
                raise ValueError(f"{user['first_name']} is not in {chat_id}")
            self._change_member(chat, user_id, {"status": "kicked", "until_date": 0}, by)
            self._deliver(chat, self._new_message(chat, by, {"left_chat_member": user}), service=True)

    def set_permissions(self, chat_id: int, by: int, **permissions: bool) -> None:
        """The owner (or an administrator who may ban) changes what members may do, in their app. Telegram
        tells bots nothing of it: no update, no service message."""
        with self._lock:
            self._known_user(by)
            chat = self._known_chat(chat_id)
            record = chat.members.get(by, {})
            if record.get("status") != "creator" and not (
                record.get("status") == "administrator" and record.get("can_restrict_members")
            ):
                raise Refused("CHAT_ADMIN_REQUIRED")
            unknown = set(permissions) - set(CHAT_PERMISSIONS)
            if unknown:
                raise ValueError(f"no such permissions: {sorted(unknown)}")
            chat.permissions.update(permissions)

    def permissions(self, chat_id: int) -> Json:
        """The group's default member permissions now."""
        with self._lock:
            return dict(self._chats[chat_id].permissions)

    def migrate(self, chat_id: int) -> int:
        """Upgrades a group to a supergroup; returns the new id. The old id then answers 400 with it."""
        with self._lock:
            old = self._known_chat(chat_id)
            if old.type != "group":
                raise ValueError("only groups migrate")
            new_id = -(10**12 + abs(chat_id))
            creator = next(u for u, m in old.members.items() if m["status"] == "creator")
            new = _Chat({**old.info, "id": new_id, "type": "supergroup"}, members=copy.deepcopy(old.members))
            new.requests, old.requests = old.requests, {}
            new.permissions = dict(old.permissions)
            self._chats[new_id] = new
            for state in self._links.values():
                if state["chat_id"] == chat_id:
                    state["chat_id"] = new_id
            self._deliver(old, self._new_message(old, creator, {"migrate_to_chat_id": new_id}), service=True)
            self._deliver(
                new, self._new_message(new, creator, {"migrate_from_chat_id": chat_id}), service=True
            )
            old.migrated_to = new_id
            return new_id

    def fail(
        self,
        method: str,
        times: int = 1,
        error_code: int = 429,
        retry_after: int = 1,
        description: str | None = None,
    ) -> None:
        """The next ``times`` calls of ``method`` fail (429: "Too Many Requests: retry after N")."""
        if error_code == 429:
            error = ApiError(429, description or f"Too Many Requests: retry after {retry_after}")
            error.parameters = {"retry_after": retry_after}
        else:
            error = ApiError(error_code, description or ERROR_NAMES.get(error_code, "Internal Server Error"))
        with self._lock:
            self._failures.setdefault(method.lower(), []).extend([error] * times)

    # --- the test side: observation ----------------------------------------------------------------------

    def sent(self, chat_id: int) -> list[Json]:
        """Every message the bot sent to the chat, in order, as it is now (``edits`` keeps older versions)."""
        with self._lock:
            return copy.deepcopy(self._sent.get(chat_id, []))

    def calls(self, method: str | None = None) -> list[Json]:
        """The parameters of every call of ``method`` (all calls, with a "method" key, when None)."""
        with self._lock:
            if method is None:
                return [{"method": m, **copy.deepcopy(p)} for m, p in self._calls]
            return [copy.deepcopy(p) for m, p in self._calls if m == method.lower()]

    def messages(self, chat_id: int) -> list[int]:
        """The ids of the messages still in the chat (not deleted)."""
        with self._lock:
            return sorted(self._chats[chat_id].messages)

    def age(self, chat_id: int, seconds: int) -> None:
        """Make every message in the chat `seconds` older (Telegram deletes only recent ones)."""
        with self._lock:
            for message in self._chats[chat_id].messages.values():
                message["date"] = int(message["date"]) - seconds

    def members(self, chat_id: int) -> list[int]:
        """The users (not the bot) who are in the chat now."""
        with self._lock:
            chat = self._chats[chat_id]
            return [uid for uid, m in chat.members.items() if m["status"] in PRESENT and uid != self.bot_id]

    def member_status(self, chat_id: int, user_id: int) -> str:
        with self._lock:
            return self._chats[chat_id].status(user_id)

    def title(self, chat_id: int) -> str:
        with self._lock:
            return str(self._chats[chat_id].info["title"])

    def commands(self, language_code: str = "", scope: Json | None = None) -> list[Json]:
        with self._lock:
            return self._api_getMyCommands({"language_code": language_code, "scope": scope})

    def answers(self) -> list[Json]:
        """Answered callback queries: the query fields plus "answer" (the answerCallbackQuery parameters)."""
        with self._lock:
            return copy.deepcopy(self._answers)

    def pending_join_requests(self, chat_id: int) -> list[int]:
        with self._lock:
            return list(self._chats[chat_id].requests)

    def _find_sent_text(self, chat_id: int, contains: str, after: int) -> Json | None:
        for record in self._sent.get(chat_id, []):
            if record["message_id"] > after and contains in (record["text"] or record["caption"] or ""):
                return copy.deepcopy(record)
        return None

    def _find_call(self, method: str, after: int) -> Json | None:
        found = [p for m, p in self._calls if m == method.lower()]
        return copy.deepcopy(found[after]) if len(found) > after else None

    async def _wait(self, find: Callable[[], T | None], deadline: float, what: Callable[[], str]) -> T:
        while True:
            with self._lock:
                found = find()
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                raise TimeoutError(what())
            await asyncio.sleep(0.01)

    def _wait_sync(self, find: Callable[[], T | None], deadline: float, what: Callable[[], str]) -> T:
        with self._changed:
            while (found := find()) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(what())
                self._changed.wait(remaining)
            return found

    def _sent_summary(self, chat_id: int, contains: str) -> str:
        texts = [r["text"] or r["caption"] for r in self.sent(chat_id)]
        return f"the bot sent no message containing {contains!r} to {chat_id}; it sent {texts!r}"

    async def wait_for_sent(
        self,
        chat_id: int,
        contains: str,
        timeout: float = 10.0,  # noqa: ASYNC109 - a plain number suits the tests best
        after: int = 0,
    ) -> Json:
        """The first message the bot sent to the chat with message_id > ``after`` whose text (or caption)
        contains ``contains``, waiting for it up to ``timeout`` seconds."""
        return await self._wait(
            lambda: self._find_sent_text(chat_id, contains, after),
            time.monotonic() + timeout,
            lambda: self._sent_summary(chat_id, contains),
        )

    def wait_for_sent_sync(self, chat_id: int, contains: str, timeout: float = 10.0, after: int = 0) -> Json:
        """:meth:`wait_for_sent` for synchronous code or another thread."""
        return self._wait_sync(
            lambda: self._find_sent_text(chat_id, contains, after),
            time.monotonic() + timeout,
            lambda: self._sent_summary(chat_id, contains),
        )

    async def wait_for_call(
        self,
        method: str,
        after: int = 0,
        timeout: float = 10.0,  # noqa: ASYNC109 - as wait_for_sent
    ) -> Json:
        """The parameters of call number ``after`` (0: the first) of ``method``, waiting for it."""
        return await self._wait(
            lambda: self._find_call(method, after),
            time.monotonic() + timeout,
            lambda: f"no call {after} of {method}",
        )

    def wait_for_call_sync(self, method: str, after: int = 0, timeout: float = 10.0) -> Json:
        return self._wait_sync(
            lambda: self._find_call(method, after),
            time.monotonic() + timeout,
            lambda: f"no call {after} of {method}",
        )
