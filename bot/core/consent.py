"""The person's consent to sharing their case, per scope (bot.domain.model.ConsentScope).

Decisions are appended, never changed: the latest row of a scope is its state, and no row means consent
was never given. Every invitation passes the gate here (`require_for_invitation`, called by
`cases.invite`), and a withdrawal takes effect in the same transaction as its record: the members it no
longer covers are removed as `!remove` removes them, the reminders it no longer allows are cancelled, and
the room is told.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select

from bot.core import cases
from bot.core.context import Ctx, UserError
from bot.domain.events import Kick, Target
from bot.domain.model import (
    ConsentScope,
    ItemStatus,
    MemberState,
    ReminderKind,
    ReminderStatus,
    Role,
    TargetKind,
)
from bot.i18n import _, ngettext
from bot.storage.models import Case, ConsentRecord, Member, PlanItem, User
from bot.storage.repo import Repo

# Roles that belong to an organisation: sharing with one outside the case managers' needs `team`.
ORGANISATION_ROLES = frozenset({Role.CASE_MANAGER, Role.PROFESSIONAL, Role.OBSERVER})
MAX_HOW = 200


def scope_name(scope: ConsentScope | str) -> str:
    """A scope as people read it, in the current language."""
    names = {
        ConsentScope.TEAM: _("sharing the case with professionals of other organisations (team)"),
        ConsentScope.CARERS: _("sharing the case with carers (carers)"),
        ConsentScope.REMINDERS: _("reminders sent to the person (reminders)"),
    }
    return names.get(ConsentScope(scope), str(scope))


def same_organisation(name: str | None) -> str | None:
    """An organisation's name as compared: trimmed, case aside; None when there is none."""
    if name is None:
        return None
    folded = " ".join(name.split()).casefold()
    return folded or None


# state -------------------------------------------------------------------------------------------


async def history(repo: Repo, case_id: int) -> list[tuple[ConsentRecord, User]]:
    """Every decision of the case, oldest first, with who recorded it."""
    rows = await repo.session.execute(
        select(ConsentRecord, User)
        .join(User, User.id == ConsentRecord.recorded_by)
        .where(ConsentRecord.case_id == case_id)
        .order_by(ConsentRecord.id)
    )
    return [(record, user) for record, user in rows]


async def current(repo: Repo, case_id: int) -> dict[ConsentScope, ConsentRecord | None]:
    """The latest decision of each scope (None: never recorded, so not given)."""
    state: dict[ConsentScope, ConsentRecord | None] = dict.fromkeys(ConsentScope)
    for record, _user in await history(repo, case_id):
        state[ConsentScope(record.scope)] = record
    return state


async def given(repo: Repo, case_id: int, scope: ConsentScope) -> bool:
    latest = (await current(repo, case_id))[scope]
    return latest is not None and latest.given


# organisations -----------------------------------------------------------------------------------


def _own_organisation(ctx: Ctx, member: Member | None) -> str | None:
    """The organisation a case manager works for: theirs, else the one the bot is set up for."""
    if member is not None and member.organisation:
        return member.organisation
    return ctx.services.settings.organisation


async def managers_organisations(ctx: Ctx, case: Case) -> set[str]:
    """The organisations of the case's current case managers, as compared."""
    found = set()
    for member, _user in await ctx.repo.members(case.id, Role.CASE_MANAGER):
        name = same_organisation(_own_organisation(ctx, member))
        if name is not None:
            found.add(name)
    return found


def inviter_organisation(ctx: Ctx) -> str | None:
    """Whom a professional invited without `from` is taken to work for: the inviting case manager's."""
    return _own_organisation(ctx, ctx.member)


async def require_for_invitation(ctx: Ctx, case: Case, role: Role, organisation: str | None) -> None:
    """Refuse, with what is missing and how to record it, an invitation the person has not consented to.

    A carer needs `carers`; a professional, observer or case manager from an organisation other than
    the case managers' needs `team` (when no organisation of theirs is known, any named one is other).
    The person needs nothing."""
    if role is Role.CARER:
        scope, why = (
            ConsentScope.CARERS,
            _("Inviting a carer needs the person's consent to share the case with carers."),
        )
    elif role in ORGANISATION_ROLES and organisation is not None:
        if same_organisation(organisation) in await managers_organisations(ctx, case):
            return
        scope = ConsentScope.TEAM
        why = _(
            "{organisation} is not the organisation of this case's case managers: inviting someone from it "
            "needs the person's consent to share the case with professionals of other organisations.",
            organisation=organisation,
        )
    else:
        return
    if await given(ctx.repo, case.id, scope):
        return
    raise UserError(
        why
        + " "
        + _(
            "It has not been given. The person can give it here with !consent give {scope}, or a case "
            "manager records it on their behalf with !consent record {scope} given <how> (for example: "
            "paper form signed). Nothing was changed.",
            scope=scope.value,
        )
    )


# reminders ---------------------------------------------------------------------------------------


async def persons(repo: Repo, case_id: int) -> list[User]:
    return [user for _m, user in await repo.members(case_id, Role.PERSON)]


