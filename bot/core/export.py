"""Access and portability (GDPR arts. 15 and 20): a case as a FHIR Bundle, as caseroom's own JSON or as
an HTML summary the person can read; and everything the bot holds about one user.

The case's JSON document (`format: caseroom-case`, `version: 1`), all moments ISO 8601 in UTC:
- `case`: ref, label, status, language, opened_at, opened_by, closed_at, close_reason, review_interval,
  next_review_at;
- `members`: name, id (on the network), network, role, organisation, state, invited_at, joined_at, left_at;
- `needs`: number, domain, text, met_at, created_at, created_by;
- `plan_items`: number, text, owner, status, due_at, frequency, need (its number), follow_up_on_due_day,
  created_at, created_by, updated_at;
- `action_log`: number, at, author, kind, detail, text, item (its number), corrects (an entry's number),
  change ({before, after} of an edit);
- `reminders`: number, kind, status, to ({kind: user|role|room, member or role}), text (null for a
  personal reminder, which only its owner reads), item, due_at, interval, timezone, set_by, times_sent,
  last_sent_at;
- `consents`: scope, given, how, recorded_by, recorded_at.

A user's own document (`format: caseroom-personal`) is described at `personal_document`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.context import Services
from bot.core.export_html import summary
from bot.core.fhir import fhir_json
from bot.core.reminders import is_personal
from bot.domain.events import SendFile
from bot.domain.model import TargetKind
from bot.i18n import using
from bot.storage.exports import CaseRows, case_rows, user_rows
from bot.storage.models import Case, User
from bot.storage.repo import Repo

FORMATS = ("fhir", "json", "html")
# An invitation link opens the bot with "/start <token>" (Telegram): the token is a secret (whoever holds an
# unused one joins the case), so a message kept in the inbox gives it back only as "…".
_START = re.compile(r"^(\s*[/!]start(?:@\S+)?\s+)\S.*$", re.IGNORECASE | re.DOTALL)
_KINDS = {
    "fhir": ("fhir.json", "application/fhir+json"),
    "json": ("json", "application/json"),
    "html": ("html", "text/html"),
}


@dataclass(frozen=True)
class ExportFile:
    name: str
    mimetype: str
    data: bytes

    def effect(self, caption: str = "") -> SendFile:
        return SendFile(self.name, self.mimetype, base64.b64encode(self.data).decode("ascii"), caption)


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _dump(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


async def export_case(
    repo: Repo, services: Services, case: Case, fmt: str, now: datetime, exporter: User | None
) -> ExportFile:
    """The case in one of FORMATS, its texts in the case's language."""
    if fmt not in _KINDS:
        raise ValueError(f"unknown export format {fmt!r}")
    rows = await case_rows(repo, case)
    suffix, mimetype = _KINDS[fmt]

    def build() -> bytes:
        with using(services.case_translator(case)):
            if fmt == "fhir":
                return fhir_json(rows, now, exporter).encode("utf-8")
            if fmt == "html":
                return summary(rows, now).encode("utf-8")
            return _dump(case_document(rows, now))

    # Validating a large Bundle takes a while (half a second for 400 resources): in a thread of its own,
    # so the other rooms are not kept waiting. The rows are all loaded; nothing touches the session there.
    data = await asyncio.to_thread(build)
    return ExportFile(f"{case.ref}-{now.date().isoformat()}.{suffix}", mimetype, data)


def case_document(rows: CaseRows, now: datetime) -> dict[str, Any]:
    case, users = rows.case, rows.users

    def name(user_id: int | None) -> str | None:
        user = users.get(user_id) if user_id is not None else None
        return user.name if user else None

    items = {i.id: i.number for i in rows.items}
    needs = {n.id: n.number for n in rows.needs}
    entries = {e.id: e.number for e in rows.entries}
    return {
        "format": "caseroom-case",
        "version": 1,
        "exported_at": iso(now),
        "case": {
            "ref": case.ref,
            "label": case.label,
            "status": case.status,
            "language": case.language,
            "opened_at": iso(case.created_at),
            "opened_by": name(case.created_by),
            "closed_at": iso(case.closed_at),
            "close_reason": case.close_reason,
            "review_interval": case.review_interval,
            "next_review_at": iso(case.next_review_at),
        },
        "members": [
            {
                "name": name(m.user_id),
                "id": users[m.user_id].handle,
                "network": users[m.user_id].network,
                "role": m.role,
                "organisation": m.organisation,
                "state": m.state,
                "invited_at": iso(m.invited_at),
                "joined_at": iso(m.joined_at),
                "left_at": iso(m.left_at),
            }
            for m in rows.members
        ],
        "needs": [
            {
                "number": n.number,
                "domain": n.domain,
                "text": n.text,
                "met_at": iso(n.met_at),
                "created_at": iso(n.created_at),
                "created_by": name(n.created_by),
            }
            for n in rows.needs
        ],
        "plan_items": [
            {
                "number": i.number,
                "text": i.text,
                "owner": name(i.owner_id),
                "status": i.status,
                "due_at": iso(i.due_at),
                "frequency": i.frequency,
                "need": needs.get(i.need_id) if i.need_id else None,
                "follow_up_on_due_day": i.due_followup,
                "created_at": iso(i.created_at),
                "created_by": name(i.created_by),
                "updated_at": iso(i.updated_at),
            }
            for i in rows.items
        ],
        "action_log": [
            {
                "number": e.number,
                "at": iso(e.created_at),
                "author": name(e.author_id),
                "kind": e.kind,
                "detail": e.detail,
                "text": e.text,
                "item": items.get(e.item_id) if e.item_id else None,
                "corrects": entries.get(e.corrects_id) if e.corrects_id else None,
                "change": e.change,
            }
            for e in rows.entries
        ],
        "reminders": [
            {
                "number": r.number,
                "kind": r.kind,
                "status": r.status,
                "to": _target(r.target_kind, name(r.target_user_id), r.target_role),
                "text": None if is_personal(r) else r.text,
                "item": items.get(r.item_id) if r.item_id else None,
                "due_at": iso(r.due_at),
                "interval": r.interval,
                "timezone": r.timezone,
                "set_by": name(r.created_by),
                "times_sent": r.fired_count,
                "last_sent_at": iso(r.last_fired_at),
            }
            for r in rows.reminders
        ],
        "consents": [
            {
                "scope": c.scope,
                "given": c.given,
                "how": c.how,
                "recorded_by": name(c.recorded_by),
                "recorded_at": iso(c.recorded_at),
            }
            for c in rows.consents
        ],
    }


