"""A case as a FHIR R4B (4.3) Bundle of type "collection", built as plain resources and validated by
`fhir.resources` before it leaves.

"collection", not "document": the export hands a case's data over (portability), it is not a clinical
document attested by an author, which would need a Composition, sections and a signature. Every resource
gets a stable `urn:uuid:` (uuid5 of the case and the row), so two exports of the same data differ only in
their timestamps. Texts (roles, domains, statuses) are in the case's language: call it under
`using(services.case_translator(case))`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from bot.core.log import entry_text
from bot.core.reminders import is_personal
from bot.core.render import describe_interval, domain_name, role_name, status_name
from bot.domain.model import CaseStatus, EntryKind, Interval, ItemStatus, Role, TargetKind
from bot.i18n import N_, _, ngettext
from bot.storage.exports import CaseRows
from bot.storage.models import Member, User

Json = dict[str, Any]

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:caseroom:export")
# caseroom's own code systems (roles, need domains, log entry kinds, consent scopes).
SYSTEM = "urn:caseroom:fhir:"
TASK_STATUS = {
    ItemStatus.PLANNED: "ready",
    ItemStatus.IN_PROGRESS: "in-progress",
    ItemStatus.BLOCKED: "on-hold",
    ItemStatus.DONE: "completed",
    ItemStatus.CANCELLED: "cancelled",
}
ENTRY_KINDS: dict[str, str] = {
    EntryKind.ACTION: N_("action"),
    EntryKind.STATUS: N_("status change"),
    EntryKind.REVIEW: N_("review"),
    EntryKind.ACK: N_("acknowledgement"),
    EntryKind.EDIT: N_("edit"),
    EntryKind.CORRECTION: N_("correction"),
}
# Terminologies of FHIR R4/R4B (checked against hl7.org/fhir/R4B): Consent.category binds (extensibly) to
# the "Consent Category Codes" value set, which holds LOINC 59284-0 "Patient Consent" (no display here:
# LOINC's own name for it changed over versions, and a wrong display fails validation); Condition.category
# binds (extensibly) to condition-category, whose "problem-list-item" fits a need on the service plan.
# Task.status (R4 task-status): a planned item is "ready", a blocked one "on-hold".
LOINC = "http://loinc.org"
PATIENT_CONSENT = "59284-0"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
SCOPE_NAMES = {
    "team": N_("share the case with professionals of other organisations"),
    "carers": N_("share the case with carers"),
    "reminders": N_("send reminders to the person"),
}


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def concept(kind: str, code: str, text: str) -> Json:
    return {"coding": [{"system": SYSTEM + kind, "code": code}], "text": text}


def user_identifier(user: User) -> Json:
    return {"system": f"urn:caseroom:{user.network}:user", "value": user.handle}


@dataclass
class _Builder:
    rows: CaseRows
    now: datetime
    exporter: User | None
    entries: list[Json] = field(default_factory=list)
    people: dict[int, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)  # fullUrl -> resourceType

    numbers: dict[int, int] = field(init=False)

    def __post_init__(self) -> None:
        self.numbers = {entry.id: entry.number for entry in self.rows.entries}

    def url(self, kind: str, key: object) -> str:
        return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'{self.rows.case.id}/{kind}/{key}')}"

    def add(self, url: str, resource: Json) -> Json:
        resource["id"] = url.removeprefix("urn:uuid:")
        self.kinds[url] = resource["resourceType"]
        self.entries.append({"fullUrl": url, "resource": resource})
        return {"reference": url}

    def person(self, user_id: int | None) -> Json | None:
        """A reference to a member's resource; a name only for someone who never was a member."""
        if user_id is None:
            return None
        if user_id in self.people:
            return {"reference": self.people[user_id], "display": self.rows.users[user_id].name}
        user = self.rows.users.get(user_id)
        return {"display": user.name} if user else None

    # the people ------------------------------------------------------------------------------------
    def patient(self) -> Json:
        """The person, with only the name the room knows (no person in the team: the case's reference)."""
        person = next((m for m in self.rows.members if m.role == Role.PERSON), None)
        resource: Json = {"resourceType": "Patient", "identifier": [self._case_identifier()]}
        if person is not None:
            user = self.rows.users[person.user_id]
            resource["name"] = [{"text": user.name}]
            resource["identifier"].append(user_identifier(user))
        url = self.url("patient", person.id if person else "none")
        if person is not None:
            self.people[person.user_id] = url
        return self.add(url, resource)

    def _case_identifier(self) -> Json:
        return {"system": "urn:caseroom:case", "value": self.rows.case.ref}

    def organisations(self) -> dict[str, Json]:
        """The organisations members act for. Only a Practitioner can act on behalf of one in a CareTeam
        (invariant ctm-1), so a carer's or the person's organisation is said in words (`care_team`)."""
        names = sorted({m.organisation for m in self.rows.members if m.organisation and self._acts_for(m)})
        return {
            name: self.add(self.url("organization", name), {"resourceType": "Organization", "name": name})
            for name in names
        }

    def members(self, patient: Json) -> None:
        for member in self.rows.members:
            if member.user_id in self.people:
                continue
            user = self.rows.users[member.user_id]
            resource: Json = {"identifier": [user_identifier(user)], "name": [{"text": user.name}]}
            if not _practitioner(member):
                resource.update(
                    resourceType="RelatedPerson",
                    patient=patient,
                    relationship=[{"text": role_name(member.role)}],
                )
            else:
                resource["resourceType"] = "Practitioner"
            url = self.url("member", member.id)
            self.people[member.user_id] = url
            self.add(url, resource)

    def _acts_for(self, member: Member) -> bool:
        """Whether the member's resource is a Practitioner (call after `members`)."""
        return self.kinds.get(self.people.get(member.user_id, "")) == "Practitioner"

    def device(self) -> Json:
        return self.add(
            self.url("device", "caseroom"),
            {"resourceType": "Device", "deviceName": [{"name": "caseroom", "type": "user-friendly-name"}]},
        )

    def care_team(self, patient: Json, organisations: dict[str, Json]) -> Json:
        case = self.rows.case
        participants = []
        for member in self.rows.members:
            roles = [concept("role", member.role, role_name(member.role))]
            entry: Json = {"role": roles, "member": self.person(member.user_id), "period": _period(member)}
            if member.organisation and self._acts_for(member):
                entry["onBehalfOf"] = {**organisations[member.organisation], "display": member.organisation}
            elif member.organisation:
                roles.append({"text": _("for {organisation}", organisation=member.organisation)})
            participants.append(entry)
        return self.add(
            self.url("careteam", case.id),
            {
                "resourceType": "CareTeam",
                "identifier": [self._case_identifier()],
                "status": "active" if case.status == CaseStatus.OPEN else "inactive",
                "name": _("Care team of {ref}", ref=case.ref),
                "subject": patient,
                "period": {"start": iso(case.created_at), "end": iso(case.closed_at)},
                "participant": participants,
            },
        )

    # the plan --------------------------------------------------------------------------------------
    def needs(self, patient: Json) -> tuple[dict[int, Json], dict[int, Json]]:
        conditions: dict[int, Json] = {}
        goals: dict[int, Json] = {}
        for need in self.rows.needs:
            domain = concept("need-domain", need.domain, domain_name(need.domain))
            met = need.met_at is not None
            conditions[need.id] = self.add(
                self.url("condition", need.id),
                {
                    "resourceType": "Condition",
                    "clinicalStatus": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                "code": "resolved" if met else "active",
                            }
                        ]
                    },
                    "category": [
                        {"coding": [{"system": CONDITION_CATEGORY, "code": "problem-list-item"}]},
                        domain,
                    ],
                    "code": {"text": need.text},
                    "subject": patient,
                    "recordedDate": iso(need.created_at),
                    "recorder": self.person(need.created_by),
                    "abatementDateTime": iso(need.met_at),
                },
            )
            goals[need.id] = self.add(
                self.url("goal", need.id),
                {
                    "resourceType": "Goal",
                    "lifecycleStatus": "completed" if met else "active",
                    "achievementStatus": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/goal-achievement",
                                "code": "achieved" if met else "in-progress",
                            }
                        ]
                    },
                    "category": [domain],
                    "description": {"text": need.text},
                    "subject": patient,
                    "startDate": need.created_at.date().isoformat(),
                    "statusDate": need.met_at.date().isoformat() if need.met_at else None,
                    "addresses": [conditions[need.id]],
                },
            )
        return conditions, goals

    def tasks(self, patient: Json, plan_url: str, conditions: dict[int, Json]) -> dict[int, Json]:
        tasks: dict[int, Json] = {}
        for item in self.rows.items:
            notes = [
                {
                    "authorReference": self.person(entry.author_id),
                    "time": iso(entry.created_at),
                    "text": entry_text(entry, self.numbers),
                }
                for entry in self.rows.entries
                if entry.item_id == item.id
            ]
            if item.frequency:
                notes.insert(0, {"text": describe_interval(Interval.decode(item.frequency))})
            resource: Json = {
                "resourceType": "Task",
                "identifier": [
                    {"system": "urn:caseroom:plan-item", "value": f"{self.rows.case.ref}#{item.number}"}
                ],
                "basedOn": [{"reference": plan_url}],
                "status": TASK_STATUS[ItemStatus(item.status)],
                "businessStatus": {"text": status_name(item.status)},
                "intent": "plan",
                "description": item.text,
                "for": patient,
                "authoredOn": iso(item.created_at),
                "lastModified": iso(item.updated_at),
                "requester": self.person(item.created_by),
                "owner": self.person(item.owner_id),
                "reasonReference": conditions.get(item.need_id) if item.need_id else None,
                "note": notes or None,
            }
            if item.due_at is not None:
                resource["restriction"] = {"period": {"end": iso(item.due_at)}}
            tasks[item.id] = self.add(self.url("task", item.id), resource)
        return tasks

    def care_plan(
        self,
        patient: Json,
        team: Json,
        url: str,
        goals: dict[int, Json],
        conditions: dict[int, Json],
        tasks: dict[int, Json],
    ) -> None:
        case = self.rows.case
        self.add(
            url,
            {
                "resourceType": "CarePlan",
                "language": case.language,
                "identifier": [self._case_identifier()],
                "status": "active" if case.status == CaseStatus.OPEN else "completed",
                "intent": "plan",
                "title": _("Service plan of {ref} · {label}", ref=case.ref, label=case.label),
                "subject": patient,
                "period": {"start": iso(case.created_at), "end": iso(case.closed_at)},
                "created": iso(case.created_at),
                "author": self.person(case.created_by),
                "careTeam": [team],
                "addresses": list(conditions.values()) or None,
                "goal": list(goals.values()) or None,
                "activity": [{"reference": task} for task in tasks.values()] or None,
                "note": [{"text": case.close_reason}] if case.close_reason else None,
            },
        )

    # what happened ---------------------------------------------------------------------------------
    def communications(self, patient: Json, team: Json, tasks: dict[int, Json]) -> None:
        by_id = {entry.id: entry for entry in self.rows.entries}
        for entry in self.rows.entries:
            corrected = by_id.get(entry.corrects_id) if entry.corrects_id else None
            self.add(
                self.url("entry", entry.id),
                {
                    "resourceType": "Communication",
                    "identifier": [
                        {"system": "urn:caseroom:log-entry", "value": f"{self.rows.case.ref}/{entry.number}"}
                    ],
                    "status": "completed",
                    "category": [concept("log-entry", entry.kind, kind_name(entry.kind))],
                    "subject": patient,
                    "about": [tasks[entry.item_id]] if entry.item_id in tasks else None,
                    "inResponseTo": [{"reference": self.url("entry", corrected.id)}] if corrected else None,
                    "sent": iso(entry.created_at),
                    "sender": self.person(entry.author_id),
                    "recipient": [team],
                    "payload": [{"contentString": entry_text(entry, self.numbers)}],
                },
            )
        for reminder in self.rows.reminders:
            if not reminder.fired_count:
                continue
            self.add(
                self.url("reminder", reminder.id),
                {
                    "resourceType": "Communication",
                    "identifier": [
                        {
                            "system": "urn:caseroom:reminder",
                            "value": f"{self.rows.case.ref}/{reminder.number}",
                        }
                    ],
                    "status": "completed",
                    "category": [concept("reminder", reminder.kind, _("reminder"))],
                    "subject": patient,
                    "about": [tasks[reminder.item_id]] if reminder.item_id in tasks else None,
                    "sent": iso(reminder.last_fired_at),
                    "sender": {"reference": self.url("device", "caseroom"), "display": "caseroom"},
                    "recipient": self._recipients(
                        reminder.target_kind, reminder.target_user_id, reminder.target_role, team
                    ),
                    "payload": [{"contentString": reminder_payload(reminder.text, is_personal(reminder))}],
                    "note": [{"text": ngettext("Sent once.", "Sent {n} times.", reminder.fired_count)}],
                },
            )

    def _recipients(self, kind: str, user_id: int | None, role: str | None, team: Json) -> list[Json]:
        if kind == TargetKind.USER:
            found = self.person(user_id)
            return [found] if found else [team]
        if kind == TargetKind.ROLE and role:
            people = [self.person(m.user_id) for m in self.rows.members if m.role == role]
            return [p for p in people if p] or [team]
        return [team]

    def consents(self, patient: Json) -> None:
        """One Consent per decision, the latest of each scope active. The person is the grantor (performer);
        a case manager who recorded it on their behalf (how they gave it: `sourceAttachment`) is named
        after them. The decision is the base rule, opt-in or opt-out (v3 ActCode OPTIN/OPTOUT, as in the
        R4 Consent examples), and its provision permits or denies."""
        latest = {record.scope: record.id for record in self.rows.consents}
        for record in self.rows.consents:
            scope_text = _(SCOPE_NAMES.get(record.scope, record.scope))
            performers = [patient]
            recorder = self.person(record.recorded_by)
            if recorder is not None and recorder.get("reference") != patient["reference"]:
                performers.append(recorder)
            resource: Json = {
                "resourceType": "Consent",
                "status": "active" if latest[record.scope] == record.id else "inactive",
                "scope": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                            "code": "patient-privacy",
                        }
                    ]
                },
                "category": [
                    {"coding": [{"system": LOINC, "code": PATIENT_CONSENT}]},
                    concept("consent-scope", record.scope, scope_text),
                ],
                "patient": patient,
                "dateTime": iso(record.recorded_at),
                "performer": performers,
                "policyRule": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                            "code": "OPTIN" if record.given else "OPTOUT",
                        }
                    ],
                    "text": _("given") if record.given else _("withdrawn"),
                },
                "provision": {"type": "permit" if record.given else "deny"},
            }
            if record.how:
                resource["sourceAttachment"] = {"contentType": "text/plain", "title": record.how}
            self.add(self.url("consent", record.id), resource)

    def provenance(self, device: Json) -> None:
        targets = [{"reference": entry["fullUrl"]} for entry in self.entries]
        agents: list[Json] = []
        if self.exporter is not None:
            who = self.person(self.exporter.id) or {"display": self.exporter.name}
            # Who carried the export out ("performer"), not "author": they did not write what it holds.
            agents.append({"type": _participant("performer"), "who": who})
        agents.append({"type": _participant("assembler"), "who": device})
        self.add(
            self.url("provenance", "export"),
            {
                "resourceType": "Provenance",
                "target": targets,
                "recorded": iso(self.now),
                "activity": {"text": _("export of case {ref}", ref=self.rows.case.ref)},
                "agent": agents,
            },
        )