async def require_for_reminder(
    repo: Repo, case: Case, creator: User, target_user: User | None, target_role: Role | None
) -> None:
    """A reminder someone sets for the person (or for `persons`) needs `reminders`; the person's own
    reminders to themselves need nothing."""
    if target_role is Role.PERSON:
        addressed = True
    elif target_user is not None and target_user.id != creator.id:
        addressed = any(p.id == target_user.id for p in await persons(repo, case.id))
    else:
        addressed = False
    if not addressed or await given(repo, case.id, ConsentScope.REMINDERS):
        return
    raise UserError(
        _(
            "The person has not agreed to receive reminders: I cannot send them this one. They can agree "
            "with !consent give reminders, or a case manager records it with !consent record reminders "
            "given <how>. Nothing was changed."
        )
    )


async def withheld(repo: Repo, case: Case, recipients: Sequence[User]) -> list[User]:
    """The recipients who are the case's person and have not agreed to receive reminders."""
    if await given(repo, case.id, ConsentScope.REMINDERS):
        return []
    ids = {p.id for p in await persons(repo, case.id)}
    return [user for user in recipients if user.id in ids]


# decisions ---------------------------------------------------------------------------------------


@dataclass
class Withdrawal:
    """What a withdrawal did, for the room."""

    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    cancelled: int = 0
    orphaned: list[PlanItem] = field(default_factory=list)


async def decide(ctx: Ctx, scope: ConsentScope, give: bool, how: str | None) -> None:
    """Record a decision (the person's own when `how` is None) and carry it out at once."""
    case = ctx.require_case()
    latest = (await current(ctx.repo, case.id))[scope]
    if (latest is not None and latest.given) == give:
        if give:
            raise UserError(
                _("Consent to {scope} is already given; nothing was changed.", scope=scope_name(scope))
            )
        raise UserError(
            _("Consent to {scope} is not given at the moment; nothing was changed.", scope=scope_name(scope))
        )
    await ctx.repo.add(
        ConsentRecord(
            case_id=case.id,
            scope=scope.value,
            given=give,
            how=how,
            recorded_by=ctx.user.id,
            recorded_at=ctx.now,
        )
    )
    done = Withdrawal() if give else await _withdraw(ctx, case, scope)
    recorder = ctx.user.name

    def told() -> str:
        return _announcement(scope, give, how, recorder, done)

    await ctx.speaker.to_room(case, told)


def _announcement(scope: ConsentScope, give: bool, how: str | None, recorder: str, done: Withdrawal) -> str:
    if how is None:
        head = (
            _("{name} gave consent to {scope}.", name=recorder, scope=scope_name(scope))
            if give
            else _("{name} withdrew consent to {scope}.", name=recorder, scope=scope_name(scope))
        )
    else:
        head = (
            _(
                "{name} recorded that the person gave consent to {scope}; how: {how}.",
                name=recorder,
                scope=scope_name(scope),
                how=how,
            )
            if give
            else _(
                "{name} recorded that the person withdrew consent to {scope}; how: {how}.",
                name=recorder,
                scope=scope_name(scope),
                how=how,
            )
        )
    lines = [head]
    if give:
        if scope is ConsentScope.REMINDERS:
            lines.append(_("Reminders may be sent to the person from now on."))
        else:
            lines.append(
                _(
                    "Invitations that need this consent are possible from now on. Nobody removed earlier is "
                    "invited back by it: invite them again with !invite if they should return."
                )
            )
        return "\n".join(lines)
    if scope is ConsentScope.REMINDERS:
        lines.append(
            ngettext(
                "{n} pending reminder to the person was cancelled.",
                "{n} pending reminders to the person were cancelled.",
                done.cancelled,
            )
            + " "
            + _(
                "From now on no reminder is sent to the person: follow-ups of their plan items go to the "
                "case managers instead. Reminders the person set for themselves stay."
            )
        )
        return "\n".join(lines)
    if done.removed:
        lines.append(
            ngettext(
                "No longer a member of this case: {names}.",
                "No longer members of this case: {names}.",
                len(done.removed),
                names=", ".join(done.removed),
            )
            + " "
            + ngettext(
                "{n} reminder addressed to them was cancelled.",
                "{n} reminders addressed to them were cancelled.",
                done.cancelled,
            )
        )
    else:
        lines.append(_("No member of the team depended on this consent; nobody was removed."))
    for name in done.kept:
        lines.append(
            _(
                "{name} stays for now, as the only case manager who has joined: invite another case manager, "
                "then remove {name} with !remove.",
                name=name,
            )
        )
    if done.orphaned:
        lines.append(_("Open plan items that need a new owner (!plan edit <n> owner <user>):"))
        lines.extend(f"- #{item.number} {item.text}" for item in done.orphaned)
    return "\n".join(lines)


