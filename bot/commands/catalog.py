"""The full command set, assembled once by the composition root."""

from __future__ import annotations

from bot.commands import audit, consent, direct, export, plan, reminding, team
from bot.commands.registry import Registry


def build_registry() -> Registry:
    registry = Registry([*direct.commands(), *team.commands(), *plan.commands(), *reminding.commands()])
    for command in export.commands():
        registry.register(command)
    for command in audit.commands():
        registry.register(command)
    for command in consent.commands():
        registry.register(command)
    registry.register(direct.help_command(registry))
    return registry