def _participant(code: str) -> Json:
    return {
        "coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code": code}
        ]
    }


def _practitioner(member: Member) -> bool:
    """Professionals, case managers and observers act for an organisation; carers and the person do not."""
    return member.role not in (Role.CARER, Role.PERSON)


def _period(member: Member) -> Json:
    return {"start": iso(member.joined_at or member.invited_at), "end": iso(member.left_at)}


def reminder_payload(text: str | None, personal: bool) -> str:
    """A personal reminder's text is its owner's alone: the case's export says only that it exists."""
    if personal:
        return _("a personal reminder")
    return text or _("reminder")


def kind_name(kind: str) -> str:
    """An action log entry's kind, in words (a kind this module does not know yet, as it is stored)."""
    return _(ENTRY_KINDS[kind]) if kind in ENTRY_KINDS else kind


def _clean(value: Any) -> Any:
    """Drop empty fields: FHIR allows no nulls, empty lists or empty objects."""
    if isinstance(value, dict):
        cleaned = {k: _clean(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [c for c in (_clean(v) for v in value) if c not in (None, [], {})]
    return value


def bundle(rows: CaseRows, now: datetime, exporter: User | None) -> Bundle:
    """The case as a validated Bundle (raises pydantic's ValidationError if a resource is wrong)."""
    builder = _Builder(rows, now, exporter)
    patient = builder.patient()
    builder.members(patient)
    organisations = builder.organisations()
    device = builder.device()
    team = builder.care_team(patient, organisations)
    plan_url = builder.url("careplan", rows.case.id)
    conditions, goals = builder.needs(patient)
    tasks = builder.tasks(patient, plan_url, conditions)
    builder.care_plan(patient, team, plan_url, goals, conditions, tasks)
    builder.communications(patient, team, tasks)
    builder.consents(patient)
    builder.provenance(device)
    document = {
        "resourceType": "Bundle",
        "id": builder.url("bundle", "export").removeprefix("urn:uuid:"),
        "type": "collection",
        "timestamp": iso(now),
        "entry": builder.entries,
    }
    return Bundle.model_validate(_clean(document))


def fhir_json(rows: CaseRows, now: datetime, exporter: User | None) -> str:
    return bundle(rows, now, exporter).model_dump_json(indent=2)
