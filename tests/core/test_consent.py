"""The person's consent, on the console: the gates of every invitation, giving and recording it, its
history, and what a withdrawal does at once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.events import MemberLeft
from bot.storage import models
from tests.conftest import START
from tests.harness import Harness

NEEDS_CARERS = "needs the person's consent to share the case with carers"
NEEDS_TEAM = "needs the person's consent to share the case with professionals of other organisations"


async def members(h: Harness, ref: str) -> str:
    return await h.one("alice", "!members", ref)


async def kicked(h: Harness) -> list[str]:
    return [line for line in h.adapter.buffer.getvalue().splitlines() if "removed from the room" in line]


async def refused_unchanged(h: Harness, who: str, text: str, ref: str, expect: str) -> str:
    before = await h.snapshot()
    answer = await h.one(who, text, ref)
    assert expect in answer, answer
    assert await h.snapshot() == before
    return answer


async def test_inviting_a_carer_needs_carers_consent(harness: Harness) -> None:
    h = harness
    ref = await h.open_case()
    answer = await refused_unchanged(h, "alice", "!invite carol as carer", ref, NEEDS_CARERS)
    # The refusal says how to record what is missing.
    assert "!consent give carers" in answer and "!consent record carers given <how>" in answer
    assert "Nothing was changed." in answer
    assert "carol" not in await members(h, ref)
    # Consent to the other scopes does not cover carers.
    await h.consent(ref, "team", "reminders")
    await refused_unchanged(h, "alice", "!invite carol as carer", ref, NEEDS_CARERS)
    await h.consent(ref, "carers")
    assert (await h.say("alice", "!invite carol as carer", ref))[0].text == "I invited carol as carer."
    assert "carol · carer" in await members(h, ref)


async def test_the_person_needs_no_consent_to_be_invited(harness: Harness) -> None:
    h = harness
    ref = await h.open_case()
    answers = await h.say("alice", "!invite dora as person", ref)
    assert answers[0].text == "I invited dora as person."


async def test_another_organisation_needs_team_consent_whatever_the_role(harness: Harness) -> None:
    h = harness
    ref = await h.open_case()
    for line in (
        "!invite bob as professional from Home nursing",
        "!invite olga as observer from District council",
        "!invite zoe as case-manager from Social services",
    ):
        answer = await refused_unchanged(h, "alice", line, ref, NEEDS_TEAM)
        assert "!consent give team" in answer and "!consent record team given <how>" in answer
    # A professional without an organisation is a colleague of the case manager: no consent needed.
    assert (await h.say("alice", "!invite pat as professional", ref))[
        0
    ].text == "I invited pat as professional."
    await h.consent(ref, "team")
    await h.say("alice", "!invite bob as professional from Home nursing", ref)
    await h.say("alice", "!invite olga as observer from District council", ref)
    team = await members(h, ref)
    assert "bob · professional · Home nursing" in team and "olga · observer · District council" in team


async def test_the_case_managers_organisation_needs_no_consent(db_url: str) -> None:
    h = await Harness.create(db_url, START, **{"bot.organisation": "Hospital of Lausanne"})
    try:
        ref = await h.open_case()
        # Compared trimmed and case aside.
        answer = (await h.say("alice", "!invite bob as professional from  hospital of LAUSANNE ", ref))[0]
        assert answer.text.startswith("I invited bob as professional"), answer.text
        # Without `from`, a professional is recorded as working for the inviting case manager's organisation.
        await h.say("alice", "!invite pat as professional", ref)
        assert "pat · professional · Hospital of Lausanne" in await members(h, ref)
        await refused_unchanged(h, "alice", "!invite olga as observer from District council", ref, NEEDS_TEAM)
    finally:
        await h.close()


async def test_a_case_manager_s_own_organisation_counts(harness: Harness) -> None:
    """A case manager from another organisation came in with `team` consent; their colleagues need none
    more while they are a case manager here, and are recorded with their organisation."""
    h = harness
    ref = await h.open_case()
    await h.consent(ref, "team")
    await h.say("alice", "!invite zoe as case-manager from Social services", ref)
    answers = await h.say("zoe", "!invite sam as professional", ref)
    assert answers[0].text == "I invited sam as professional."
    assert "sam · professional · Social services" in await members(h, ref)


async def test_the_person_gives_and_withdraws_a_case_manager_records(harness: Harness) -> None:
    h = harness
    ref = await h.open_case()
    await h.team(ref)  # records team and carers on a paper form
    assert "dora gave consent to reminders sent to the person" in await h.one(
        "dora", "!consent give reminders", ref
    )
    # Recording the state it is in says so and changes nothing.
    await refused_unchanged(
        h, "dora", "!consent give reminders", ref, "is already given; nothing was changed"
    )
    await refused_unchanged(
        h, "alice", "!consent record carers given oral", ref, "is already given; nothing was changed"
    )
    h.clock.advance(timedelta(days=1))
    answer = await h.one("alice", "!consent record reminders withdrawn phone call with her daughter", ref)
    assert "alice recorded that the person withdrew consent to reminders" in answer
    assert "how: phone call with her daughter" in answer
    await refused_unchanged(
        h, "dora", "!consent withdraw reminders", ref, "is not given at the moment; nothing was changed"
    )
    # Everyone may read the state and its history: who, when, how; dates in the reader's zone (Paris).
    shown = await h.one("carol", "!consent", ref)
    assert "- team: given" in shown and "- carers: given" in shown and "- reminders: withdrawn" in shown
    history = shown.split("History:")[1].strip().splitlines()
    assert history == [
        "- Mon, Nov 23, 2026, 10:00 AM · team · given · alice · paper form signed",
        "- Mon, Nov 23, 2026, 10:00 AM · carers · given · alice · paper form signed",
        "- Mon, Nov 23, 2026, 10:00 AM · reminders · given · dora · by the person, here",
        "- Tue, Nov 24, 2026, 10:00 AM · reminders · withdrawn · alice · phone call with her daughter",
    ]
    # Nothing recorded yet reads as not given.
    other = await h.open_case("Mr E")
    assert "- team: not given (never recorded)" in await h.one("alice", "!consent", other)


@pytest.mark.parametrize(
    ("who", "text", "expect"),
    [
        ("alice", "!consent give team", "As case manager you cannot use !consent give."),
        ("bob", "!consent record team withdrawn oral", "As professional you cannot use !consent record."),
        ("carol", "!consent withdraw carers", "As carer you cannot use !consent withdraw."),
        ("dora", "!consent record team withdrawn oral", "As person you cannot use !consent record."),
        ("dora", "!consent withdraw everything", "“everything”: expected one of team, carers, reminders."),
        ("alice", "!consent record team maybe oral", "“maybe”: expected one of given, withdrawn."),
        ("alice", "!consent record team withdrawn", "is missing"),
        ("alice", "!consent record team withdrawn " + "x" * 201, "200"),
        ("alice", "!consent revoke team", "There is no “!consent revoke”."),
    ],
)
async def test_bad_consent_commands_change_nothing(
    harness: Harness, who: str, text: str, expect: str
) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    await refused_unchanged(harness, who, text, ref, expect)


async def test_withdrawing_carers_removes_every_carer_and_their_reminders(harness: Harness) -> None:
    h = harness
    ref = await h.open_case()
    await h.team(ref)
    await h.consent(ref, "carers")
    await h.say("alice", "!invite cleo as carer", ref)
    await h.one("alice", "!remind carol in 1 hour call the pharmacy", ref)
    await h.one("alice", "!remind bob in 1 hour call the GP", ref)
    await h.one("alice", "!plan add Shopping owner carol due in 2 days", ref)
    answer = await h.one("dora", "!consent withdraw carers", ref)
    assert "dora withdrew consent to sharing the case with carers" in answer
    assert "No longer members of this case: carol, cleo." in answer
    assert "2 reminders addressed to them were cancelled." in answer  # carol's reminder and her due day
    assert "#1 Shopping" in answer  # to be given a new owner
    assert await kicked(h) == [
        f"[{ref}] * carol removed from the room",
        f"[{ref}] * cleo removed from the room",
    ]
    team = await members(h, ref)
    assert "carol" not in team and "cleo" not in team and "bob" in team and "olga" in team
    fired = await h.advance(timedelta(hours=1))
    assert [m.text for m in fired] == ["bob: Reminder: call the GP"]
    # Giving it back re-invites nobody.
    back = await h.one("dora", "!consent give carers", ref)
    assert "Nobody removed earlier is invited back" in back
    assert "carol" not in await members(h, ref)
    assert await kicked(h) == [
        f"[{ref}] * carol removed from the room",
        f"[{ref}] * cleo removed from the room",
    ]


async def test_withdrawing_team_removes_the_other_organisations_only(db_url: str) -> None:
    h = await Harness.create(db_url, START, **{"bot.organisation": "Hospital"})
    try:
        ref = await h.open_case()
        await h.consent(ref, "team", "carers")
        await h.say("alice", "!invite pat as professional", ref)  # Hospital, as alice
        await h.say("alice", "!invite hugo as professional from hospital", ref)
        await h.say("alice", "!invite bob as professional from Home nursing", ref)
        await h.say("alice", "!invite olga as observer from District council", ref)
        await h.say("alice", "!invite zoe as case-manager from Social services", ref)
        await h.say("alice", "!invite carol as carer", ref)
        await h.say("alice", "!invite dora as person", ref)
        await h.one("alice", "!remind bob in 1 hour call the GP", ref)
        await h.one("alice", "!remind professionals in 1 hour team meeting", ref)
        answer = await h.one("dora", "!consent withdraw team", ref)
        assert "No longer members of this case: bob, olga, zoe." in answer
        assert "1 reminder addressed to them was cancelled." in answer
        assert [line.split("] ")[1] for line in await kicked(h)] == [
            "* bob removed from the room",
            "* olga removed from the room",
            "* zoe removed from the room",
        ]
        team = await members(h, ref)
        for name in ("alice", "pat", "hugo", "carol", "dora"):
            assert f"- {name} ·" in team
        # Role reminders now reach only who is left.
        fired = await h.advance(timedelta(hours=1))
        assert [m.text for m in fired] == ["pat, hugo: Reminder: team meeting"]
        # Inviting them again is refused as before the consent.
        await refused_unchanged(h, "alice", "!invite bob as professional from Home nursing", ref, NEEDS_TEAM)
    finally:
        await h.close()


async def test_withdrawing_team_never_removes_the_last_joined_case_manager(harness: Harness) -> None:
    h = harness
    ref = await h.open_case()
    await h.consent(ref, "team")
    await h.say("alice", "!invite zoe as case-manager from Social services", ref)
    await h.say("alice", "!invite dora as person", ref)
    # alice leaves; zoe, from another organisation, is the only case manager left.
    await h.event(MemberLeft("console", "left-1", ref, "alice"))
    answer = await h.one("dora", "!consent withdraw team", ref)
    assert "zoe stays for now, as the only case manager who has joined" in answer
    assert "zoe · case manager" in await h.one("zoe", "!members", ref)
    assert await kicked(h) == []


async def test_withdrawing_reminders_cancels_those_to_the_person_and_redirects_follow_ups(
    harness: Harness,
) -> None:
    h = harness
    ref = await h.open_case()
    await h.team(ref)
    # Without consent, nobody else can remind the person; the person can remind themselves.
    for line in ("!remind dora in 1 hour take the pills", "!remind persons in 1 hour take the pills"):
        await refused_unchanged(h, "alice", line, ref, "The person has not agreed to receive reminders")
    await h.one("dora", "!remind me in 3 hours water the plants", ref)
    await h.one("dora", "!consent give reminders", ref)
    await h.one("alice", "!remind dora in 1 hour take the pills", ref)
    await h.one("alice", "!remind persons in 2 hours check the blood sugar", ref)
    await h.one("alice", "!remind carol in 1 hour buy bread", ref)
    item = await h.one("alice", "!plan add Physiotherapy exercises owner dora due in 1 day", ref)
    assert "I will ask dora about it" in item and "case managers will be asked instead" not in item
    answer = await h.one("dora", "!consent withdraw reminders", ref)
    assert "2 pending reminders to the person were cancelled." in answer
    assert "follow-ups of their plan items go to the case managers instead" in answer
    pending = await h.one("alice", "!reminders", ref)
    assert "take the pills" not in pending and "blood sugar" not in pending
    assert "buy bread" in pending and "a personal reminder of dora's" in pending
    assert "due date of #1" in pending
    # From now on: refused again, with the reason; follow-ups say who is asked instead.
    await refused_unchanged(
        h, "alice", "!remind dora in 1 hour take the pills", ref, "has not agreed to receive reminders"
    )
    followup = await h.one("alice", "!followup #1 in 2 hours", ref)
    assert "dora has not agreed to receive reminders: the case managers will be asked instead." in followup
    assert [m.text for m in await h.advance(timedelta(hours=1))] == ["carol: Reminder: buy bread"]
    fired = await h.advance(timedelta(hours=1))
    assert [m.text for m in fired] == [
        "alice: a reminder for dora, who has not agreed to receive reminders, comes to you instead: "
        "Follow-up on plan item #1 “Physiotherapy exercises”: planned, Tue, Nov 24, 2026, 9:00 AM. "
        "Update it with !plan done 1 or !log #1 <what was done>."
    ]
    assert [m.mentions for m in fired] == [("alice",)]
    # Her own reminder stays hers.
    assert [m.mentions for m in await h.advance(timedelta(hours=1))] == [("dora",)]
    due_day = [m for m in await h.advance(timedelta(days=1)) if "Physiotherapy" in m.text]
    assert [m.mentions for m in due_day] == [("alice",)]


async def test_a_refused_withdrawal_leaves_the_room_alone(harness: Harness) -> None:
    h = harness
    ref = await h.open_case()
    await h.team(ref)
    before = await h.count(models.ConsentRecord)
    await h.one("alice", "!consent withdraw team", ref)
    assert await h.count(models.ConsentRecord) == before
    assert await kicked(h) == []