async def _withdraw(ctx: Ctx, case: Case, scope: ConsentScope) -> Withdrawal:
    if scope is ConsentScope.REMINDERS:
        return Withdrawal(cancelled=await _cancel_reminders_to_person(ctx.repo, case))
    members = list(await ctx.repo.members(case.id))
    if scope is ConsentScope.CARERS:
        leaving = [(m, u) for m, u in members if m.role == Role.CARER]
    else:
        home = await _home_organisations(ctx, case)
        leaving = [
            (m, u) for m, u in members if Role(m.role) in ORGANISATION_ROLES and _is_other(ctx, m, home)
        ]
    done = Withdrawal()
    if any(m.role == Role.CASE_MANAGER for m, _u in leaving):
        going = {m.id for m, _u in leaving}
        staying = [
            m
            for m, _u in members
            if m.role == Role.CASE_MANAGER and m.state == MemberState.JOINED and m.id not in going
        ]
        joined = [(m, u) for m, u in leaving if m.role == Role.CASE_MANAGER and m.state == MemberState.JOINED]
        if not staying and joined:
            leaving.remove(joined[0])
            done.kept.append(joined[0][1].name)
    for member, user in leaving:
        done.cancelled += await cases.end_membership(
            ctx.repo, case, member, ctx.now, removed=True, by=ctx.user.id
        )
        if not user.handle.startswith(cases.INVITEE):  # an invitee who never opened the link is not there
            await ctx.speaker.emit(Target(case_id=case.id), Kick(user.handle))
        done.removed.append(user.name)
    gone = {u.id for _m, u in leaving}
    done.orphaned = [
        item
        for item in await ctx.repo.all_numbered(PlanItem, case.id)
        if item.owner_id in gone and ItemStatus(item.status).is_open
    ]
    return done


async def _home_organisations(ctx: Ctx, case: Case) -> set[str]:
    """The organisations that need no consent once `team` is withdrawn: the bot's, and that of the case
    manager who opened the case while they are one. Organisations that came in with a case manager
    invited under `team` consent are not among them."""
    home = {name} if (name := same_organisation(ctx.services.settings.organisation)) is not None else set()
    opener = await ctx.repo.member(case.id, case.created_by)
    if opener is not None and opener.state != MemberState.LEFT and opener.role == Role.CASE_MANAGER:
        folded = same_organisation(_own_organisation(ctx, opener))
        if folded is not None:
            home.add(folded)
    return home


def _is_other(ctx: Ctx, member: Member, home: set[str]) -> bool:
    """Whether a member works for an organisation the withdrawn `team` consent covered. A member without
    a recorded organisation came in without needing consent (a case manager's colleague)."""
    if member.role == Role.CASE_MANAGER:
        name = same_organisation(_own_organisation(ctx, member))
    else:
        name = same_organisation(member.organisation)
    return name is not None and name not in home


async def _cancel_reminders_to_person(repo: Repo, case: Case) -> int:
    """The pending reminders someone set for the person, or for `persons`; not the person's own."""
    ids = {p.id for p in await persons(repo, case.id)}
    cancelled = 0
    for reminder in await repo.pending_reminders(case.id):
        if reminder.kind != ReminderKind.REMINDER:
            continue  # follow-ups of their items go to the case managers when they fall due
        to_role = reminder.target_kind == TargetKind.ROLE and reminder.target_role == Role.PERSON
        to_them = (
            reminder.target_kind == TargetKind.USER
            and reminder.target_user_id in ids
            and reminder.created_by != reminder.target_user_id
        )
        if to_role or to_them:
            reminder.status = ReminderStatus.CANCELLED
            cancelled += 1
    await repo.session.flush()
    return cancelled


# reading -----------------------------------------------------------------------------------------


def describe(
    state: dict[ConsentScope, ConsentRecord | None],
    records: Sequence[tuple[ConsentRecord, User]],
    when: Callable[[ConsentRecord], str],
) -> str:
    """`!consent`: each scope's state, then the history (who, when, how), in the current language."""
    lines = [_("Consent of the person:")]
    for scope in ConsentScope:
        latest = state[scope]
        if latest is None:
            status = _("not given (never recorded)")
        elif latest.given:
            status = _("given")
        else:
            status = _("withdrawn")
        lines.append(f"- {scope.value}: {status} · {scope_name(scope)}")
    if not records:
        lines.append(
            _(
                "Nothing has been recorded yet. The person can give consent with !consent give <scope>; a "
                "case manager records it on their behalf with !consent record <scope> given <how>."
            )
        )
        return "\n".join(lines)
    lines.append(_("History:"))
    for record, user in records:
        decision = _("given") if record.given else _("withdrawn")
        how = record.how if record.how is not None else _("by the person, here")
        lines.append(f"- {when(record)} · {record.scope} · {decision} · {user.name} · {how}")
    return "\n".join(lines)


async def instead_note(repo: Repo, case: Case, owner: User) -> str | None:
    """What an answer that schedules a follow-up for `owner` adds when the owner is the person and has not
    agreed to receive reminders."""
    if not await withheld(repo, case, [owner]):
        return None
    return _(
        "{name} has not agreed to receive reminders: the case managers will be asked instead.",
        name=owner.name,
    )
