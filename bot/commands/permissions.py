"""Who may run what, and where: the one table. Deny by default: a command absent here is refused.

In a case room a command is allowed to the roles listed; in the direct chat with the bot, to everyone
or to the case managers named in the settings (`bot.case_managers`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from bot.domain.model import Role


class Direct(enum.Enum):
    EVERYONE = "everyone"
    CONFIGURED_CASE_MANAGERS = "configured-case-managers"


_ALL = frozenset(Role)
_CM = frozenset({Role.CASE_MANAGER})
_TEAM = frozenset({Role.CASE_MANAGER, Role.PROFESSIONAL})
_ACTORS = frozenset({Role.CASE_MANAGER, Role.PROFESSIONAL, Role.PERSON, Role.CARER})

DIRECT: Mapping[str, Direct] = {
    "help": Direct.EVERYONE,
    "lang": Direct.EVERYONE,
    "tz": Direct.EVERYONE,
    "stop": Direct.EVERYONE,
    "cases": Direct.EVERYONE,
    "case open": Direct.CONFIGURED_CASE_MANAGERS,
}

IN_ROOM: Mapping[str, frozenset[Role]] = {
    "help": _ALL,
    "lang": _ALL,
    "tz": _ALL,
    "stop": _ALL,
    "members": _ALL,
    "invite": _CM,
    "remove": _CM,
    "need add": _TEAM,
    "need met": _TEAM,
    "plan": _ALL,
    "plan add": _CM,
    "plan start": _TEAM,
    "plan done": _TEAM,
    "plan block": _TEAM,
    "plan cancel": _CM,
    "log": _ACTORS,
    "history": _ALL,
    # Persons and carers may only remind themselves; the handler enforces that finer rule.
    "remind": _ACTORS,
    "followup": _TEAM,
    "review every": _CM,
    "review on": _CM,
    "review done": _CM,
    "review start": _CM,
    "reminders": _ALL,
    # Anyone but the case manager may only cancel reminders they set themselves.
    "cancel": _ACTORS,
    "close": _CM,
}
