"""The full command set, assembled once by the composition root."""

from __future__ import annotations

from bot.commands import direct, plan, reminding, team
from bot.commands.registry import Registry


def build_registry() -> Registry:
    registry = Registry([*direct.commands(), *team.commands(), *plan.commands(), *reminding.commands()])
    registry.register(direct.help_command(registry))
    return registry
