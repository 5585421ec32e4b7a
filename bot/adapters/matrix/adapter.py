"""Matrix: nio's responses become neutral events; effects become Matrix requests.

The bot keeps one device forever (session.json under store_path) and never logs out, so its
encryption keys stay valid and a resend with the same transaction id cannot post twice. The sync
token is stored in the database, and moved only after every event it covers is in the inbox. A
timeline that comes back `limited` is completed from /messages before the token moves.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import re
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, Protocol

import aiohttp
from nio import (
    AsyncClient,
    AsyncClientConfig,
    ErrorResponse,
    InviteMemberEvent,
    LoginResponse,
    MegolmEvent,
    MessageDirection,
    ReactionEvent,
    RoomMemberEvent,
    RoomMessagesResponse,
    RoomMessageText,
    RoomPreset,
    RoomVisibility,
    SyncResponse,
    UnknownEvent,
    UploadResponse,
)
from nio.store import SqliteStore

from bot.adapters.base import EffectDispatch
from bot.adapters.matrix.render import content
from bot.adapters.matrix.rooms import (
    CASE_STATE,
    GUESTS,
    HISTORY,
    JOIN_RULES,
    PROTECTED_EVENTS,
    CaseRoomIndex,
    creation_levels,
    guarded_levels,
    is_read_only,
)
from bot.adapters.matrix.session import StoredSession, load_session, save_session
from bot.core.context import Network
from bot.delivery.outbox import DeliveryError
from bot.domain.events import (
    AnswerJoin,
    BotInvited,
    BotStanding,
    CreateCaseRoom,
    Effect,
    EraseRoom,
    Event,
    GuardRoom,
    Invite,
    JoinRoom,
    Kick,
    LeaveRoom,
    LinkRoom,
    MemberInvited,
    MemberJoined,
    MemberLeft,
    ReactionAdded,
    RoomSettingChanged,
    SendFile,
    SendJoinLink,
    SendMessage,
    TextMessage,
)
from bot.settings import MatrixSettings

log = logging.getLogger(__name__)

NAME = "matrix"
USER_ID = re.compile(r"@[a-z0-9._=/+-]+:[A-Za-z0-9.:-]+")
# Synapse sends 10 timeline events per room and sync unless a filter asks for more.
SYNC_FILTER: dict[str, Any] = {
    "room": {"timeline": {"limit": 200}, "state": {"lazy_load_members": False}},
    "presence": {"types": []},
}
GAP_PAGE = 100
MEGOLM = "m.megolm.v1.aes-sha2"


class MatrixError(Exception):
    """A request to the homeserver failed; raised inside the adapter instead of nio's error values."""


class Host(Protocol):
    """What the adapter needs from the application (bot.app.App)."""

    async def cursor(self, network: str) -> str | None: ...

    async def set_cursor(self, network: str, value: str) -> None: ...

    async def record(self, event: Event) -> None: ...

    async def record_undecryptable(self, network: str, event_id: str, source: dict[str, Any]) -> None: ...

    async def undecrypted(self, network: str) -> list[tuple[str, dict[str, Any]]]: ...

    async def release_decrypted(self, event: Event) -> None: ...

    async def process(self, network: str) -> None: ...


def check(response: Any) -> Any:
    """nio answers errors as values: turn them into exceptions here, at the edge.

    Rate limits are retried after the time the server asks for; other refusals are permanent.
    """
    if isinstance(response, ErrorResponse):
        retry = (response.retry_after_ms or 0) / 1000
        reason = f"{type(response).__name__} {response.status_code}: {response.message}"
        if response.status_code == "M_LIMIT_EXCEEDED" or retry > 0:
            raise DeliveryError(reason, retry or 5.0)
        raise DeliveryError(reason, permanent=True)
    return response


