"""A case as one HTML page the person can read: in the case's language, every text from people escaped,
self-contained (inline CSS, no scripts, no images, nothing fetched from elsewhere). Call it under
`using(services.case_translator(case))`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from html import escape

from bot.core.fhir import SCOPE_NAMES, kind_name, reminder_payload
from bot.core.log import entry_text
from bot.core.reminders import describe_target, is_personal
from bot.core.render import describe_interval, domain_name, role_name, status_name
from bot.domain.model import CaseStatus, Interval
from bot.i18n import _, current, fmt_date, fmt_datetime
from bot.storage.exports import CaseRows

RTL = frozenset({"ar", "he", "fa", "ur"})
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; padding: 0 1em;
       color: #1d1d1f; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: start; vertical-align: top; padding: 0.3em 0.6em; border-bottom: 1px solid #eee; }
th { background: #f4f4f6; }
.muted { color: #666; }
.unmet { color: #a40000; font-weight: bold; }
"""


def _cell(value: str) -> str:
    return f"<td>{escape(value)}</td>"


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], empty: str) -> str:
    body = ["<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows]
    if not body:
        return f'<p class="muted">{escape(empty)}</p>'
    head = "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in headers) + "</tr>"
    return f"<table><thead>{head}</thead><tbody>{''.join(body)}</tbody></table>"


def _when(moment: datetime | None) -> str:
    return fmt_datetime(moment) if moment is not None else ""


def _day(moment: datetime | None) -> str:
    return fmt_date(moment) if moment is not None else ""


def summary(rows: CaseRows, now: datetime) -> str:
    case, users = rows.case, rows.users

    def name(user_id: int | None) -> str:
        user = users.get(user_id) if user_id is not None else None
        return user.name if user else ""

    status = _("open") if case.status == CaseStatus.OPEN else _("closed")
    facts = [
        _("Status: {status}", status=status),
        _("Opened on {when}", when=fmt_date(case.created_at)),
    ]
    if case.closed_at is not None:
        facts.append(
            _("Closed on {when}: {reason}", when=fmt_date(case.closed_at), reason=case.close_reason or "")
        )
    if case.next_review_at is not None:
        facts.append(_("Next review: {when}", when=fmt_datetime(case.next_review_at)))
    team = _table(
        [_("Name"), _("Role"), _("Organisation"), _("From"), _("Until")],
        (
            [
                name(m.user_id),
                role_name(m.role),
                m.organisation or "",
                _day(m.joined_at or m.invited_at),
                _day(m.left_at),
            ]
            for m in rows.members
        ),
        _("Nobody yet."),
    )
    needs = _table(
        [_("Need"), _("Domain"), _("Description"), _("State")],
        (
            [str(n.number), domain_name(n.domain), n.text, _("met") if n.met_at else _("UNMET")]
            for n in rows.needs
        ),
        _("No need recorded."),
    )
    need_numbers = {n.id: n.number for n in rows.needs}
    items = _table(
        [_("Item"), _("What"), _("Who"), _("Status"), _("Due"), _("How often"), _("For need")],
        (
            [
                f"#{i.number}",
                i.text,
                name(i.owner_id),
                status_name(i.status),
                _when(i.due_at),
                describe_interval(Interval.decode(i.frequency)) if i.frequency else "",
                str(need_numbers.get(i.need_id, "")) if i.need_id else "",
            ]
            for i in rows.items
        ),
        _("No plan item."),
    )
    item_numbers = {i.id: i.number for i in rows.items}
    entry_numbers = {e.id: e.number for e in rows.entries}
    log = _table(
        [_("No."), _("When"), _("Who"), _("Kind"), _("Item"), _("What")],
        (
            [
                str(e.number),
                _when(e.created_at),
                name(e.author_id),
                kind_name(e.kind),
                f"#{item_numbers[e.item_id]}" if e.item_id in item_numbers else "",
                entry_text(e, entry_numbers),
            ]
            for e in rows.entries
        ),
        _("Nothing logged."),
    )
    sent = _table(
        [_("No."), _("Last sent"), _("Times"), _("To"), _("What")],
        (
            [
                str(r.number),
                _when(r.last_fired_at),
                str(r.fired_count),
                describe_target(r, users),
                reminder_payload(r.text, is_personal(r)),
            ]
            for r in rows.reminders
            if r.fired_count
        ),
        _("No reminder sent yet."),
    )
    consents = _table(
        [_("When"), _("Sharing"), _("Decision"), _("Recorded by"), _("How")],
        (
            [
                _when(c.recorded_at),
                _(SCOPE_NAMES.get(c.scope, c.scope)),
                _("given") if c.given else _("withdrawn"),
                name(c.recorded_by),
                c.how or _("in the room, by the person"),
            ]
            for c in rows.consents
        ),
        _("No consent recorded."),
    )
    language = current().language
    direction = "rtl" if language.split("-")[0] in RTL else "ltr"
    title = _("Case {ref} · {label}", ref=case.ref, label=case.label)
    sections = [
        (_("Care team"), team),
        (_("Needs"), needs),
        (_("Service plan"), items),
        (_("Action log"), log),
        (_("Reminders sent"), sent),
        (_("Consent"), consents),
    ]
    body = "".join(f"<h2>{escape(heading)}</h2>{content}" for heading, content in sections)
    footer = _("Exported on {when} by caseroom.", when=fmt_datetime(now))
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(language)}" dir="{direction}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f"<p>{'<br>'.join(escape(fact) for fact in facts)}</p>"
        f"{body}"
        f'<p class="muted">{escape(footer)}</p>'
        "</body></html>\n"
    )
