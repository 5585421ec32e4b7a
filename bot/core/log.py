"""The action log: entries are appended, numbered per case, and never changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.model import EntryKind
from bot.storage.models import ActionEntry
from bot.storage.repo import Repo


async def log_entry(
    repo: Repo,
    case_id: int,
    author_id: int,
    now: datetime,
    kind: EntryKind,
    *,
    text: str = "",
    item_id: int | None = None,
    detail: str | None = None,
    change: dict[str, Any] | None = None,
    corrects_id: int | None = None,
) -> ActionEntry:
    entry = ActionEntry(
        case_id=case_id,
        number=await repo.next_number(ActionEntry, case_id),
        item_id=item_id,
        author_id=author_id,
        kind=kind,
        detail=detail,
        text=text,
        change=change,
        corrects_id=corrects_id,
        created_at=now,
    )
    await repo.add(entry)
    return entry
