"""The care team of a case: invite, remove, list."""

from __future__ import annotations

from bot.commands.grammar import Kind, Param, Values
from bot.commands.registry import Command
from bot.core import cases
from bot.core.context import Ctx
from bot.core.permissions import ALL, ANY_STATE, CM, Permission
from bot.core.render import role_name
from bot.domain.events import SendMessage, Target
from bot.domain.model import MemberState, Role
from bot.i18n import N_, _
from bot.storage.models import Member


async def run_invite(ctx: Ctx, v: Values) -> None:
    handle, role, organisation = v.of("user", str), v.of("as", Role), v.opt("from", str)
    member = await cases.invite(ctx, handle, role, organisation)
    if not ctx.net.invites_by_id:
        await invite_by_link(ctx, member, handle, role)
        return
    if organisation:
        text = _(
            "I invited {name} as {role} from {organisation}.",
            name=handle,
            role=role_name(role),
            organisation=organisation,
        )
    else:
        text = _("I invited {name} as {role}.", name=handle, role=role_name(role))
    await ctx.reply(text)


async def invite_by_link(ctx: Ctx, member: Member, name: str, role: Role) -> None:
    """The link goes to the case manager's direct chat when the bot knows it: the case room need not see
    it. Whoever opens it first becomes the member; it works once, for a week."""
    link = await cases.invitation_link(ctx, member)
    text = _(
        "Invitation for {name} as {role} in case {ref}: pass this link on to them, and only to them. It "
        "works once, for {days} days; whoever opens it first joins as {name}.\n{link}",
        name=name,
        role=role_name(role),
        ref=ctx.require_case().ref,
        days=cases.INVITATION_DAYS,
        link=link,
    )
    if ctx.user.direct_room_id is None or ctx.user.direct_room_id == ctx.room_id:
        await ctx.reply(text)
        return
    await ctx.speaker.emit(Target(room_id=ctx.user.direct_room_id), SendMessage(text))
    await ctx.reply(
        _(
            "I invited {name} as {role}; the invitation link is in our direct chat.",
            name=name,
            role=role_name(role),
        )
    )


async def run_remove(ctx: Ctx, v: Values) -> None:
    await cases.remove(ctx, v.of("user", str))


async def run_members(ctx: Ctx, _v: Values) -> None:
    case = ctx.require_case()
    lines = [_("Care team of {ref}:", ref=case.ref)]
    for member, user in await ctx.repo.members(case.id):
        line = f"- {user.name} · {role_name(member.role)}"
        if member.organisation:
            line += f" · {member.organisation}"
        if member.state == MemberState.INVITED:
            line += " · " + _("invited, not joined yet")
        lines.append(line)
    await ctx.reply("\n".join(lines))


USER = Param(N_("user"), Kind.USER, N_("user"))


def commands() -> list[Command]:
    return [
        Command(
            "invite",
            (
                USER,
                Param(N_("role"), Kind.ROLE, N_("role"), keyword="as"),
                Param(
                    N_("organisation"),
                    Kind.TEXT,
                    N_("organisation"),
                    optional=True,
                    keyword="from",
                    limit=200,
                ),
            ),
            N_(
                "Invite someone to the case room. Roles: case-manager, professional, person, carer, observer."
            ),
            run_invite,
            Permission(roles=CM),
        ),
        Command(
            "remove",
            (USER,),
            N_("Remove a member from the case room (the history stays)."),
            run_remove,
            Permission(roles=CM),
        ),
        Command(
            "members",
            (),
            N_("List the members, their roles and organisations."),
            run_members,
            Permission(roles=ALL, states=ANY_STATE),
        ),
    ]
