"""The composition root: settings -> database -> core -> scheduler -> adapters. Nothing here is global."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.commands.catalog import build_registry
from bot.core.clock import Clock, SystemClock
from bot.core.context import Network, Services
from bot.core.dispatcher import Dispatcher
from bot.delivery.outbox import OutboxSender, Transport
from bot.domain.events import Event
from bot.i18n import Catalogs
from bot.scheduling.alarm import Alarm
from bot.settings import Settings
from bot.storage.db import create_engine, ensure_at_head, session_factory
from bot.storage.repo import Repo
from conversations import all_dialogs

log = logging.getLogger(__name__)


async def flush_all(senders: dict[str, OutboxSender]) -> None:
    for sender in senders.values():
        await sender.flush()


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    services: Services
    dispatcher: Dispatcher
    alarm: Alarm
    senders: dict[str, OutboxSender] = field(default_factory=dict)

    @classmethod
    async def build(cls, settings: Settings, clock: Clock | None = None, poll_seconds: float = 60.0) -> App:
        engine = create_engine(settings.database.url)
        try:
            await ensure_at_head(engine)
        except Exception:
            await engine.dispose()
            raise
        sessions = session_factory(engine)
        services = Services(Catalogs(), clock or SystemClock(), settings.bot, {}, all_dialogs())
        dispatcher = Dispatcher(sessions, services, build_registry())
        senders: dict[str, OutboxSender] = {}

        async def flush() -> None:
            await flush_all(senders)

        alarm = Alarm(sessions, services, flush, poll_seconds)
        return cls(settings, engine, sessions, services, dispatcher, alarm, senders)

    def attach(self, network: Network, transport: Transport) -> None:
        self.services.networks[network.name] = network
        self.senders[network.name] = OutboxSender(self.sessions, transport, self.services.clock)

    async def start(self) -> None:
        """Handle what was recorded but not handled before a stop, deliver what was not sent, ring once."""
        for network in self.senders:
            await self.dispatcher.process_pending(network)
        await self.flush()
        await self.alarm.start()

    async def handle(self, event: Event) -> None:
        await self.dispatcher.receive(event)
        await self.process(event.network)

    async def flush(self) -> None:
        await flush_all(self.senders)

    async def process(self, network: str) -> None:
        """Handle what a network adapter recorded, deliver the answers, re-arm the alarm."""
        await self.dispatcher.process_pending(network)
        await self.flush()
        await self.alarm.rearm()

    async def record(self, event: Event) -> None:
        await self.dispatcher.receive(event)

    async def record_undecryptable(self, network: str, event_id: str, source: dict[str, Any]) -> None:
        await self.dispatcher.receive_undecryptable(network, event_id, source)

    async def undecrypted(self, network: str) -> list[tuple[str, dict[str, Any]]]:
        return await self.dispatcher.undecrypted(network)

    async def release_decrypted(self, event: Event) -> None:
        await self.dispatcher.decrypted(event)

    async def cursor(self, network: str) -> str | None:
        async with self.sessions.begin() as session:
            return await Repo(session).cursor(network)

    async def set_cursor(self, network: str, value: str) -> None:
        async with self.sessions.begin() as session:
            await Repo(session).set_cursor(network, value, self.services.clock.now())

    async def close(self) -> None:
        self.alarm.stop()
        await self.engine.dispose()