class MatrixAdapter(EffectDispatch):
    network = NAME

    def __init__(self, settings: MatrixSettings) -> None:
        self._settings = settings
        self.info = Network(
            NAME, USER_ID, "@bob:example.org", frozenset(settings.staff), bot_user=settings.user_id
        )
        store = settings.store_path
        store.mkdir(parents=True, exist_ok=True)
        encrypted = bool(settings.pickle_key)
        config = AsyncClientConfig(
            store=SqliteStore,
            store_name="crypto.db",
            store_sync_tokens=False,
            encryption_enabled=encrypted,
            pickle_key=settings.pickle_key or "",
            max_timeouts=2,
        )
        self.client = AsyncClient(settings.homeserver, settings.user_id, store_path=str(store), config=config)
        self._stopping = asyncio.Event()
        self._rooms = CaseRoomIndex()
        # Who invited whom into a case room (seen in the timeline), so a join can say who let them in.
        self._inviters: dict[tuple[str, str], str] = {}

    @property
    def user_id(self) -> str:
        return self._settings.user_id

    # session -------------------------------------------------------------------------------------------
    async def connect(self) -> None:
        """Reuse the stored device, or log in once with the password and store it."""
        stored = load_session(self._settings.store_path)
        if stored is None and self._settings.access_token and self._settings.device_id:
            stored = StoredSession(
                self._settings.homeserver, self.user_id, self._settings.device_id, self._settings.access_token
            )
            save_session(self._settings.store_path, stored)
        if stored is None:
            if not self._settings.password:
                raise MatrixError(
                    "no stored Matrix session: set matrix.password for the first start, or run "
                    "`caseroom matrix login` first"
                )
            stored = await login(self.client, self._settings, self._settings.password)
        else:
            self.client.restore_login(stored.user_id, stored.device_id, stored.access_token)
        log.info("matrix device %s ready", stored.device_id)

    async def close(self) -> None:
        """Close the connection, never the session: the device and its keys must survive restarts."""
        self._stopping.set()
        await self.client.close()

    # sync ------------------------------------------------------------------------------------------
    async def run(self, host: Host) -> None:
        while not self._stopping.is_set():
            try:
                await self.sync_once(host, self._settings.sync_timeout_seconds * 1000)
            except (TimeoutError, DeliveryError, MatrixError, OSError) as error:
                log.warning("sync failed (%s); retrying in 5 s", type(error).__name__)
                await asyncio.sleep(5)

    async def sync_once(self, host: Host, timeout_ms: int, full_state: bool = False) -> None:
        since = await host.cursor(NAME)
        response = check(
            await self.client.sync(
                timeout=timeout_ms, sync_filter=SYNC_FILTER, since=since, full_state=full_state or None
            )
        )
        assert isinstance(response, SyncResponse)
        for room_id, info in response.rooms.join.items():
            self._rooms.read(room_id, [*info.state, *info.timeline.events])
        await self._keys()
        for event in self._invitations(response, since or response.next_batch):
            await host.record(event)
        if since is not None:
            for event in await self._events(response, since):
                await host.record(event)
            for event_id, source in await self._undecryptable(response):
                await host.record_undecryptable(NAME, event_id, source)
            await self._retry_undecrypted(host)
        else:
            log.info("first sync: earlier history is not read as commands")
        await host.set_cursor(NAME, response.next_batch)
        await host.process(NAME)
        if full_state:
            await self.guard_all_rooms()

    async def guard_all_rooms(self) -> None:
        """At start: every case room gets the guard's levels and settings (rooms created before the guard
        existed are upgraded); a closed case's room stays read-only. A room that refuses is logged and
        skipped (retried at the next start)."""
        rooms = [r for r in self._rooms.case_rooms(self.user_id) if r in self.client.rooms]
        changed = 0
        for room_id in rooms:
            try:
                changed += await self._guard(room_id, None)
            except DeliveryError as error:
                log.warning("could not guard case room %s at start: %s", room_id, error)
        log.info("room guard at start: %d case rooms checked, %d changed", len(rooms), changed)

    async def _keys(self) -> None:
        if not self.client.olm:
            return
        if self.client.should_upload_keys:
            check(await self.client.keys_upload())
        if self.client.should_query_keys:
            check(await self.client.keys_query())
        if self.client.should_claim_keys:
            check(await self.client.keys_claim(self.client.get_users_for_key_claiming()))
        await self.client.send_to_device_messages()

    def _invitations(self, response: SyncResponse, since: str) -> list[Event]:
        """Pending invitations, also on the very first sync (they are state, not history)."""
        events: list[Event] = []
        for room_id, info in response.rooms.invite.items():
            for state in info.invite_state:
                if (
                    isinstance(state, InviteMemberEvent)
                    and state.state_key == self.user_id
                    and state.membership == "invite"
                ):
                    # Element and other clients mark the invitation to a direct chat in its content.
                    direct = state.content.get("is_direct") is True
                    events.append(
                        BotInvited(NAME, f"invite:{room_id}:{since}", room_id, state.sender, direct)
                    )
        return events

    async def _events(self, response: SyncResponse, since: str) -> list[Event]:
        events: list[Event] = []
        for room_id, info in response.rooms.join.items():
            timeline = list(info.timeline.events)
            if info.timeline.limited and info.timeline.prev_batch:
                timeline = await self._fill_gap(room_id, info.timeline.prev_batch, since) + timeline
            events.extend(e for e in (self._convert(room_id, raw) for raw in timeline) if e is not None)
        for room_id, left in response.rooms.leave.items():
            # A room the bot is no longer in: only its own removal is news (someone kicked or banned it).
            for raw in left.timeline.events:
                if isinstance(raw, RoomMemberEvent) and raw.state_key == self.user_id:
                    event = self._convert(room_id, raw)
                    if event is not None:
                        events.append(event)
        return events

    async def _fill_gap(self, room_id: str, prev_batch: str, since: str) -> list[Any]:
        """The events between our last token and the limited timeline, oldest first."""
        older: list[Any] = []
        start: str | None = prev_batch
        while start:
            page = check(
                await self.client.room_messages(
                    room_id, start=start, end=since, direction=MessageDirection.back, limit=GAP_PAGE
                )
            )
            assert isinstance(page, RoomMessagesResponse)
            older.extend(page.chunk)
            if not page.chunk or page.end in (None, start):
                break
            start = page.end
        log.info("filled a gap of %d events in a limited timeline", len(older))
        return list(reversed(older))

    async def _undecryptable(self, response: SyncResponse) -> list[tuple[str, dict[str, Any]]]:
        found = []
        for info in response.rooms.join.values():
            for raw in info.timeline.events:
                if isinstance(raw, MegolmEvent):
                    log.warning("event %s cannot be decrypted yet; asking for its key", raw.event_id)
                    found.append((raw.event_id, {**raw.source, "room_id": raw.room_id}))
                    try:
                        await self.client.request_room_key(raw)
                    except Exception as error:  # a key request already sent raises; that is fine
                        log.debug("room key request not sent: %s", type(error).__name__)
        return found

    async def _retry_undecrypted(self, host: Host) -> None:
        if not self.client.olm:
            return
        for event_id, source in await host.undecrypted(NAME):
            room_id = source.get("room_id", "")
            encrypted = MegolmEvent.from_dict(source)
            if not isinstance(encrypted, MegolmEvent):
                continue
            encrypted.room_id = room_id
            try:
                decrypted = self.client.decrypt_event(encrypted)
            except Exception:
                continue
            event = self._convert(room_id, decrypted)
            if event is not None:
                log.info("event %s decrypted after its key arrived", event_id)
                await host.release_decrypted(event)

    def _protected_change(self, room_id: str, raw: Any) -> str | None:
        """The protective setting a state event of a case room changes (someone else's: the bot's own
        events are not converted), or None."""
        source = getattr(raw, "source", None)
        if not isinstance(source, dict) or source.get("state_key") != "":
            return None
        setting = PROTECTED_EVENTS.get(str(source.get("type")))
        if setting is None or not self._rooms.is_case_room(room_id, self.user_id):
            return None
        return setting

    def _is_direct(self, room_id: str) -> bool:
        room = self.client.rooms.get(room_id)
        return room is not None and room.member_count <= 2

    def _convert(self, room_id: str, raw: Any) -> Event | None:
        sender = getattr(raw, "sender", None)
        if sender == self.user_id:
            return None
        if isinstance(raw, RoomMessageText):
            return TextMessage(NAME, raw.event_id, room_id, raw.sender, raw.body, self._is_direct(room_id))
        if isinstance(raw, RoomMemberEvent) and raw.state_key == self.user_id:
            if raw.membership in ("leave", "ban") and self._rooms.is_case_room(room_id, self.user_id):
                return BotStanding(NAME, raw.event_id, room_id, False)  # kicked or banned by someone
            return None
        if isinstance(raw, RoomMemberEvent):
            if raw.membership == "invite" and raw.prev_membership != "invite":
                if self._rooms.is_case_room(room_id, self.user_id):
                    self._inviters[(room_id, raw.state_key)] = raw.sender
                    return MemberInvited(NAME, raw.event_id, room_id, raw.state_key, raw.sender)
                return None
            if raw.membership == "join" and raw.prev_membership != "join":
                by = self._inviters.pop((room_id, raw.state_key), "")
                return MemberJoined(NAME, raw.event_id, room_id, raw.state_key, by)
            if raw.membership in ("leave", "ban") and raw.prev_membership in ("join", "invite"):
                self._inviters.pop((room_id, raw.state_key), None)
                by = raw.sender if raw.sender != raw.state_key else ""
                return MemberLeft(NAME, raw.event_id, room_id, raw.state_key, by)
            return None
        setting = self._protected_change(room_id, raw)
        if setting is not None:
            return RoomSettingChanged(NAME, raw.event_id, room_id, setting, raw.sender)
        if isinstance(raw, ReactionEvent):
            return ReactionAdded(NAME, raw.event_id, room_id, raw.sender, raw.reacts_to, raw.key)
        if isinstance(raw, UnknownEvent) and raw.type == "m.reaction":
            relates = raw.source.get("content", {}).get("m.relates_to", {})
            if "event_id" in relates and "key" in relates:
                return ReactionAdded(
                    NAME, raw.event_id, room_id, raw.sender, relates["event_id"], relates["key"]
                )
        return None

    # effects ---------------------------------------------------------------------------------------
    async def deliver(self, room_id: str | None, effect: Effect, txn_id: str) -> str | None:
        try:
            return await EffectDispatch.deliver(self, room_id, effect, txn_id)
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            raise DeliveryError(f"network: {type(error).__name__}", 5.0) from error

    async def do_send_message(self, room_id: str | None, effect: SendMessage, txn_id: str) -> str | None:
        assert room_id is not None
        response = check(
            await self.client.room_send(
                room_id, "m.room.message", content(effect), tx_id=txn_id, ignore_unverified_devices=True
            )
        )
        return str(response.event_id)

    async def do_send_file(self, room_id: str | None, effect: SendFile, txn_id: str) -> str | None:
        """Upload, then send an `m.file`. In an encrypted room (or one the bot does not know) the upload is
        encrypted and the event carries it as `file` (key, iv, hashes), never as a plain `url` that anyone
        with the link could read; only a room known to be unencrypted gets a plain upload and `url`."""
        assert room_id is not None
        data = base64.b64decode(effect.data)
        room = self.client.rooms.get(room_id)
        encrypt = room is None or room.encrypted
        uploaded, keys = await self.client.upload(
            lambda _limited, _timeouts: io.BytesIO(data),
            content_type=effect.mimetype,
            filename=effect.name,
            encrypt=encrypt,
            filesize=len(data),
        )
        if not isinstance(uploaded, UploadResponse):
            check(uploaded)
            raise DeliveryError(f"upload failed: {uploaded}", 5.0)
        message: dict[str, Any] = {
            "msgtype": "m.file",
            # Matrix 1.10: with `filename` set, `body` is the caption.
            "body": effect.caption or effect.name,
            "filename": effect.name,
            "info": {"mimetype": effect.mimetype, "size": len(data)},
        }
        if encrypt:
            message["file"] = {**(keys or {}), "url": uploaded.content_uri, "mimetype": effect.mimetype}
        else:
            message["url"] = uploaded.content_uri
        response = check(
            await self.client.room_send(
                room_id, "m.room.message", message, tx_id=txn_id, ignore_unverified_devices=True
            )
        )
        return str(response.event_id)

    async def do_create_case_room(
        self, room_id: str | None, effect: CreateCaseRoom, txn_id: str
    ) -> str | None:
        state: list[dict[str, Any]] = [
            {
                "type": "m.room.history_visibility",
                "state_key": "",
                "content": {"history_visibility": "invited"},
            },
            {"type": "m.room.join_rules", "state_key": "", "content": {"join_rule": "invite"}},
            {"type": "m.room.guest_access", "state_key": "", "content": {"guest_access": "forbidden"}},
            {"type": CASE_STATE, "state_key": "", "content": {"ref": effect.case_ref, "token": txn_id}},
        ]
        if self._settings.encrypt_rooms:
            state.append({"type": "m.room.encryption", "state_key": "", "content": {"algorithm": MEGOLM}})
        # The creator keeps the power Synapse gives it (100, or "creator" in room version 12, where it
        # may not be listed); case managers get 50: kick, ban, redact, name and topic. Inviting and every
        # protective setting need the bot's level (the room guard).
        levels = creation_levels()
        response = check(
            await self.client.room_create(
                visibility=RoomVisibility.private,
                name=effect.name,
                topic=effect.topic,
                preset=RoomPreset.private_chat,
                invite=list(effect.invite),
                initial_state=state,
                power_level_override=levels,
            )
        )
        created = str(response.room_id)
        self._rooms.created(created, self.user_id, effect.case_ref, txn_id)
        await self._case_managers(created, effect)
        return created

    async def recover_case_room(self, effect: CreateCaseRoom, txn_id: str) -> str | None:
        """The room an earlier attempt of this creation made, if any (a crash or a lost answer came
        between the request and the database's commit).

        Only a room whose `m.room.create` and case state the bot itself sent, carrying this token, is
        adopted: a room someone else made, whatever its name, never is. The full-state sync at start
        has indexed the bot's rooms; rooms it joined since the last sync are read once here.
        """
        try:
            found = self._rooms.room_of(self.user_id, effect.case_ref, txn_id)
            if found is None:
                await self._read_unindexed_rooms()
                found = self._rooms.room_of(self.user_id, effect.case_ref, txn_id)
            if found is not None:
                log.info("room %s was created by an earlier attempt of this creation; adopting it", found)
                await self._case_managers(found, effect)  # the interruption may have come before this step
            return found
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            raise DeliveryError(f"network: {type(error).__name__}", 5.0) from error

    async def _read_unindexed_rooms(self) -> None:
        """Rooms the bot joined (or created) since the last sync: one state request each."""
        joined: list[str] = check(await self.client.joined_rooms()).rooms
        for room_id in joined:
            if self._rooms.knows(room_id):
                continue
            try:
                state = check(await self.client.room_get_state(room_id))
            except DeliveryError as error:
                if not error.permanent:
                    raise
                log.warning("state of room %s not readable (%s); not the case's room", room_id, error)
                continue
            self._rooms.read_sources(room_id, state.events)

    async def _case_managers(self, room_id: str, effect: CreateCaseRoom) -> None:
        if effect.case_managers:
            await self._set_power(room_id, {user: 50 for user in effect.case_managers})

    async def do_link_room(self, room_id: str | None, effect: LinkRoom, txn_id: str) -> str | None:
        return effect.room_id  # Matrix rooms are created by the bot; nothing to link

    async def do_invite(self, room_id: str | None, effect: Invite, txn_id: str) -> str | None:
        assert room_id is not None
        try:
            check(await self.client.room_invite(room_id, effect.user))
        except DeliveryError as error:
            if not error.permanent or "M_FORBIDDEN" not in str(error):  # already invited or joined: done
                raise
        if effect.as_case_manager:
            await self._set_power(room_id, {effect.user: 50})
        await self._share_keys_with(room_id, effect.user)
        return None

    async def _share_keys_with(self, room_id: str, user_id: str) -> None:
        """An invited member can read the room from the invitation on (history_visibility "invited"), so
        the messages we send before they join must be encrypted for their devices too: learn the
        invitation now rather than at the next sync, fetch their device keys, and start a new session."""
        room = self.client.rooms.get(room_id)
        if room is None or not room.encrypted or self.client.olm is None:
            return
        room.add_member(user_id, None, None, invited=True)
        self.client.olm.users_for_key_query.add(user_id)
        check(await self.client.keys_query())
        self.client.invalidate_outbound_session(room_id)

    async def _set_power(self, room_id: str, users: dict[str, int]) -> None:
        current = check(await self.client.room_get_state_event(room_id, "m.room.power_levels"))
        levels = dict(current.content)
        levels["users"] = {**levels.get("users", {}), **users}
        check(await self.client.room_put_state(room_id, "m.room.power_levels", levels))

    async def do_send_join_link(self, room_id: str | None, effect: SendJoinLink, txn_id: str) -> str | None:
        raise DeliveryError("Matrix invites by user id; join links are not used", permanent=True)

    async def do_answer_join(self, room_id: str | None, effect: AnswerJoin, txn_id: str) -> str | None:
        raise DeliveryError("Matrix has no join requests to answer", permanent=True)

    async def do_kick(self, room_id: str | None, effect: Kick, txn_id: str) -> str | None:
        """Kick a member, or withdraw a pending invitation (the same request on Matrix). Someone no longer
        in the room or invited to it is done already (a removal repeated after a crash, or by the guard)."""
        assert room_id is not None
        try:
            check(await self.client.room_kick(room_id, effect.user, effect.reason or None))
        except DeliveryError as error:
            if not error.permanent or await self._membership(room_id, effect.user) in ("join", "invite"):
                raise
            log.info("kick in room %s: the user is not there any more", room_id)
        return None

    async def _membership(self, room_id: str, user: str) -> str:
        response = await self.client.room_get_state_event(room_id, "m.room.member", user)
        if isinstance(response, ErrorResponse):
            return "leave"
        return str(response.content.get("membership", "leave"))

    async def do_guard_room(self, room_id: str | None, effect: GuardRoom, txn_id: str) -> str | None:
        assert room_id is not None
        await self._guard(room_id, effect.read_only)
        return None

    async def _guard(self, room_id: str, read_only: bool | None) -> int:
        """Put the room's protective settings as the guard keeps them, from the room's current state: only
        what differs is sent. `read_only` None keeps the room as it is (writable, or a closed case's).
        Returns how many settings were changed."""
        levels = dict(check(await self.client.room_get_state_event(room_id, "m.room.power_levels")).content)
        closed = is_read_only(levels) if read_only is None else read_only
        wanted = guarded_levels(levels, closed, self.user_id)
        changed = 0
        for kind, expected in (
            ("m.room.join_rules", JOIN_RULES),
            ("m.room.history_visibility", HISTORY),
            ("m.room.guest_access", GUESTS),
            (CASE_STATE, self._rooms.marker(room_id)),
        ):
            if expected is None:
                continue
            response = await self.client.room_get_state_event(room_id, kind)
            current = {} if isinstance(response, ErrorResponse) else dict(response.content)
            if any(current.get(key) != value for key, value in expected.items()):
                check(await self.client.room_put_state(room_id, kind, dict(expected)))
                changed += 1
        if wanted != levels:
            try:
                check(await self.client.room_put_state(room_id, "m.room.power_levels", wanted))
            except DeliveryError as error:
                if not error.permanent:
                    raise
                # An older room version: someone else at the bot's level cannot be lowered by it.
                wanted = guarded_levels(levels, closed, self.user_id, lower_peers=False)
                check(await self.client.room_put_state(room_id, "m.room.power_levels", wanted))
            changed += 1
        if changed:
            log.info("room guard: %d settings of room %s put back", changed, room_id)
        return changed

    async def do_join_room(self, room_id: str | None, effect: JoinRoom, txn_id: str) -> str | None:
        assert room_id is not None
        check(await self.client.join(room_id))
        return None

    async def do_leave_room(self, room_id: str | None, effect: LeaveRoom, txn_id: str) -> str | None:
        assert room_id is not None
        check(await self.client.room_leave(room_id))
        return None

    async def do_erase_room(self, room_id: str | None, effect: EraseRoom, txn_id: str) -> str | None:
        """The room of an erased case: redact the bot's messages (and the room name, which holds the case's
        label), kick everyone, leave, forget. Each step may be repeated after a crash or a rate limit without
        failing on what was done: a redaction's transaction id is fixed, people already gone are skipped,
        and a room the bot is no longer in is only forgotten."""
        assert room_id is not None
        state = await self._erasable_state(room_id)
        if state is not None:
            names = [
                str(e["event_id"])
                for e in state
                if e.get("type") == "m.room.name" and e.get("sender") == self.user_id and "event_id" in e
            ]
            redacted = failed = 0
            for index, event_id in enumerate([*effect.redact, *names]):
                tx_id = f"{txn_id}-redact-{index}"
                if await self._erasure_step(partial(self.client.room_redact, room_id, event_id, tx_id=tx_id)):
                    redacted += 1
                else:
                    failed += 1
            present = {
                str(e.get("state_key"))
                for e in state
                if e.get("type") == "m.room.member"
                and e.get("content", {}).get("membership") in ("join", "invite")
                and e.get("state_key") != self.user_id
            }
            removed = 0
            for user in sorted(present):
                removed += await self._erasure_step(partial(self.client.room_kick, room_id, user))
            log.info(
                "erased room %s: %d events redacted (%d refused), %d people removed",
                room_id,
                redacted,
                failed,
                removed,
            )
            await self._erasure_step(partial(self.client.room_leave, room_id))
        await self._erasure_step(partial(self.client.room_forget, room_id))
        return None

    async def _erasable_state(self, room_id: str) -> list[dict[str, Any]] | None:
        """The room's state, or None when the bot is not in the room any more (a retry after leaving)."""
        response = await self.client.room_get_state(room_id)
        if isinstance(response, ErrorResponse):
            try:
                check(response)
            except DeliveryError as error:
                if not error.permanent:
                    raise
                return None
        return list(response.events)

    async def _erasure_step(self, request: Callable[[], Awaitable[Any]], tries: int = 5) -> bool:
        """One request of an erasure: a rate limit is waited out here (the steps before it are not
        repeated); a refusal (already done, gone) is logged and the erasure goes on. True when done."""
        for _attempt in range(tries):
            try:
                check(await request())
                return True
            except DeliveryError as error:
                if error.permanent:
                    log.info("erasure step refused (%s); going on", error)
                    return False
                if error.retry_after > 60:
                    raise
                await asyncio.sleep(error.retry_after)
        raise DeliveryError("rate limited during an erasure", 5.0)


async def login(client: AsyncClient, settings: MatrixSettings, password: str) -> StoredSession:
    """The first and only login of the bot's device."""
    response = await client.login(password=password, device_name="caseroom")
    if not isinstance(response, LoginResponse):
        raise MatrixError(f"login failed: {getattr(response, 'message', response)}")
    stored = StoredSession(settings.homeserver, response.user_id, response.device_id, response.access_token)
    save_session(settings.store_path, stored)
    return stored
