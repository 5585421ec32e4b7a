"""What the dispatcher needs of the command set: the composition root hands it bot.commands' registry, so
the core never imports the commands (they import the core)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from bot.core.context import Ctx
from bot.core.permissions import Permission
from bot.domain.model import Role
from bot.i18n import _


class CommandSpec(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def summary(self) -> str: ...

    @property
    def permission(self) -> Permission: ...

    @property
    def params(self) -> Sequence[object]: ...

    @property
    def usage(self) -> str: ...

    @property
    def run(self) -> Callable[[Ctx, Any], Awaitable[None]]: ...

    def parse(self, ctx: Ctx, rest: str) -> Any: ...


class CommandSet(Protocol):
    def find(self, text: str) -> tuple[CommandSpec, str] | None: ...

    def get(self, name: str) -> CommandSpec | None: ...

    def family(self, word: str) -> Sequence[CommandSpec]: ...

    def names_for(self, role: Role) -> str: ...


def family_help(word: str, commands: Sequence[CommandSpec], allowed: Callable[[CommandSpec], bool]) -> str:
    """`!plan` has these subcommands: each with its usage and summary, marked when not for the reader."""
    lines = [_("!{name} has these subcommands:", name=word)]
    for command in commands:
        line = f"{command.usage} — {_(command.summary)}"
        if not allowed(command):
            line += " " + _("(not for you here)")
        lines.append(line)
    return "\n".join(lines)
