"""The composition root: settings -> database -> core -> scheduler -> adapters. Nothing here is global."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import failpoints
from bot.commands.catalog import build_registry
from bot.core import retention
from bot.core.clock import Clock, SystemClock
from bot.core.context import Network, Services
from bot.core.dispatcher import Dispatcher
from bot.core.erasure import protected_handles
from bot.delivery.outbox import OutboxSender, Transport
from bot.domain.events import Event
from bot.i18n import Catalogs
from bot.scheduling.alarm import Alarm
from bot.settings import Settings
from bot.storage.db import check_schema, open_database, prepare_schema, session_factory
from bot.storage.leadership import Leadership
from bot.storage.repo import Repo
from conversations import all_dialogs

log = logging.getLogger(__name__)

# Retention runs at start and then this often (seconds).
RETENTION_SECONDS = 3600.0


async def flush_all(senders: dict[str, OutboxSender]) -> float | None:
    """Flush every network; the soonest retry any of them asks for, or None."""
    waits = [wait for sender in senders.values() if (wait := await sender.flush()) is not None]
    return min(waits) if waits else None


class Flusher:
    """Flushes every network's outbox; when one asks to wait (rate limit, outage), tries again then."""

    def __init__(self, senders: dict[str, OutboxSender]) -> None:
        self.senders = senders
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._flushes: set[asyncio.Task[None]] = set()

    async def __call__(self) -> None:
        """Flush, in a task of its own that the caller's cancellation (a stop, mid-poll or mid-ring) does
        not interrupt: a send the network accepted is always recorded as sent. `drain` waits for it."""
        task = asyncio.get_running_loop().create_task(self._flush())
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)
        await asyncio.shield(task)

    async def drain(self, within: float = 10.0) -> None:
        """Let the flushes under way finish (a stop waits for them before closing the connections)."""
        self.stop()
        if self._flushes:
            await asyncio.wait(set(self._flushes), timeout=within)

    async def _flush(self) -> None:
        wait = await flush_all(self.senders)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if wait is not None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(wait, self._again)

    def _again(self) -> None:
        task = asyncio.get_running_loop().create_task(self())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    services: Services
    dispatcher: Dispatcher
    alarm: Alarm
    flusher: Flusher
    leadership: Leadership
    _watch: asyncio.Task[None] | None = None
    _retention: asyncio.Task[None] | None = None

    @classmethod
    async def build(cls, settings: Settings, clock: Clock | None = None, poll_seconds: float = 60.0) -> App:
        engine = await open_database(settings.database.url)
        leadership = Leadership(engine)
        try:
            await check_schema(engine)  # refuse at once what preparing cannot fix, before standing by
            await leadership.acquire()
            await prepare_schema(engine)  # under the lock: one process prepares an empty database
        except BaseException:
            await leadership.release()
            await engine.dispose()
            raise
        sessions = session_factory(engine)
        services = Services(Catalogs(), clock or SystemClock(), settings.bot, {}, all_dialogs())
        dispatcher = Dispatcher(sessions, services, build_registry())
        senders: dict[str, OutboxSender] = {}

        flusher = Flusher(senders)
        alarm = Alarm(sessions, services, flusher, poll_seconds)
        services.wake_at = alarm.wake_at
        return cls(settings, engine, sessions, services, dispatcher, alarm, flusher, leadership)

    def attach(self, network: Network, transport: Transport) -> None:
        self.services.networks[network.name] = network
        self.senders[network.name] = OutboxSender(
            self.sessions, transport, self.services.clock, failpoints.from_environment()
        )

    async def start(self) -> None:
        """Run retention once, handle what was recorded but not handled before a stop, deliver what was not
        sent, ring once; then retention runs hourly."""
        await self._purge_logged(RETENTION_SECONDS)  # before sending: it never competes with a send
        for network in self.senders:
            await self.dispatcher.process_pending(network)
        await self.flush()
        await self.alarm.start()
        self._watch = asyncio.create_task(self._watch_leadership())
        self._retention = asyncio.create_task(self._purge_every(RETENTION_SECONDS))

    async def purge(self) -> retention.Purged:
        """One run of retention (bot.core.retention); what erased cases asked of the networks is sent."""
        done = await retention.purge(
            self.sessions,
            self.settings.privacy,
            self.services.clock.now(),
            protected_handles(self.settings),
        )
        if done.erased:
            await self.flush()
        return done

    async def _purge_every(self, seconds: float) -> None:
        """Retention every `seconds` after the run at start: only here, in the active process (a
        standing-by process has no App yet)."""
        while True:
            await asyncio.sleep(seconds)
            await self._purge_logged(seconds)

    async def _purge_logged(self, seconds: float) -> None:
        try:
            await self.purge()
        except Exception as exc:  # the database away for a moment: the next run catches up
            log.error("retention failed with %s; trying again in %.0f s", type(exc).__name__, seconds)

    async def _watch_leadership(self, every: float = 10.0) -> None:
        """If the connection holding the lock is lost, another process may take over: stop at once."""
        while True:
            await asyncio.sleep(every)
            if not await self.leadership.still_held():
                log.critical("lost the database lock that makes this process the active one; stopping")
                os.kill(os.getpid(), signal.SIGTERM)
                return

    async def handle(self, event: Event) -> None:
        await self.dispatcher.receive(event)
        await self.process(event.network)

    @property
    def senders(self) -> dict[str, OutboxSender]:
        return self.flusher.senders

    async def flush(self) -> None:
        await self.flusher()

    async def process(self, network: str) -> None:
        """Handle what a network adapter recorded and deliver the answers (new reminders set the alarm
        themselves, through `Services.wake_at`)."""
        await self.dispatcher.process_pending(network)
        await self.flush()

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

    async def case_rooms(self, network: str) -> list[tuple[str, bool]]:
        """Each case room of the network and whether its case is closed: the adapters guard them at start."""
        async with self.sessions.begin() as session:
            return await Repo(session).case_rooms(network)

    async def drain(self) -> None:
        """Stop ringing and let the sends under way finish: call it before closing the adapters."""
        await self.alarm.stop()
        await self.flusher.drain()

    async def close(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
        if self._retention is not None:
            self._retention.cancel()
            await asyncio.gather(self._retention, return_exceptions=True)
        await self.drain()
        await self.leadership.release()
        await self.engine.dispose()