def _target(kind: str, member: str | None, role: str | None) -> dict[str, Any]:
    if kind == TargetKind.USER:
        return {"kind": kind, "member": member}
    if kind == TargetKind.ROLE:
        return {"kind": kind, "role": role}
    return {"kind": kind}


async def export_me(repo: Repo, user: User, now: datetime) -> ExportFile:
    document = await personal_document(repo, user, now)
    return ExportFile(f"caseroom-me-{now.date().isoformat()}.json", "application/json", _dump(document))


async def personal_document(repo: Repo, user: User, now: datetime) -> dict[str, Any]:
    """Everything the bot holds about `user`, and nothing about anyone else: cases by reference only,
    other people as "another member". Keys: `user` (network, id, name, language, timezone,
    direct_chat, first_seen), `memberships`, `plan_items_owned`, `action_log_entries_written`,
    `reminders` (addressed to them or set by them), `consents_recorded`, `dialogs` (in progress),
    `messages_kept` (what they sent, until purged; an invitation token in it left out) and `audit`
    (what they did, as the audit trail records it)."""
    rows = await user_rows(repo, user)
    mine = user.id

    def who(user_id: int | None) -> str | None:
        if user_id is None:
            return None
        return "you" if user_id == mine else "another member"

    return {
        "format": "caseroom-personal",
        "version": 1,
        "exported_at": iso(now),
        "user": {
            "network": user.network,
            "id": user.handle,
            "name": user.display_name,
            "language": user.language,
            "timezone": user.timezone,
            "direct_chat": user.direct_room_id,
            "first_seen": iso(user.created_at),
        },
        "memberships": [
            {
                "case": case.ref,
                "case_status": case.status,
                "role": m.role,
                "organisation": m.organisation,
                "state": m.state,
                "invited_at": iso(m.invited_at),
                "joined_at": iso(m.joined_at),
                "left_at": iso(m.left_at),
            }
            for m, case in rows.memberships
        ],
        "plan_items_owned": [
            {
                "case": case.ref,
                "number": i.number,
                "text": i.text,
                "status": i.status,
                "due_at": iso(i.due_at),
                "frequency": i.frequency,
                "created_at": iso(i.created_at),
                "updated_at": iso(i.updated_at),
            }
            for i, case in rows.items
        ],
        "action_log_entries_written": [
            {
                "case": case.ref,
                "number": e.number,
                "at": iso(e.created_at),
                "kind": e.kind,
                "detail": e.detail,
                "text": e.text,
            }
            for e, case in rows.entries
        ],
        "reminders": [
            {
                "case": case.ref,
                "number": r.number,
                "kind": r.kind,
                "status": r.status,
                "to": _target(r.target_kind, who(r.target_user_id), r.target_role),
                "set_by": who(r.created_by),
                "text": r.text,
                "due_at": iso(r.due_at),
                "interval": r.interval,
                "times_sent": r.fired_count,
                "last_sent_at": iso(r.last_fired_at),
            }
            for r, case in rows.reminders
        ],
        "consents_recorded": [
            {
                "case": case.ref,
                "scope": c.scope,
                "given": c.given,
                "how": c.how,
                "recorded_at": iso(c.recorded_at),
            }
            for c, case in rows.consents
        ],
        "dialogs": [
            {"name": d.name, "state": d.state, "answers": d.data, "expires_at": iso(d.expires_at)}
            for d in rows.dialogs
        ],
        "messages_kept": [
            {
                "received_at": iso(m.received_at),
                "type": m.payload.get("type"),
                "text": _without_secrets(m.payload.get("text")),
                "status": m.status,
            }
            for m in rows.messages
        ],
        "audit": [
            {"at": iso(a.at), "case": a.case_ref, "action": a.action, "outcome": a.outcome}
            for a in rows.audit
        ],
    }


def _without_secrets(text: object) -> object:
    return _START.sub(r"\1…", text) if isinstance(text, str) else text
