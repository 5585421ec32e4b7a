"""Cases and their care teams: opening, inviting, joining, leaving, closing."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select, update

from bot.core import audit, consent
from bot.core.context import Ctx, Forbidden, Speaker, UserError
from bot.core.log import REOPENED, log_entry
from bot.core.permissions import Permission, refusal
from bot.core.render import role_name
from bot.domain.events import CreateCaseRoom, GuardRoom, Invite, Kick, LinkRoom, Target
from bot.domain.model import CaseStatus, EntryKind, ItemStatus, MemberState, Role, TargetKind
from bot.i18n import _, fmt_date, ngettext, using
from bot.storage.models import Case, Invitation, Member, Need, PlanItem, User
from bot.storage.repo import Repo


async def open_case(ctx: Ctx, label: str, language: str | None = None) -> Case:
    """Open a case with the sender as its case manager. Where the network lets the bot create rooms, the
    case room is created; elsewhere the case is opened from inside an existing room, which it takes."""
    linking = not ctx.net.creates_rooms
    if linking and (ctx.is_direct or ctx.case is not None):
        raise UserError(rooms_by_hand(ctx))
    ref = await ctx.repo.next_case_ref(ctx.now.year)
    case = Case(
        ref=ref,
        label=label,
        network=ctx.network,
        room_id=ctx.room_id if linking else None,
        status=CaseStatus.OPEN,
        language=language or ctx.language,
        created_by=ctx.user.id,
        created_at=ctx.now,
    )
    await ctx.repo.add(case)
    ctx.about(case)
    await ctx.repo.add(
        Member(
            case_id=case.id,
            user_id=ctx.user.id,
            role=Role.CASE_MANAGER,
            # Opened from inside an existing room, the case manager is there already.
            state=MemberState.JOINED if linking else MemberState.INVITED,
            invited_by=ctx.user.id,
            invited_at=ctx.now,
            joined_at=ctx.now if linking else None,
        )
    )
    if linking:
        await ctx.speaker.emit(Target(case_id=case.id), LinkRoom(ref, ctx.room_id, room_title(case)))
        return case
    with using(ctx.services.case_translator(case)):
        topic = _("Coordination room of case {ref}. Type !help for the commands.", ref=ref)
    await ctx.speaker.emit(
        Target(case_id=case.id),
        CreateCaseRoom(ref, f"{ref} · {label}", topic, (ctx.user.handle,), (ctx.user.handle,)),
    )
    return case


def opened(case: Case, created: bool) -> str:
    if created:
        return _(
            "Case {ref} is open: “{label}”. I am creating its private room and inviting you; invite the team "
            "there with !invite.",
            ref=case.ref,
            label=case.label,
        )
    return _(
        "Case {ref} is open: “{label}”, and this room is its coordination room. Invite the team with "
        "!invite.",
        ref=case.ref,
        label=case.label,
    )


def room_title(case: Case) -> str:
    """A case room's name: the reference and the label, which holds no health data."""
    return f"{case.ref} · {case.label}"


def rooms_by_hand(ctx: Ctx) -> str:
    return _(
        "On {network} I cannot create rooms myself. Create a group, add me to it as an administrator "
        "allowed to invite users and to ban users, and write there !case open <label> to open a new case, "
        "or !case link <case> to attach an open case to it.",
        network=ctx.network,
    )


async def link(ctx: Ctx, ref: str) -> Case:
    """Attach an existing room (a group a case manager made) to an open case that has no room yet. Only a
    case manager of that case may, and only on networks where the bot cannot create rooms itself."""
    if ctx.net.creates_rooms:
        raise UserError(
            _("On {network} I create case rooms myself; there is nothing to link.", network=ctx.network)
        )
    if ctx.is_direct:
        raise UserError(_("Write !case link in the group you want to attach, not in our direct chat."))
    # Only the case managers of the case a room belongs to may give it to another case, and only once that
    # case is closed: an open case keeps its room.
    if ctx.case is not None and (ctx.role is not Role.CASE_MANAGER or ctx.case.status == CaseStatus.OPEN):
        raise UserError(_("This room is already the room of case {ref}.", ref=ctx.case.ref))
    case = await ctx.repo.case_by_ref(ref)
    member = await ctx.repo.member(case.id, ctx.user.id) if case else None
    if (
        case is None
        or member is None
        or member.state != MemberState.JOINED
        or member.role != Role.CASE_MANAGER
    ):
        raise UserError(_("Only a case manager of case {ref} can link a room to it.", ref=ref))
    if case.status != CaseStatus.OPEN:
        raise UserError(_("Case {ref} is closed: it can be read, not changed.", ref=ref))
    if case.room_id is not None:
        raise UserError(_("Case {ref} already has its room.", ref=ref))
    if ctx.case is not None:
        ctx.case.room_id = None  # the closed case keeps its history, not the room
        await ctx.repo.session.flush()
    case.room_id = ctx.room_id
    ctx.about(case)
    await ctx.speaker.emit(Target(case_id=case.id), LinkRoom(case.ref, ctx.room_id, room_title(case)))
    return case


