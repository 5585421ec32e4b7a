"""Commands are declared once: name, typed parameters, summary, who may run it and in which case states.

The usage line and the help are generated from the declaration; the dispatcher checks the declared
permission (bot/core/permissions.py) before anything runs. Nothing dispatches on prefixes by hand.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field

from bot.commands.grammar import Grammar, Kind, Param, Values, usage
from bot.core.context import Ctx
from bot.core.permissions import Permission
from bot.domain.model import Role
from bot.i18n import _

# Commands every member has; greetings leave them out.
_EVERYWHERE = frozenset({"help", "lang", "tz", "stop"})


@dataclass(frozen=True)
class Command:
    name: str
    params: tuple[Param, ...]
    summary: str
    run: Callable[[Ctx, Values], Awaitable[None]]
    permission: Permission
    # A longer explanation for `!help <command>` (marked for translation).
    details: str = ""
    grammar: Grammar = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "grammar", Grammar(self.params))

    @property
    def usage(self) -> str:
        """`!plan add <text> [owner <user>] ...`, in the current language."""
        return f"!{self.name} {usage(self.params)}".rstrip()

    def parse(self, ctx: Ctx, rest: str) -> Values:
        return self.grammar.parse(ctx, rest)

    @property
    def family(self) -> str:
        return self.name.split()[0]

    def allowed_in_room(self, role: Role | None) -> bool:
        return role is not None and role in self.permission.roles


class Registry:
    def __init__(self, commands: Iterable[Command]) -> None:
        self._commands: dict[str, Command] = {}
        for command in commands:
            self.register(command)

    def register(self, command: Command) -> None:
        if command.name in self._commands:
            raise ValueError(f"command {command.name!r} declared twice")
        if not (command.permission.in_direct or command.permission.in_room):
            raise ValueError(f"command {command.name!r} may be run by nobody, nowhere")
        self._commands[command.name] = command

    def names_for(self, role: Role) -> str:
        """'!plan, !log, ...': the room commands a role may run, by first word, for greetings."""
        words: dict[str, None] = {}
        for command in self._commands.values():
            if command.allowed_in_room(role) and command.name not in _EVERYWHERE:
                words[command.family] = None
        return ", ".join(f"!{word}" for word in words)

    def menu(self, in_direct: bool) -> list[tuple[str, str]]:
        """The command menu of a network that shows one (Telegram): one entry per family, with its summary
        in the current language; the room commands, or those of the direct chat."""
        entries: dict[str, str] = {}
        for command in self._commands.values():
            allowed = command.permission.in_direct if in_direct else command.permission.in_room
            if not allowed or command.family in entries:
                continue
            single = self._commands.get(command.family)
            if single is not None:
                entries[command.family] = _(single.summary)
            else:
                subs = [c.name for c in self.family(command.family)]
                entries[command.family] = " · ".join(f"/{name}" for name in subs)
        return [(word, summary[:256]) for word, summary in entries.items()]

    def __iter__(self) -> Iterator[Command]:
        return iter(self._commands.values())

    def get(self, name: str) -> Command | None:
        return self._commands.get(name)

    def family(self, word: str) -> list[Command]:
        """The commands named `word ...` (`!plan add`, `!plan done` ...), in declaration order."""
        word = word.lower()
        return [c for c in self._commands.values() if c.family == word and c.name != word]

    def find(self, text: str) -> tuple[Command, str] | None:
        """Match '<name> [<sub>] rest': the longest declared name wins ('plan add' over 'plan').

        Where the one-word command takes free text (`!log <text>`), a subcommand whose first parameter is
        a number (`!log fix <n> ...`) is taken only when a number follows: `!log fix the sink` is a log."""
        words = text.split(maxsplit=2)
        if not words:
            return None
        first = words[0].lower()
        if len(words) >= 2:
            pair = self._commands.get(f"{first} {words[1].lower()}")
            single = self._commands.get(first)
            if pair is not None and (single is None or not _takes_text(single) or _claims(pair, words[2:])):
                return pair, words[2] if len(words) == 3 else ""
        if first in self._commands:
            return self._commands[first], text.split(maxsplit=1)[1] if len(words) >= 2 else ""
        return None


def _takes_text(command: Command) -> bool:
    return any(p.kind is Kind.TEXT and p.keyword is None for p in command.params)


def _claims(command: Command, rest: list[str]) -> bool:
    """Whether `rest` fits the start of a subcommand that shares its first word with another command."""
    if not command.params or command.params[0].kind is not Kind.NUMBER:
        return True
    if not rest or not rest[0].split():
        return True  # `!log fix` alone asks for the subcommand: its usage, not a log entry "fix"
    token = rest[0].split()[0].lstrip("#")
    return token.isascii() and token.isdigit()
