"""The care team of a case: invite, remove, list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.commands import args
from bot.commands.registry import Command
from bot.core import cases
from bot.core.context import Ctx
from bot.core.render import role_name
from bot.domain.model import MemberState, Role
from bot.i18n import N_, _


@dataclass(frozen=True)
class InviteArgs:
    handle: str
    role: Role
    organisation: str | None


def parse_invite(ctx: Ctx, rest: str) -> InviteArgs:
    words = rest.split()
    if len(words) < 3 or words[1].lower() != "as":
        raise args.UsageError(_("Tell me who and in which role."))
    handle = args.handle(ctx, words[0])
    role = args.role(words[2])
    organisation: str | None = None
    if len(words) > 3:
        if words[3].lower() != "from" or len(words) == 4:
            raise args.UsageError(_("After the role, only “from <organisation>” may follow."))
        organisation = args.free_text(" ".join(words[4:]), _("organisation"), 200)
    return InviteArgs(handle, role, organisation)


async def run_invite(ctx: Ctx, a: InviteArgs) -> None:
    await cases.invite(ctx, a.handle, a.role, a.organisation)
    if a.organisation:
        text = _(
            "I invited {name} as {role} from {organisation}.",
            name=a.handle,
            role=role_name(a.role),
            organisation=a.organisation,
        )
    else:
        text = _("I invited {name} as {role}.", name=a.handle, role=role_name(a.role))
    await ctx.reply(text)


async def run_remove(ctx: Ctx, handle: str) -> None:
    await cases.remove(ctx, handle)


def parse_handle(ctx: Ctx, rest: str) -> str:
    words = rest.split()
    if len(words) != 1:
        raise args.UsageError(_("Tell me one user."))
    return args.handle(ctx, words[0])


async def run_members(ctx: Ctx, _none: None) -> None:
    case = ctx.require_case()
    lines = [_("Care team of {ref}:", ref=case.ref)]
    for member, user in await ctx.repo.members(case.id):
        line = f"- {user.handle} · {role_name(member.role)}"
        if member.organisation:
            line += f" · {member.organisation}"
        if member.state == MemberState.INVITED:
            line += " · " + _("invited, not joined yet")
        lines.append(line)
    await ctx.reply("\n".join(lines))


def commands() -> list[Command[Any]]:
    return [
        Command(
            "invite",
            N_("<user> as <role> [from <organisation>]"),
            N_(
                "Invite someone to the case room. Roles: case-manager, professional, person, carer, observer."
            ),
            parse_invite,
            run_invite,
            writes=True,
        ),
        Command(
            "remove",
            N_("<user>"),
            N_("Remove a member from the case room (the history stays)."),
            parse_handle,
            run_remove,
            writes=True,
        ),
        Command(
            "members", "", N_("List the members, their roles and organisations."), args.no_args, run_members
        ),
    ]