async def invite(ctx: Ctx, handle: str, role: Role, organisation: str | None) -> Member:
    """Every invitation goes through here, whatever the network."""
    case = ctx.require_case()
    if ctx.net.invites_by_id:
        user = await ctx.repo.ensure_user(ctx.network, handle, ctx.now)
        member = await ctx.repo.member(case.id, user.id)
    else:
        # By link: until someone opens it, the invitee is a name without a network id. Only a member of
        # that very name is them: someone who merely shares a first name is someone else.
        found = await find_user(ctx, handle, by_first_name=False)
        current = await ctx.repo.member(case.id, found.id) if found else None
        if current is not None and current.state != MemberState.LEFT:
            raise UserError(
                _(
                    "{name} is already a member of this case, as {role}.",
                    name=handle,
                    role=role_name(current.role),
                )
            )
        user = await ctx.repo.ensure_user(ctx.network, f"{INVITEE}{secrets.token_hex(8)}", ctx.now)
        user.display_name = handle.lstrip("@")
        member = None
    if member is not None and member.state != MemberState.LEFT:
        raise UserError(
            _("{name} is already a member of this case, as {role}.", name=handle, role=role_name(member.role))
        )
    if role is Role.OBSERVER:
        owned = [
            f"#{i.number}"
            for i in await ctx.repo.all_numbered(PlanItem, case.id)
            if i.owner_id == user.id and ItemStatus(i.status).is_open
        ]
        if owned:
            raise UserError(
                _(
                    "{name} still owns open plan items ({items}), and an observer cannot own any: reassign "
                    "them first with !plan edit <n> owner <user>.",
                    name=handle,
                    items=", ".join(owned),
                )
            )
    await consent.require_for_invitation(ctx, case, role, organisation)
    if organisation is None and role is Role.PROFESSIONAL:
        organisation = consent.inviter_organisation(ctx)  # a colleague of the inviting case manager
    if member is None:
        member = Member(case_id=case.id, user_id=user.id, invited_at=ctx.now)
        ctx.repo.session.add(member)
    member.role = role
    member.organisation = organisation
    member.state = MemberState.INVITED
    member.invited_by = ctx.user.id
    member.invited_at = ctx.now
    member.joined_at = None
    member.left_at = None
    if role is Role.PERSON:
        # Room messages follow the person's language from now on.
        if user.language is None:
            user.language = case.language
        else:
            case.language = user.language
    await ctx.repo.session.flush()
    await audit.of_case(ctx.repo, case, audit.MEMBER_INVITED, ctx.now, ctx.user.id)
    if ctx.net.invites_by_id:
        await ctx.speaker.emit(Target(case_id=case.id), Invite(handle, role is Role.CASE_MANAGER))
    return member


INVITATION_DAYS = 7
# The handle of an invitee known by name only, until they open their link.
INVITEE = "invitation:"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def invitation_link(ctx: Ctx, member: Member) -> str:
    """A new single-use link for an invited member (the earlier ones stop working)."""
    for earlier in await ctx.repo.session.scalars(
        select(Invitation).where(Invitation.member_id == member.id, Invitation.used_at.is_(None))
    ):
        earlier.used_at = ctx.now
    token = secrets.token_urlsafe(24)  # 32 characters of [A-Za-z0-9_-], as Telegram's start parameter
    await ctx.repo.add(
        Invitation(
            token_hash=token_hash(token),
            case_id=member.case_id,
            member_id=member.id,
            created_by=ctx.user.id,
            created_at=ctx.now,
            expires_at=ctx.now + timedelta(days=INVITATION_DAYS),
        )
    )
    return ctx.net.invite_link.format(token=token)


