"""Vocabulary of integrated care, as enums and value objects shared by every layer."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import time


class Role(enum.StrEnum):
    CASE_MANAGER = "case-manager"
    PROFESSIONAL = "professional"
    PERSON = "person"
    CARER = "carer"
    OBSERVER = "observer"

    @property
    def plural(self) -> str:
        """The word used to address everyone holding the role (`!remind carers ...`)."""
        return f"{self.value}s"

    @classmethod
    def from_plural(cls, word: str) -> Role | None:
        for role in cls:
            if word == role.plural:
                return role
        return None


class NeedDomain(enum.StrEnum):
    """The dimensions of the standardized multidimensional assessment."""

    HEALTH = "health"
    AUTONOMY = "autonomy"
    MENTAL_HEALTH = "mental-health"
    SOCIAL = "social"
    HOUSING = "housing"
    FINANCES = "finances"
    WORK_EDUCATION = "work-education"


class ItemStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in-progress"
    BLOCKED = "blocked"
    DONE = "done"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        return self in (ItemStatus.PLANNED, ItemStatus.IN_PROGRESS, ItemStatus.BLOCKED)


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ConsentScope(enum.StrEnum):
    """What the person agrees to share: the case with professionals of an organisation other than the case
    managers' (`team`), with carers (`carers`), and reminders sent to the person (`reminders`)."""

    TEAM = "team"
    CARERS = "carers"
    REMINDERS = "reminders"


class MemberState(enum.StrEnum):
    INVITED = "invited"
    JOINED = "joined"
    LEFT = "left"

    @property
    def active(self) -> bool:
        return self is not MemberState.LEFT


class ReminderKind(enum.StrEnum):
    REMINDER = "reminder"
    FOLLOWUP = "followup"
    REVIEW = "review"
    # The due day of a plan item: its owner is asked about it unless it is done, blocked or cancelled.
    DUE = "due"

    @property
    def about_item(self) -> bool:
        return self in (ReminderKind.FOLLOWUP, ReminderKind.DUE)


class EntryKind(enum.StrEnum):
    ACTION = "action"
    STATUS = "status"
    REVIEW = "review"
    ACK = "ack"
    # A plan item or need changed: detail names the field, change holds before and after.
    EDIT = "edit"
    # A correction of an earlier entry (corrects_id), shown next to it; the original stays.
    CORRECTION = "correction"


class TargetKind(enum.StrEnum):
    USER = "user"
    ROOM = "room"
    ROLE = "role"


class ReminderStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    CANCELLED = "cancelled"


class Unit(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


@dataclass(frozen=True)
class Interval:
    """A calendar-aware repetition: every `count` units, optionally on a weekday and at a local time.

    Months and years are calendar months and years (31 Jan + 1 month = 28/29 Feb), and the time of
    day is local to the zone the recurrence is computed in, so 09:00 stays 09:00 across DST.
    """

    count: int
    unit: Unit
    weekday: int | None = None  # 0 = Monday
    at: time | None = None

    def encode(self) -> str:
        parts = [f"{self.count}{self.unit.value}"]
        if self.weekday is not None:
            parts.append(f"wd{self.weekday}")
        if self.at is not None:
            parts.append(f"at{self.at.hour:02d}{self.at.minute:02d}")
        return ";".join(parts)

    @classmethod
    def decode(cls, text: str) -> Interval:
        head, *rest = text.split(";")
        unit = next(u for u in Unit if head.endswith(u.value))
        count = int(head[: -len(unit.value)])
        weekday: int | None = None
        at: time | None = None
        for part in rest:
            if part.startswith("wd"):
                weekday = int(part[2:])
            elif part.startswith("at"):
                at = time(int(part[2:4]), int(part[4:6]))
        return cls(count, unit, weekday, at)
