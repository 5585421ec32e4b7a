"""An alarm clock on APScheduler 3: one job at the earliest due reminder, and a slow poll as a safety net.

After a ring it asks the database for the earliest pending reminder; in between, the core tells it of
each reminder it schedules (`wake_at`), so handling a command costs no extra query.

Nothing about a reminder lives in the scheduler's memory, so nothing is lost when the process dies: at
start the alarm rings once and every reminder that fell due meanwhile is sent, marked late.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core import reminders
from bot.core.context import Services
from bot.storage.repo import Repo

log = logging.getLogger(__name__)

RETRY_AFTER = timedelta(seconds=5)


class Alarm:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        services: Services,
        after_firing: Callable[[], Awaitable[None]],
        poll_seconds: float = 60.0,
    ) -> None:
        self._sessions = sessions
        self._services = services
        self._after_firing = after_firing
        self._poll_seconds = poll_seconds
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._lock = asyncio.Lock()
        self._armed: datetime | None = None
        self._rings: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._scheduler.add_job(
            self._wake, IntervalTrigger(seconds=self._poll_seconds), id="poll", coalesce=True
        )
        self._scheduler.start()
        await self.ring()

    async def stop(self) -> None:
        """Stop the clock; a ring under way is cancelled (its transaction rolls back, nothing is lost)."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        for task in self._rings:
            task.cancel()
        await asyncio.gather(*self._rings, return_exceptions=True)

    async def _wake(self) -> None:
        """The scheduler's job: start a ring and return at once. A job still running when its next run
        comes is skipped by APScheduler (max_instances), and a ring re-sets the alarm before it ends, often
        for a time already reached: run inline, the reminders due next would wait for the poll."""
        task = asyncio.get_running_loop().create_task(self._ring_or_retry())
        self._rings.add(task)
        task.add_done_callback(self._rings.discard)

    async def _ring_or_retry(self) -> None:
        try:
            await self.ring()
        except Exception as exc:
            # The database is away or locked: try again soon rather than at the next poll.
            log.error(
                "ringing failed with %s; trying again in %.0f s\n%s",
                type(exc).__name__,
                RETRY_AFTER.total_seconds(),
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            self._set(self._services.clock.now() + RETRY_AFTER)

    async def ring(self) -> int:
        """Fire whatever is due, hand it to the senders, and set the alarm for the next one."""
        async with self._lock:
            total = 0
            while True:
                async with self._sessions.begin() as session:
                    fired = await reminders.fire_due(
                        Repo(session), self._services, self._services.clock.now()
                    )
                total += fired
                if fired < 500:
                    break
            if total:
                log.info("fired %d reminders", total)
                await self._after_firing()
        await self.rearm()
        return total

    async def rearm(self) -> None:
        # Forget the old time first: a reminder scheduled while we read (too late for this read to see it)
        # calls wake_at meanwhile, and the earlier of the two times wins.
        self._armed = None
        async with self._sessions.begin() as session:
            earliest = await Repo(session).earliest_due()
        if earliest is not None:
            self.wake_at(earliest)

    def wake_at(self, when: datetime) -> None:
        """A reminder was scheduled for `when`: ring then, unless the alarm is already set earlier."""
        if self._armed is None or when < self._armed:
            self._set(when)

    def _set(self, when: datetime) -> None:
        if not self._scheduler.running:
            return
        self._armed = when
        self._scheduler.add_job(
            self._wake,
            DateTrigger(run_date=max(when, self._services.clock.now())),
            id="wake",
            replace_existing=True,
            misfire_grace_time=None,
        )