def names_match(name: str, word: str) -> bool:
    """Whether `word` names someone called `name` in a command: the whole name (spaces as "_" or
    nothing), case aside."""
    name, word = name.casefold(), word.lstrip("@").casefold()
    return word in (name, name.replace(" ", "_"), name.replace(" ", ""))


def first_name(name: str) -> str:
    """The first word of a name, "_" counting as a space as it does in commands (someone invited as
    Anna_Schmidt is an Anna)."""
    words = name.replace("_", " ").split()
    return words[0] if words else ""


async def find_user(ctx: Ctx, word: str, by_first_name: bool = True) -> User | None:
    """The user a command names: by network id, or, where people are known by name (invitations by link),
    by the name of a current member of the case in context, else by their first name. A name several
    members share is refused, with their names: the bot does not pick one."""
    user = await ctx.repo.user(ctx.network, word)
    if user is not None or ctx.net.invites_by_id or ctx.case is None:
        return user
    current = [u for m, u in await ctx.repo.members(ctx.case.id) if m.state != MemberState.LEFT]
    found = [u for u in current if names_match(u.name, word)]
    if not found and by_first_name:
        found = [u for u in current if first_name(u.name) and names_match(first_name(u.name), word)]
    if len(found) > 1:
        raise UserError(
            _(
                "Several members are called {name}: {names}. Write the name in full, with “_” for spaces.",
                name=word,
                names=", ".join(u.name for u in found),
            )
        )
    return found[0] if found else None


async def member_joined(
    speaker: Speaker, case: Case, user: User, member: Member, now: datetime, commands: str
) -> None:
    """Greet a member who joined, in their language, with what the room is for and what they may run."""
    if member.state != MemberState.INVITED:
        return
    member.state = MemberState.JOINED
    member.joined_at = now
    await audit.of_case(speaker.repo, case, audit.MEMBER_JOINED, now, user.id)
    role = Role(member.role)

    def greeting(readers: list[User]) -> str:
        return _(
            "Welcome, {name}. This is the coordination room of case {ref}: the care team, the person and "
            "their carers follow the service plan here, log what they do and get reminders. You are here as "
            "{role}. You can use: {commands}. Type !help <command> for details.",
            name=user.name,
            ref=case.ref,
            role=role_name(role),
            commands=commands,
        )

    await speaker.to_members(case, [user], greeting)


async def end_membership(
    repo: Repo, case: Case, member: Member, now: datetime, *, removed: bool = False, by: int | None = None
) -> int:
    """Leaving or removal ends the role (the history stays) and the reminders addressed to that member.

    `removed`: someone else ended it (`by`, a user's number, when known), else the member left."""
    member.state = MemberState.LEFT
    member.left_at = now
    cancelled = await repo.cancel_reminders(
        case.id, target_kind=TargetKind.USER, target_user_id=member.user_id
    )
    action, actor = (audit.MEMBER_REMOVED, by) if removed else (audit.MEMBER_LEFT, member.user_id)
    await audit.of_case(repo, case, action, now, actor)
    return cancelled


async def member_left(
    speaker: Speaker,
    case: Case,
    user: User,
    member: Member,
    now: datetime,
    *,
    removed: bool = False,
    by: int | None = None,
) -> None:
    if member.state == MemberState.LEFT:
        return
    await end_membership(speaker.repo, case, member, now, removed=removed, by=by)
    await speaker.to_room(case, lambda: _("{name} has left the case room.", name=user.name))


async def member(ctx: Ctx, handle: str) -> tuple[User, Member]:
    """A current member of the case in context, by user id; a UserError otherwise."""
    user = await find_user(ctx, handle)
    found = await ctx.repo.member(ctx.require_case().id, user.id) if user else None
    if user is None or found is None or found.state == MemberState.LEFT:
        raise UserError(_("{name} is not a member of this case. See !members.", name=handle))
    return user, found


