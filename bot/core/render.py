"""Words and layouts shown to people: role, status and domain names, intervals, the service plan."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.model import CaseStatus, Interval, ItemStatus, NeedDomain, Role, Unit
from bot.i18n import N_, _, current, fmt_date, fmt_datetime, ngettext
from bot.storage.models import Case, Need, PlanItem, User

ROLE_NAMES = {
    Role.CASE_MANAGER: N_("case manager"),
    Role.PROFESSIONAL: N_("professional"),
    Role.PERSON: N_("person"),
    Role.CARER: N_("carer"),
    Role.OBSERVER: N_("observer"),
}

STATUS_NAMES = {
    ItemStatus.PLANNED: N_("planned"),
    ItemStatus.IN_PROGRESS: N_("in progress"),
    ItemStatus.BLOCKED: N_("blocked"),
    ItemStatus.DONE: N_("done"),
    ItemStatus.CANCELLED: N_("cancelled"),
}

DOMAIN_NAMES = {
    NeedDomain.HEALTH: N_("health"),
    NeedDomain.AUTONOMY: N_("autonomy"),
    NeedDomain.MENTAL_HEALTH: N_("mental health"),
    NeedDomain.SOCIAL: N_("social and family"),
    NeedDomain.HOUSING: N_("housing"),
    NeedDomain.FINANCES: N_("finances and rights"),
    NeedDomain.WORK_EDUCATION: N_("work and education"),
}


def role_name(role: Role | str) -> str:
    return _(ROLE_NAMES[Role(role)])


def status_name(status: ItemStatus | str) -> str:
    return _(STATUS_NAMES[ItemStatus(status)])


def domain_name(domain: NeedDomain | str) -> str:
    return _(DOMAIN_NAMES[NeedDomain(domain)])


def names(users: Sequence[User]) -> str:
    return ", ".join(u.name for u in users)


def describe_interval(interval: Interval) -> str:
    n = interval.count
    at = interval.at.strftime("%H:%M") if interval.at else None
    if interval.weekday is not None:
        weekday = str(current().locale.days["format"]["wide"][interval.weekday])
        return ngettext(
            "every {weekday} at {time}", "every {n} weeks on {weekday} at {time}", n, weekday=weekday, time=at
        )
    text = {
        Unit.DAY: ngettext("every day", "every {n} days", n),
        Unit.WEEK: ngettext("every week", "every {n} weeks", n),
        Unit.MONTH: ngettext("every month", "every {n} months", n),
        Unit.YEAR: ngettext("every year", "every {n} years", n),
    }[interval.unit]
    return _("{interval} at {time}", interval=text, time=at) if at else text


@dataclass(frozen=True)
class Owners:
    """The owners of a case's plan items, and which of them are still members."""

    users: dict[int, User]
    current: frozenset[int]


def item_line(
    item: PlanItem, owners: Owners, needs: dict[int, Need], now: datetime, numbered: bool = True
) -> str:
    parts = [f"#{item.number} {item.text}" if numbered else item.text]
    if item.owner_id is not None:
        name = owners.users[item.owner_id].name
        if item.owner_id in owners.current:
            parts.append(_("owner: {name}", name=name))
        else:
            parts.append(_("owner: {name} (no longer a member: reassign it)", name=name))
    if item.frequency:
        parts.append(describe_interval(Interval.decode(item.frequency)))
    if item.due_at is not None:
        if ItemStatus(item.status).is_open and item.due_at < now:
            parts.append(_("due {when} — OVERDUE", when=fmt_datetime(item.due_at)))
        else:
            parts.append(_("due {when}", when=fmt_datetime(item.due_at)))
        if ItemStatus(item.status).is_open and not item.due_followup:
            parts.append(_("no follow-up on the due day"))
    if item.need_id is not None and item.need_id in needs:
        parts.append(_("for need {n}", n=needs[item.need_id].number))
    return " · ".join(parts)


def render_plan(
    case: Case, needs: Sequence[Need], items: Sequence[PlanItem], owners: Owners, now: datetime
) -> str:
    lines = []
    if case.status == CaseStatus.CLOSED and case.closed_at is not None:
        lines.append(
            _(
                "CLOSED on {when}: {reason}. This plan can be read, not changed.",
                when=fmt_date(case.closed_at),
                reason=case.close_reason or "",
            )
        )
    lines.append(_("Service plan of {ref} · {label}", ref=case.ref, label=case.label))
    lines.append(_("Needs:"))
    if not needs:
        lines.append("  " + _("none recorded yet (!need add <domain> <text>)"))
    for need in needs:
        flag = _("met") if need.met_at else _("UNMET")
        lines.append(f"  {need.number}. [{domain_name(need.domain)}] {need.text} — {flag}")
    by_id = {n.id: n for n in needs}
    lines.append(_("Plan items:"))
    if not items:
        lines.append("  " + _("none yet (!plan add <text>)"))
    for status in ItemStatus:
        group = [i for i in items if i.status == status]
        if group:
            lines.append(f"  {status_name(status)}:")
            lines.extend("    " + item_line(i, owners, by_id, now) for i in group)
    if case.next_review_at is not None:
        lines.append(_("Next review: {when}", when=fmt_datetime(case.next_review_at)))
    elif case.status != CaseStatus.CLOSED:
        lines.append(_("No review scheduled (!review every <interval>)."))
    return "\n".join(lines)


def room_need(need: str) -> str:
    """What the bot lacks in a group (bot.domain.events.ROOM_NEEDS), for the case manager to fix. "alone"
    carries how many other people the group holds: "alone:3"."""
    name, _colon, count = need.partition(":")
    if name == "alone":
        n = int(count) if count.isdigit() else 0
        return ngettext(
            "a group that holds only you and me when it becomes a case room: {n} other person is in it "
            "and I cannot see who (Telegram does not tell bots); remove them, or create a new group",
            "a group that holds only you and me when it becomes a case room: {n} other people are in it "
            "and I cannot see who (Telegram does not tell bots); remove them, or create a new group",
            n,
        )
    texts = {
        "admin": _("to be an administrator of the group"),
        "invite": _("the right to invite users (for invitation links and join requests)"),
        "restrict": _(
            "the right to ban users (to remove members, and to set what members may do: add nobody, change "
            "nothing in the group, and no longer write once the case is closed)"
        ),
        "title": _("the right to change the group info (its name)"),
        "read": _("to see all messages (as an administrator, or with privacy mode off in BotFather)"),
    }
    return texts.get(need, need)


def room_setting(setting: str) -> str:
    """A protective setting of a case room (bot.domain.events.PROTECTED), as the case managers read it."""
    texts = {
        "invite": _("who may invite"),
        "join_rules": _("who may join (the join rules)"),
        "history_visibility": _("who may read the history"),
        "guest_access": _("guest access"),
        "power_levels": _("the members' rights (power levels)"),
        "encryption": _("the encryption"),
        "server_acl": _("which servers may take part (server access list)"),
        "tombstone": _("the room's replacement (an upgrade)"),
        "case_marker": _("the room's tie to its case"),
        "permissions": _("the members' permissions"),
    }
    return texts.get(setting, setting)
