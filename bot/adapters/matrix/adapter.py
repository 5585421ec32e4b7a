"""Matrix: nio's responses become neutral events; effects become Matrix requests.

The bot keeps one device forever (session.json under store_path) and never logs out, so its
encryption keys stay valid and a resend with the same transaction id cannot post twice. The sync
token is stored in the database, and moved only after every event it covers is in the inbox. A
timeline that comes back `limited` is completed from /messages before the token moves.
"""

from __future__ import annotations

import asyncio
import logging
import re
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
)
from nio.store import SqliteStore

from bot.adapters.base import EffectDispatch
from bot.adapters.matrix.render import content
from bot.adapters.matrix.rooms import CASE_STATE, CaseRoomIndex
from bot.adapters.matrix.session import StoredSession, load_session, save_session
from bot.core.context import Network
from bot.delivery.outbox import DeliveryError
from bot.domain.events import (
    AnswerJoin,
    BotInvited,
    CreateCaseRoom,
    Effect,
    Event,
    Invite,
    JoinRoom,
    Kick,
    LeaveRoom,
    LinkRoom,
    MemberJoined,
    MemberLeft,
    ReactionAdded,
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
        self.info = Network(NAME, USER_ID, "@bob:example.org", frozenset(settings.staff))
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

    def _is_direct(self, room_id: str) -> bool:
        room = self.client.rooms.get(room_id)
        return room is not None and room.member_count <= 2

    def _convert(self, room_id: str, raw: Any) -> Event | None:
        sender = getattr(raw, "sender", None)
        if sender == self.user_id:
            return None
        if isinstance(raw, RoomMessageText):
            return TextMessage(NAME, raw.event_id, room_id, raw.sender, raw.body, self._is_direct(room_id))
        if isinstance(raw, RoomMemberEvent) and raw.state_key != self.user_id:
            if raw.membership == "join" and raw.prev_membership != "join":
                return MemberJoined(NAME, raw.event_id, room_id, raw.state_key)
            if raw.membership in ("leave", "ban") and raw.prev_membership in ("join", "invite"):
                return MemberLeft(NAME, raw.event_id, room_id, raw.state_key)
            return None
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
        # may not be listed); case managers get 50, enough to invite and kick.
        levels = {
            "users_default": 0,
            "events_default": 0,
            "state_default": 50,
            "invite": 50,
            "kick": 50,
            "ban": 50,
            "redact": 50,
        }
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
        assert room_id is not None
        check(await self.client.room_kick(room_id, effect.user, effect.reason or None))
        return None

    async def do_join_room(self, room_id: str | None, effect: JoinRoom, txn_id: str) -> str | None:
        assert room_id is not None
        check(await self.client.join(room_id))
        return None

    async def do_leave_room(self, room_id: str | None, effect: LeaveRoom, txn_id: str) -> str | None:
        assert room_id is not None
        check(await self.client.room_leave(room_id))
        return None


async def login(client: AsyncClient, settings: MatrixSettings, password: str) -> StoredSession:
    """The first and only login of the bot's device."""
    response = await client.login(password=password, device_name="caseroom")
    if not isinstance(response, LoginResponse):
        raise MatrixError(f"login failed: {getattr(response, 'message', response)}")
    stored = StoredSession(settings.homeserver, response.user_id, response.device_id, response.access_token)
    save_session(settings.store_path, stored)
    return stored
