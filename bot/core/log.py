"""The action log: entries are appended, numbered per case, and never changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.render import describe_interval, status_name
from bot.domain.model import EntryKind, Interval
from bot.i18n import _, fmt_datetime
from bot.storage.models import ActionEntry
from bot.storage.repo import Repo

# The detail of the status entry that records a case reopened (`!case reopen`).
REOPENED = "reopened"


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


def change_value(field: str | None, value: object) -> str:
    """One side of a logged edit (`changed due: … → …`), in words."""
    if value is None:
        return _("none")
    if field == "due" and isinstance(value, str):
        return fmt_datetime(datetime.fromisoformat(value))
    if field == "every" and isinstance(value, str):
        return describe_interval(Interval.decode(value))
    return str(value)


def entry_text(entry: ActionEntry, numbers: dict[int, int]) -> str:
    """An action log entry in words, as !history and the exports show it; `numbers` maps entry ids to their
    numbers in the case (for corrections)."""
    if entry.kind == EntryKind.STATUS and entry.item_id is None and entry.detail == REOPENED:
        return _("case reopened: {reason}", reason=entry.text)
    if entry.kind == EntryKind.STATUS and entry.detail:
        what = _("set to {status}", status=status_name(entry.detail))
        return f"{what}: {entry.text}" if entry.text else what
    if entry.kind == EntryKind.ACK:
        return _("acknowledged reminder {n}", n=entry.detail)
    if entry.kind == EntryKind.REVIEW:
        what = _("review done")
        return f"{what}: {entry.text}" if entry.text else what
    if entry.kind == EntryKind.EDIT:
        change = entry.change or {}
        return _(
            "changed {field}: {before} → {after}",
            field=entry.detail,
            before=change_value(entry.detail, change.get("before")),
            after=change_value(entry.detail, change.get("after")),
        )
    if entry.kind == EntryKind.CORRECTION:
        return _(
            "correction of entry {n}: {text}", n=numbers.get(entry.corrects_id or 0, "?"), text=entry.text
        )
    return entry.text
