"""People on Matrix for the end-to-end tests: real nio clients with end-to-end encryption, like Element."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    MegolmEvent,
    RoomCreateResponse,
    RoomMessageNotice,
    RoomMessageText,
    RoomSendResponse,
)


@dataclass
class Seen:
    room_id: str
    event_id: str
    sender: str
    body: str
    content: dict[str, Any]
    encrypted: bool


@dataclass
class Person:
    """A member of a care team with a Matrix client that syncs in the background and reads everything."""

    name: str
    user_id: str
    client: AsyncClient
    seen: list[Seen] = field(default_factory=list)
    undecryptable: list[tuple[str, str]] = field(default_factory=list)  # (sender, event id)
    invites: dict[str, str] = field(default_factory=dict)  # room id -> inviter
    _task: asyncio.Task[None] | None = None

    @classmethod
    async def login(cls, homeserver: str, name: str, password: str, store: Path) -> Person:
        user_id = f"@{name}:localhost"
        config = AsyncClientConfig(
            encryption_enabled=True, store_sync_tokens=False, pickle_key="test-" + name
        )
        client = AsyncClient(homeserver, user_id, store_path=str(store), config=config)
        response = await client.login(password=password, device_name=f"{name}-phone")
        assert hasattr(response, "access_token"), response
        person = cls(name, user_id, client)
        await person._sync(0)
        person._task = asyncio.create_task(person._forever())
        return person

    async def _sync(self, wait_ms: int) -> None:
        response = await self.client.sync(timeout=wait_ms, sync_filter={"room": {"timeline": {"limit": 500}}})
        if not hasattr(response, "rooms"):
            await asyncio.sleep(0.5)
            return
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        if self.client.should_query_keys:
            await self.client.keys_query()
        if self.client.should_claim_keys:
            await self.client.keys_claim(self.client.get_users_for_key_claiming())
        await self.client.send_to_device_messages()
        for room_id, info in response.rooms.invite.items():
            for event in info.invite_state:
                if isinstance(event, InviteMemberEvent) and event.state_key == self.user_id:
                    self.invites[room_id] = event.sender
        for room_id, info in response.rooms.join.items():
            for event in info.timeline.events:
                if isinstance(event, RoomMessageNotice | RoomMessageText):
                    self.seen.append(
                        Seen(
                            room_id,
                            event.event_id,
                            event.sender,
                            event.body,
                            event.source.get("content", {}),
                            bool(event.decrypted),
                        )
                    )
                elif isinstance(event, MegolmEvent):
                    self.undecryptable.append((event.sender, event.event_id))

    async def _forever(self) -> None:
        while True:
            try:
                await self._sync(1000)
            except asyncio.CancelledError:
                raise
            except Exception:  # a failed sync is retried, as a client app would
                await asyncio.sleep(0.5)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.close()

    async def direct_chat(self, bot: str) -> str:
        """A direct chat with the bot, invited with `is_direct` as Element does; the bot joins only those."""
        response = await self.client.room_create(
            is_direct=True,
            invite=[bot],
            initial_state=[
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            ],
        )
        assert isinstance(response, RoomCreateResponse), response
        await self.until(lambda: response.room_id in self.client.rooms, "the direct chat to sync")
        return str(response.room_id)

    async def chat_with(self, bot: str) -> str:
        """A direct chat with the bot, once the bot has joined it."""
        dm = await self.direct_chat(bot)
        await self.until(
            lambda: bot in self.client.rooms[dm].users and bot not in self.client.rooms[dm].invited_users,
            "the bot to join the direct chat",
            within=60,
        )
        return dm

    async def join_invite(self, room_id: str) -> None:
        await self.until(lambda: room_id in self.invites, f"an invitation to {room_id}")
        response = await self.client.join(room_id)
        assert hasattr(response, "room_id"), response
        await self.until(lambda: room_id in self.client.rooms, "the room to sync")

    async def say(self, room_id: str, text: str) -> str:
        response = await self.client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": text}, ignore_unverified_devices=True
        )
        assert isinstance(response, RoomSendResponse), response
        return str(response.event_id)

    async def react(self, room_id: str, event_id: str, key: str) -> None:
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
        response = await self.client.room_send(room_id, "m.reaction", content, ignore_unverified_devices=True)
        assert isinstance(response, RoomSendResponse), response

    def from_bot(self, bot: str, room_id: str | None = None) -> list[Seen]:
        return [s for s in self.seen if s.sender == bot and (room_id is None or s.room_id == room_id)]

    async def until(self, condition: Callable[[], bool], what: str, within: float = 30) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if condition():
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name}: timed out waiting for {what}")

    async def answer(self, bot: str, room_id: str, contains: str, after: int = 0, within: float = 30) -> Seen:
        """The first message of the bot in the room, from index `after` of what the bot said there."""

        def match() -> Seen | None:
            return next((s for s in self.from_bot(bot, room_id)[after:] if contains in s.body), None)

        await self.until(lambda: match() is not None, f"the bot to say “{contains}”", within)
        found = match()
        assert found is not None
        return found