async def remove(ctx: Ctx, handle: str) -> None:
    case = ctx.require_case()
    user, found = await member(ctx, handle)
    if found.role == Role.CASE_MANAGER:
        others = [
            m
            for m, _u in await ctx.repo.members(case.id, Role.CASE_MANAGER)
            if m.id != found.id and m.state == MemberState.JOINED
        ]
        if not others:
            raise UserError(
                _(
                    "{name} is the only case manager who has joined; another case manager must join "
                    "before {name} can be removed.",
                    name=handle,
                )
            )
    cancelled = await end_membership(ctx.repo, case, found, ctx.now, removed=True, by=ctx.user.id)
    if not user.handle.startswith(INVITEE):  # an invitee who never opened the link is not there
        await ctx.speaker.emit(Target(case_id=case.id), Kick(user.handle))
    lines = [
        _("{name} is no longer a member of this case.", name=handle)
        + " "
        + ngettext(
            "{n} reminder addressed to them was cancelled.",
            "{n} reminders addressed to them were cancelled.",
            cancelled,
        )
    ]
    owned = [
        i
        for i in await ctx.repo.all_numbered(PlanItem, case.id)
        if i.owner_id == user.id and ItemStatus(i.status).is_open
    ]
    if owned:
        lines.append(
            ngettext(
                "{name} owned {n} open plan item; please reassign it with !plan edit <n> owner <user>:",
                "{name} owned {n} open plan items; please reassign them with !plan edit <n> owner <user>:",
                len(owned),
                name=handle,
            )
        )
        lines.extend(f"- #{i.number} {i.text}" for i in owned)
    await ctx.reply("\n".join(lines))


async def close(ctx: Ctx, reason: str) -> None:
    case = ctx.require_case()
    case.status = CaseStatus.CLOSED
    case.closed_at = ctx.now
    case.close_reason = reason
    case.next_review_at = None
    cancelled = await ctx.repo.cancel_reminders(case.id)
    needs = await ctx.repo.all_numbered(Need, case.id)
    items = await ctx.repo.all_numbered(PlanItem, case.id)
    actions = await ctx.repo.count_actions(case.id)
    done = sum(1 for i in items if i.status == ItemStatus.DONE)
    still_open = sum(1 for i in items if ItemStatus(i.status).is_open)
    met = sum(1 for n in needs if n.met_at)

    def summary() -> str:
        return "\n".join(
            [
                _("Case {ref} is closed: {reason}", ref=case.ref, reason=reason),
                _(
                    "Opened {opened}, closed {closed}.",
                    opened=fmt_date(case.created_at),
                    closed=fmt_date(ctx.now),
                ),
                ngettext("{n} need recorded", "{n} needs recorded", len(needs))
                + ", "
                + _("{met} met", met=met),
                ngettext("{n} plan item", "{n} plan items", len(items))
                + ": "
                + _("{done} done, {open} left open", done=done, open=still_open),
                ngettext("{n} action logged", "{n} actions logged", actions),
                ngettext("{n} pending reminder cancelled", "{n} pending reminders cancelled", cancelled),
                _("The history stays readable here (!plan, !history)."),
            ]
        )

    await ctx.speaker.to_room(case, summary)
    # Members read the room from now on, and no longer write in it; its case managers still may, to reopen.
    await ctx.speaker.emit(Target(case_id=case.id), GuardRoom(read_only=True))


async def reopen(ctx: Ctx, reason: str) -> None:
    """A closed case is opened again (a new need, a closure too early): the room is writable again. The
    reminders cancelled at closing stay cancelled; the log keeps when and why it was reopened."""
    case = ctx.require_case()
    if case.status != CaseStatus.CLOSED:
        raise UserError(_("Case {ref} is open; there is nothing to reopen.", ref=case.ref))
    case.status = CaseStatus.OPEN
    case.closed_at = None
    case.close_reason = None
    await log_entry(ctx.repo, case.id, ctx.user.id, ctx.now, EntryKind.STATUS, text=reason, detail=REOPENED)
    await ctx.speaker.emit(Target(case_id=case.id), GuardRoom(read_only=False))
    await ctx.speaker.to_room(
        case,
        lambda: _(
            "Case {ref} is open again: {reason}. Everyone in the team can write here again. Reminders "
            "cancelled at closing stay cancelled; set them again where needed.",
            ref=case.ref,
            reason=reason,
        ),
    )


