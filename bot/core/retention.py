"""Retention: message bodies do not live forever, and closed cases go when their time has come.

The payloads of handled inbound events and of sent messages are replaced by an empty object once they are
older than `[privacy] keep_messages_days`; the rows stay, because their ids keep duplicates out (an event
id seen again is not handled twice) and map a reaction or a button press to its reminder. Expired dialogs
are deleted. Closed cases older than `[privacy] erase_closed_after_days` are erased, each in its own
transaction (bot.core.erasure).

Each run empties only what became old since the run before (a mark per table, kept with the network
cursors), in batches of one short transaction each, through the indexes on the times it compares: a run
costs what it purges, not the size of the tables.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Text, cast, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from bot.core.erasure import NotErasable, erase_case
from bot.domain.model import CaseStatus
from bot.settings import PrivacySettings
from bot.storage.models import Case, Dialog, InboxRow, OutboxRow
from bot.storage.repo import Repo

log = logging.getLogger(__name__)

EMPTY: dict[str, object] = {}
BATCH = 1000
# Each run goes back this far before the previous run's mark: a row handled by a slow transaction that
# committed after the mark had moved on is still emptied.
OVERLAP = timedelta(days=1)
INBOX_MARK, OUTBOX_MARK = "purge:inbox", "purge:outbox"


@dataclass
class Purged:
    """What a run did, in counts (and the references of the cases it erased)."""

    inbox: int = 0
    outbox: int = 0
    dialogs: int = 0
    erased: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.inbox} inbound and {self.outbox} outbound message bodies emptied, {self.dialogs} "
            f"expired dialogs deleted, {len(self.erased)} closed cases erased"
        )


async def purge(
    sessions: async_sessionmaker[AsyncSession],
    settings: PrivacySettings,
    now: datetime,
    protected: Collection[str] = (),
    batch: int = BATCH,
) -> Purged:
    """One run of retention (at start and hourly in the active process, or `caseroom purge`)."""
    cutoff = now - timedelta(days=settings.keep_messages_days)
    done = Purged()
    done.inbox = await _empty_inbox(sessions, cutoff, now, batch)
    done.outbox = await _empty_outbox(sessions, cutoff, now, batch)
    async with sessions.begin() as session:
        result = await session.execute(delete(Dialog).where(Dialog.expires_at <= now))
        done.dialogs = int(getattr(result, "rowcount", 0) or 0)
    if settings.erase_closed_after_days is not None:
        closed_before = now - timedelta(days=settings.erase_closed_after_days)
        done.erased = await _erase_closed(sessions, closed_before, now, protected)
    if done.inbox or done.outbox or done.dialogs or done.erased:
        log.info("retention: %s", done)
    return done


async def _mark(sessions: async_sessionmaker[AsyncSession], name: str) -> datetime | None:
    async with sessions.begin() as session:
        value = await Repo(session).cursor(name)
    return datetime.fromisoformat(value) - OVERLAP if value else None


async def _set_mark(
    sessions: async_sessionmaker[AsyncSession], name: str, cutoff: datetime, now: datetime
) -> None:
    async with sessions.begin() as session:
        await Repo(session).set_cursor(name, cutoff.isoformat(), now)


async def _in_batches(
    sessions: async_sessionmaker[AsyncSession],
    model: type[InboxRow] | type[OutboxRow],
    where: list[ColumnElement[bool]],
    batch: int,
) -> int:
    """Empty the payloads of the rows `where` selects, `batch` rows (one short transaction) at a time, in
    the order of their ids: each batch starts where the one before stopped."""
    total, after = 0, 0
    while True:
        async with sessions.begin() as session:
            ids = list(
                await session.scalars(
                    select(model.id).where(*where, model.id > after).order_by(model.id).limit(batch)
                )
            )
            if ids:
                await session.execute(update(model).where(model.id.in_(ids)).values(payload=EMPTY))
        total += len(ids)
        if len(ids) < batch:
            return total
        after = ids[-1]


async def _empty_inbox(
    sessions: async_sessionmaker[AsyncSession], cutoff: datetime, now: datetime, batch: int
) -> int:
    since = await _mark(sessions, INBOX_MARK)
    handled = [InboxRow.status == "handled", InboxRow.handled_at < cutoff]
    if since is not None:
        handled.append(InboxRow.handled_at >= since)
    total = await _in_batches(sessions, InboxRow, handled, batch)
    # Events given up on have no handling time: they are few, and found by their status.
    quarantined = [
        InboxRow.status == "quarantined",
        InboxRow.received_at < cutoff,
        cast(InboxRow.payload, Text) != "{}",
    ]
    total += await _in_batches(sessions, InboxRow, quarantined, batch)
    await _set_mark(sessions, INBOX_MARK, cutoff, now)
    return total


async def _empty_outbox(
    sessions: async_sessionmaker[AsyncSession], cutoff: datetime, now: datetime, batch: int
) -> int:
    since = await _mark(sessions, OUTBOX_MARK)
    sent = [OutboxRow.sent_at.is_not(None), OutboxRow.sent_at < cutoff]
    if since is not None:
        sent.append(OutboxRow.sent_at >= since)
    total = await _in_batches(sessions, OutboxRow, sent, batch)
    await _set_mark(sessions, OUTBOX_MARK, cutoff, now)
    return total


async def _erase_closed(
    sessions: async_sessionmaker[AsyncSession],
    closed_before: datetime,
    now: datetime,
    protected: Collection[str],
) -> list[str]:
    async with sessions.begin() as session:
        refs = list(
            await session.scalars(
                select(Case.ref)
                .where(Case.status == CaseStatus.CLOSED, Case.closed_at < closed_before)
                .order_by(Case.id)
            )
        )
    erased = []
    for ref in refs:
        try:
            async with sessions.begin() as session:
                await erase_case(Repo(session), ref, now, protected)
        except NotErasable as error:  # reopened or erased meanwhile (by another run or by hand)
            log.info("retention: case %s not erased (%s)", ref, error)
            continue
        erased.append(ref)
    return erased
