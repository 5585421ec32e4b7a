"""Commands are declared once: name, usage, summary (both marked for translation), parser and handler.

Help is generated from these declarations and the permission table; nothing dispatches on prefixes by hand.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from bot.commands.permissions import DIRECT, IN_ROOM, Direct
from bot.core.context import Ctx
from bot.domain.model import Role

A = TypeVar("A")

# Commands every member has; greetings leave them out.
_EVERYWHERE = frozenset({"help", "lang", "tz", "stop"})


@dataclass(frozen=True)
class Command(Generic[A]):
    name: str
    usage: str
    summary: str
    parse: Callable[[Ctx, str], A]
    run: Callable[[Ctx, A], Awaitable[None]]
    # Changes the case: refused once the case is closed.
    writes: bool = False

    @property
    def in_direct(self) -> bool:
        return self.name in DIRECT

    @property
    def in_room(self) -> bool:
        return self.name in IN_ROOM

    def allowed_in_room(self, role: Role | None) -> bool:
        return role is not None and role in IN_ROOM.get(self.name, frozenset())

    def allowed_in_direct(self, handle: str, case_managers: Iterable[str]) -> bool:
        who = DIRECT.get(self.name)
        if who is Direct.EVERYONE:
            return True
        return who is Direct.CONFIGURED_CASE_MANAGERS and handle in case_managers


class Registry:
    def __init__(self, commands: Iterable[Command[Any]]) -> None:
        self._commands: dict[str, Command[Any]] = {}
        for command in commands:
            self.register(command)

    def register(self, command: Command[Any]) -> None:
        if command.name in self._commands:
            raise ValueError(f"command {command.name!r} declared twice")
        if not (command.in_direct or command.in_room):
            raise ValueError(f"command {command.name!r} is missing from the permission table")
        self._commands[command.name] = command

    def names_for(self, role: Role) -> str:
        """'!plan, !log, ...': the room commands a role may run, by first word, for greetings."""
        words: dict[str, None] = {}
        for command in self._commands.values():
            if command.allowed_in_room(role) and command.name not in _EVERYWHERE:
                words[command.name.split()[0]] = None
        return ", ".join(f"!{word}" for word in words)

    def __iter__(self) -> Iterator[Command[Any]]:
        return iter(self._commands.values())

    def get(self, name: str) -> Command[Any] | None:
        return self._commands.get(name)

    def find(self, text: str) -> tuple[Command[Any], str] | None:
        """Match '<name> [<sub>] rest': the longest declared name wins ('plan add' over 'plan')."""
        words = text.split(maxsplit=2)
        if not words:
            return None
        first = words[0].lower()
        if len(words) >= 2:
            pair = f"{first} {words[1].lower()}"
            if pair in self._commands:
                return self._commands[pair], words[2] if len(words) == 3 else ""
        if first in self._commands:
            return self._commands[first], text.split(maxsplit=1)[1] if len(words) >= 2 else ""
        return None