async def in_case(ctx: Ctx, ref: str | None, name: str, permission: Permission) -> Ctx:
    """The context of a case for a command that also works in the direct chat (what is personal belongs
    there, out of the room's sight): in a case room, that case; in the direct chat, the case named, or the
    sender's only open case. The sender's role and the case's state are checked as for a room command."""
    if ctx.case is not None:
        if ref is not None and ref != ctx.case.ref:
            raise UserError(
                _(
                    "This is the room of case {ref}; write about {other} in its room.",
                    ref=ctx.case.ref,
                    other=ref,
                )
            )
        return ctx
    if ref is not None:
        case = await ctx.repo.case_by_ref(ref)
        if case is None:  # the same answer as for a case one is not in: references are not to be probed
            raise Forbidden(_("You are not a member of case {ref}.", ref=ref))
    else:
        mine = [case for case, _member in await ctx.repo.cases_of(ctx.user.id)]
        if not mine:
            raise UserError(_("You are not in any open case."))
        if len(mine) > 1:
            raise UserError(
                _(
                    "You are in several cases ({refs}): say which one in the command (see !help {name}).",
                    refs=", ".join(c.ref for c in mine),
                    name=name,
                )
            )
        case = mine[0]
    ctx.about(case)
    room = replace(ctx, case=case, member=await ctx.repo.member(case.id, ctx.user.id))
    refused = refusal(room, name, permission)
    if refused is not None:
        raise Forbidden(refused)
    return room


async def open_invitation(ctx: Ctx, token: str) -> tuple[Case, Member] | None:
    """Someone opened an invitation link: bind the invited member to them, once. None when there is
    nothing more to do (they were in the case already: the invitation is used up and they are told)."""
    invitation = await ctx.repo.invitation(token_hash(token))
    member = await ctx.repo.session.get(Member, invitation.member_id) if invitation else None
    if (
        invitation is None
        or member is None
        or invitation.used_at is not None
        or invitation.expires_at <= ctx.now
        or member.state != MemberState.INVITED
    ):
        raise UserError(
            _(
                "This invitation link does not work: it was used already, it expired, or it is incomplete. "
                "Ask your case manager for a new one."
            )
        )
    case = await ctx.repo.case_by_id(invitation.case_id)
    ctx.about(case)
    if case.status != CaseStatus.OPEN:
        raise UserError(_("Case {ref} is closed: it can be read, not changed.", ref=case.ref))
    invitee = await ctx.repo.user_by_id(member.user_id)
    invitation.used_at = ctx.now
    existing = await ctx.repo.member(case.id, ctx.user.id)
    if existing is not None and existing.state != MemberState.LEFT:
        await end_membership(ctx.repo, case, member, ctx.now, removed=True, by=ctx.user.id)
        await ctx.reply(
            _(
                "You are a member of case {ref} already, as {role}; this invitation is not needed.",
                ref=case.ref,
                role=role_name(existing.role),
            )
        )
        return None
    name = invitee.display_name
    if existing is not None:  # a former member comes back: their row takes the new role
        existing.role, existing.organisation = member.role, member.organisation
        existing.state, existing.invited_by, existing.invited_at = (
            MemberState.INVITED,
            member.invited_by,
            ctx.now,
        )
        existing.joined_at = existing.left_at = None
        await ctx.repo.session.execute(
            update(Invitation).where(Invitation.member_id == member.id).values(member_id=existing.id)
        )
        await ctx.repo.session.delete(member)
        member = existing
    await ctx.repo.merge_user(invitee, ctx.user)
    if name:
        ctx.user.display_name = name  # the name the care team knows them by
    await audit.of_case(ctx.repo, case, audit.MEMBER_BOUND, ctx.now, ctx.user.id)
    return case, member


async def awaiting_join(ctx: Ctx) -> tuple[Case, Member] | None:
    """A case the sender was invited to by link and opened it, but has not joined yet (the language
    question expired, or the join link was lost): `/start` offers it again."""
    for case, member in await ctx.repo.cases_of(ctx.user.id):
        if member.state != MemberState.INVITED:
            continue
        invitation = await ctx.repo.invitation_of(member.id)
        if invitation is not None and invitation.used_at is not None and case.room_id is not None:
            return case, member
    return None
