"""The room guard: a case room holds only the care team the bot let in, and keeps the settings the bot set.

Whoever gets into a case room another way (invited from a member's own client, added by a group's owner,
speaking in a group that was linked with people already in it) is removed at once, and the case managers
hear who it was and who let them in. A protective setting changed by anyone but the bot is put back. A
member who leaves or is removed outside the bot ends their membership as `!remove` would.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from bot.core import audit, cases
from bot.core.context import Ctx, Services, Speaker, UserError
from bot.core.permissions import CM, Permission
from bot.core.render import room_setting
from bot.domain.events import CreateCaseRoom, GuardRoom, Kick, SendMessage, Target
from bot.domain.model import CaseStatus, ItemStatus, MemberState, Role
from bot.i18n import _, ngettext, using
from bot.storage.models import Case, Member, OutboxRow, PlanItem, User
from bot.storage.repo import Repo

log = logging.getLogger(__name__)

# A removal enqueued this recently covers the same person again (an invitation, then the join it allowed
# before the removal was carried out): they are removed again, silently, not reported twice.
RECENT = timedelta(minutes=5)
ROOM_PERMISSION = Permission(roles=CM)


class How:
    """How an intruder was noticed."""

    INVITED = "invited"
    JOINED = "joined"
    SPOKE = "spoke"


def is_bot(services: Services, network: str, user: str) -> bool:
    bot = services.networks[network].bot_user if network in services.networks else ""
    return bool(bot) and user == bot


def is_current(member: Member | None) -> bool:
    return member is not None and member.state != MemberState.LEFT


async def managers(repo: Repo, case: Case) -> list[User]:
    return [u for _m, u in await repo.members(case.id, Role.CASE_MANAGER)]


# A message for some readers, built in the current language (see Speaker.to_members).
Builder = Callable[[list[User]], str]


async def tell_managers(
    speaker: Speaker, case: Case, build: Builder, in_room: bool = True, only: list[User] | None = None
) -> None:
    """The case managers hear it in the case room (addressed to them) and in their direct chats, each in
    their own language."""
    readers = only if only is not None else await managers(speaker.repo, case)
    if in_room and readers:
        await speaker.to_members(case, readers, build)
    for manager in readers:
        if manager.direct_room_id is None:
            continue
        with using(speaker.services.translator_for(manager)):
            text = build([manager])
        await speaker.emit(Target(room_id=manager.direct_room_id), SendMessage(text))


async def _pending_removal(
    repo: Repo, network: str, case: Case, room_id: str, handle: str, now: datetime
) -> str | None:
    """'unsent' when a removal of `handle` from the room (an intruder's, or `!remove`) waits in the outbox,
    'recent' when one was carried out moments ago, else None."""
    rows = await repo.session.scalars(
        select(OutboxRow)
        .where(
            OutboxRow.network == network,
            or_(OutboxRow.room_id == room_id, OutboxRow.case_id == case.id),
            OutboxRow.created_at >= now - RECENT,
        )
        .order_by(OutboxRow.id.desc())
    )
    for row in rows:
        payload = row.payload
        if payload.get("kind") == Kick.kind and payload.get("user") == handle:
            return "unsent" if row.sent_at is None else "recent"
    return None


def _invite_hint(services: Services, network: str, intruder: User) -> str:
    """How a case manager invites them properly: by id where the network invites by id, else by name."""
    by_id = network not in services.networks or services.networks[network].invites_by_id
    word = intruder.handle if by_id else intruder.name.replace(" ", "_")
    return _(
        "If {name} belongs on the care team, invite them through me: !invite {user} as <role> (the person's "
        "consent rules apply).",
        name=intruder.name,
        user=word,
    )


async def intruder(
    repo: Repo,
    services: Services,
    network: str,
    case: Case,
    room_id: str,
    handle: str,
    how: str,
    by: str = "",
    name: str = "",
) -> bool:
    """Remove someone who is in (or invited to) a case room without the bot's invitation. True when they
    were reported now (False: the bot itself, or a removal already under way covers them)."""
    if is_bot(services, network, handle):
        return False
    now = services.clock.now()
    speaker = Speaker(repo, services, network, now)
    with using(services.case_translator(case)):
        reason = _("Only the care team the case manager invites through me may be in this room.")
    pending = await _pending_removal(repo, network, case, room_id, handle, now)
    if pending == "unsent":
        return False
    await speaker.emit(Target(room_id=room_id), Kick(handle, reason))
    # A join or a word right after a removal is the same intrusion, not yet seen undone; a new invitation
    # is someone's new act, and is reported.
    if pending == "recent" and how != How.INVITED:
        log.info("an intruder in the room of case %s was removed again", case.ref)
        return False
    user = await repo.ensure_user(network, handle, now)
    if name and user.display_name is None:
        user.display_name = name[:128]
    inviter = await repo.user(network, by) if by and not is_bot(services, network, by) else None
    by_name = inviter.name if inviter is not None else by
    log.warning("removed someone the bot did not invite from the room of case %s (%s)", case.ref, how)
    await audit.record(
        repo,
        at=now,
        action="member.intruder_removed",
        network=network,
        actor_id=user.id,
        case_id=case.id,
        case_ref=case.ref,
    )
    if inviter is not None:
        await audit.record(
            repo,
            at=now,
            action="member.intruder_let_in",
            network=network,
            actor_id=inviter.id,
            case_id=case.id,
            case_ref=case.ref,
        )

    def notice(readers: list[User]) -> str:
        names = ", ".join(u.name for u in readers)
        if how == How.INVITED:
            first = _(
                "{names}: {name} was invited to the room of case {ref}, but not by me; I withdrew the "
                "invitation. Only the people I invite may be there.",
                names=names,
                name=user.name,
                ref=case.ref,
            )
        elif how == How.JOINED:
            first = _(
                "{names}: {name} joined the room of case {ref} without an invitation from me; I removed "
                "them. Only the people I invite may be there.",
                names=names,
                name=user.name,
                ref=case.ref,
            )
        else:
            first = _(
                "{names}: {name} is in the room of case {ref} but is not a member of the case; I removed "
                "them. Only the people I invite may be there.",
                names=names,
                name=user.name,
                ref=case.ref,
            )
        second = (
            _("{inviter} let them in.", inviter=by_name)
            if by and not is_bot(services, network, by)
            else _("I do not know who let them in.")
        )
        return "\n".join([first, second, _invite_hint(services, network, user)])

    await tell_managers(speaker, case, notice)
    return True


async def check_sender(
    repo: Repo, services: Services, network: str, room_id: str, sender: str, name: str = ""
) -> None:
    """Someone wrote, reacted or pressed a button in a case room: a current member, or an intruder (people
    already in a group when it was linked are only seen when they speak)."""
    case = await repo.case_by_room(network, room_id)
    if case is None or is_bot(services, network, sender):
        return
    user = await repo.user(network, sender)
    member = await repo.member(case.id, user.id) if user is not None else None
    if not is_current(member):
        await intruder(repo, services, network, case, room_id, sender, How.SPOKE, name=name)


async def invited(
    repo: Repo, services: Services, network: str, case: Case, room_id: str, user: str, inviter: str
) -> None:
    """An invitation to a case room: the bot's own, or one for someone it invited (pending), stands; any
    other is withdrawn before it can be accepted."""
    if is_bot(services, network, inviter) or is_bot(services, network, user):
        return
    known = await repo.user(network, user)
    member = await repo.member(case.id, known.id) if known is not None else None
    if member is not None and member.state == MemberState.INVITED:
        return
    await intruder(repo, services, network, case, room_id, user, How.INVITED, by=inviter)


async def member_gone(
    speaker: Speaker, case: Case, user: User, member: Member, by: str, now: datetime
) -> None:
    """Somebody left the room, or was removed from it outside the bot: their membership ends as with
    `!remove` (reminders to them cancelled); the room hears it, and that no case manager is left there."""
    if member.state == MemberState.LEFT:
        return
    was_invited = member.state == MemberState.INVITED
    services, repo = speaker.services, speaker.repo
    removed = bool(by) and by != user.handle
    remover = await repo.user(speaker.network, by) if removed else None
    cancelled = await cases.end_membership(
        repo, case, member, now, removed=removed, by=remover.id if remover is not None else None
    )
    owned = [
        i
        for i in await repo.all_numbered(PlanItem, case.id)
        if i.owner_id == user.id and ItemStatus(i.status).is_open
    ]
    left_managers = [u for _m, u in await repo.members(case.id, Role.CASE_MANAGER)]
    joined_managers = [
        u for m, u in await repo.members(case.id, Role.CASE_MANAGER) if m.state == MemberState.JOINED
    ]
    no_manager_here = member.role == Role.CASE_MANAGER and not joined_managers

    def said() -> str:
        if removed and not is_bot(services, speaker.network, by):
            lines = [
                _(
                    "{name} was removed from the case room by {by}; their membership has ended.",
                    name=user.name,
                    by=remover.name if remover is not None else by,
                )
            ]
        elif was_invited:
            lines = [_("{name} declined the invitation to the case room.", name=user.name)]
        else:
            lines = [_("{name} has left the case room.", name=user.name)]
        if cancelled:
            lines.append(
                ngettext(
                    "{n} reminder addressed to them was cancelled.",
                    "{n} reminders addressed to them were cancelled.",
                    cancelled,
                )
            )
        if owned:
            lines.append(
                ngettext(
                    "{name} owned {n} open plan item; please reassign it with !plan edit <n> owner <user>.",
                    "{name} owned {n} open plan items; please reassign them with "
                    "!plan edit <n> owner <user>.",
                    len(owned),
                    name=user.name,
                )
            )
        if no_manager_here:
            lines.append(
                _(
                    "The case has no case manager in this room now; until one joins, nobody here can invite, "
                    "remove or change the plan. Ask your coordinator."
                )
            )
        return "\n".join(lines)

    await speaker.to_room(case, said)
    if no_manager_here:
        log.warning("case %s has no joined case manager in its room any more", case.ref)

        def alone(readers: list[User]) -> str:
            return _(
                "{names}: {name} left the room of case {ref}, and no case manager of the case is in it now. "
                "Join the room to follow the case.",
                names=", ".join(u.name for u in readers),
                name=user.name,
                ref=case.ref,
            )

        if left_managers:
            await tell_managers(speaker, case, alone, in_room=False, only=left_managers)


async def setting_changed(
    repo: Repo, services: Services, network: str, room_id: str, setting: str, sender: str
) -> None:
    """A protective setting of a case room changed (a homeserver administrator, a group owner): put every
    one back as the bot keeps them, and tell the case managers what was changed and by whom."""
    case = await repo.case_by_room(network, room_id)
    if case is None or is_bot(services, network, sender):
        return
    now = services.clock.now()
    speaker = Speaker(repo, services, network, now)
    await speaker.emit(Target(room_id=room_id), GuardRoom(read_only=case.status == CaseStatus.CLOSED))
    changer = await repo.user(network, sender)
    log.warning("a protective setting (%s) of the room of case %s was changed; restoring", setting, case.ref)
    await audit.record(
        repo,
        at=now,
        action="room.setting_restored",
        network=network,
        actor_id=changer.id if changer is not None else None,
        case_id=case.id,
        case_ref=case.ref,
    )

    def notice(readers: list[User]) -> str:
        return _(
            "{names}: {sender} changed {setting} in the room of case {ref}; I put it back. Only I may "
            "change who can join, read or invite there.",
            names=", ".join(u.name for u in readers),
            sender=changer.name if changer is not None else sender,
            setting=room_setting(setting),
            ref=case.ref,
        )

    await tell_managers(speaker, case, notice)


async def room_lost(repo: Repo, services: Services, network: str, case: Case) -> None:
    """The bot was removed from a case room: the case has no room until it is given a new one, and its
    case managers hear it in their direct chats (the room is no longer theirs to read there)."""
    now = services.clock.now()
    case.room_id = None
    await repo.session.flush()
    log.warning("the bot lost the room of case %s; the case has no room now", case.ref)
    await audit.record(repo, at=now, action="room.lost", network=network, case_id=case.id, case_ref=case.ref)
    speaker = Speaker(repo, services, network, now)
    creates = network in services.networks and services.networks[network].creates_rooms

    def notice(readers: list[User]) -> str:
        first = _(
            "I can no longer write in the room of case {ref}: I was removed from it or blocked. The case has "
            "no room now; what I could not send there is lost for that room.",
            ref=case.ref,
        )
        if creates:
            then = _(
                "Write !case room {ref} here and I will create a new room and invite the current members "
                "again.",
                ref=case.ref,
            )
        else:
            then = _(
                "Add me back as an administrator of a group (this one or a new one) and write "
                "!case link {ref} there.",
                ref=case.ref,
            )
        return first + " " + then

    await tell_managers(speaker, case, notice, in_room=False)


async def new_room(ctx: Ctx, ref: str | None) -> Case:
    """`!case room`: a case that lost its room gets a new one, and its current members are invited again
    through the bot (networks where the bot creates rooms; elsewhere a group is linked with !case link)."""
    if not ctx.net.creates_rooms:
        raise UserError(
            _(
                "On {network} I cannot create rooms myself: add me to a group as an administrator and write "
                "!case link <case> there.",
                network=ctx.network,
            )
        )
    room = await cases.in_case(ctx, ref, "case room", ROOM_PERMISSION)
    case = room.require_case()
    if case.network != ctx.network:
        raise UserError(
            _(
                "Case {ref} is on {network}: give it a new room from {network}.",
                ref=case.ref,
                network=case.network,
            )
        )
    if case.room_id is not None:
        raise UserError(_("Case {ref} already has its room.", ref=case.ref))
    pending = await ctx.repo.session.scalars(
        select(OutboxRow).where(OutboxRow.case_id == case.id, OutboxRow.sent_at.is_(None))
    )
    if any(row.payload.get("kind") == CreateCaseRoom.kind for row in pending):
        raise UserError(_("I am creating the room of case {ref} already.", ref=case.ref))
    current = [(m, u) for m, u in await ctx.repo.members(case.id) if not u.handle.startswith(cases.INVITEE)]
    for member, _user in current:
        member.state = MemberState.INVITED
        member.joined_at = None
    with using(ctx.services.case_translator(case)):
        topic = _("Coordination room of case {ref}. Type !help for the commands.", ref=case.ref)
    await ctx.speaker.emit(
        Target(case_id=case.id),
        CreateCaseRoom(
            case.ref,
            cases.room_title(case),
            topic,
            tuple(u.handle for _m, u in current),
            tuple(u.handle for m, u in current if m.role == Role.CASE_MANAGER),
        ),
    )
    await audit.record(
        ctx.repo,
        at=ctx.now,
        action="case.room",
        network=ctx.network,
        actor_id=ctx.user.id,
        case_id=case.id,
        case_ref=case.ref,
    )
    await ctx.reply(
        ngettext(
            "I am creating a new room for case {ref} and inviting its {n} current member again.",
            "I am creating a new room for case {ref} and inviting its {n} current members again.",
            len(current),
            ref=case.ref,
        ),
        link_case=case,
    )
    return case
