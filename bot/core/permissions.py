"""Who may do what, where, and in which state of the case: checked in one place for every way in.

Each command declares a Permission (bot/commands); a dialog answer is checked against the permission of
the command that started the dialog; a reaction against ACKNOWLEDGE. Deny by default: no role listed, no
state listed, no direct-chat rule means refused.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.core.context import Ctx
from bot.core.render import role_name
from bot.domain.model import CaseStatus, Role
from bot.i18n import _


class Direct(enum.Enum):
    EVERYONE = "everyone"
    CONFIGURED_CASE_MANAGERS = "configured-case-managers"


ALL = frozenset(Role)
CM = frozenset({Role.CASE_MANAGER})
TEAM = frozenset({Role.CASE_MANAGER, Role.PROFESSIONAL})
ACTORS = frozenset({Role.CASE_MANAGER, Role.PROFESSIONAL, Role.PERSON, Role.CARER})
OPEN = frozenset({CaseStatus.OPEN})
ANY_STATE = frozenset(CaseStatus)


@dataclass(frozen=True)
class Permission:
    """In a case room: the roles allowed and the case states in which it runs. In the direct chat: who."""

    roles: frozenset[Role] = frozenset()
    direct: Direct | None = None
    states: frozenset[CaseStatus] = OPEN
    # Also runs, under the `direct` rule, in a room that is not linked to a case (a group a case manager
    # made on a network where the bot cannot create rooms). Everything else there is ignored.
    unlinked: bool = False

    @property
    def in_room(self) -> bool:
        return bool(self.roles)

    @property
    def in_direct(self) -> bool:
        return self.direct is not None

    def allowed_in_direct(self, handle: str, case_managers: list[str]) -> bool:
        if self.direct is Direct.EVERYONE:
            return True
        return self.direct is Direct.CONFIGURED_CASE_MANAGERS and handle in case_managers

    def allows(self, ctx: Ctx) -> bool:
        """Whether the sender may do it now, where they are (the help lists only these)."""
        if ctx.case is None:
            return self.allowed_in_direct(ctx.user.handle, ctx.services.settings.case_managers)
        return ctx.role in self.roles and CaseStatus(ctx.case.status) in self.states


# Acknowledging a reminder (a reaction, a button): a current member who takes part in the work (observers
# only read), while the case is open.
ACKNOWLEDGE = Permission(roles=ACTORS)


def refusal(ctx: Ctx, name: str, permission: Permission) -> str | None:
    """Why the sender may not do `!name` here and now (in their language), or None when they may.

    The role is the one the sender holds now and the state the case is in now: this runs for every
    command, every dialog answer and every reaction, never once for a whole dialog.
    """
    if ctx.case is None:
        if not ctx.is_direct and not permission.unlinked:
            return _("This room is not the room of a case.")
        if not permission.in_direct:
            return _("!{name} works in a case room.", name=name)
        if not permission.allowed_in_direct(ctx.user.handle, ctx.services.settings.case_managers):
            return _(
                "Only case managers can use !{name}. Ask your coordinator to add you to the case managers.",
                name=name,
            )
        return None
    if ctx.role is None:
        return _("You are not a member of case {ref}.", ref=ctx.case.ref)
    if not permission.in_room:
        return _("!{name} works in your direct chat with me.", name=name)
    if ctx.role not in permission.roles:
        return _(
            "As {role} you cannot use !{name}. Type !help to see what you can do.",
            role=role_name(ctx.role),
            name=name,
        )
    if CaseStatus(ctx.case.status) not in permission.states:
        if ctx.case.status == CaseStatus.OPEN:  # a command for closed cases only (!case reopen)
            return _("Case {ref} is open: !{name} is for a closed case.", ref=ctx.case.ref, name=name)
        return _("Case {ref} is closed: it can be read, not changed.", ref=ctx.case.ref)
    return None
