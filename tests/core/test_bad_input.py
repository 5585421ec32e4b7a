"""Bad input gets a clear answer in the sender's language, and changes nothing."""

from __future__ import annotations

import pytest

from tests.harness import Harness

CASES = [
    ("!frobnicate", "Unknown command “!frobnicate”"),
    ("!plan add", "The item text is missing."),
    ("!plan done", "Give the plan item number."),
    ("!plan done 42", "There is no plan item #42"),
    ("!plan done x3", "Expected a number such as 3 or #3 (plan item number), not “x3”."),
    ("!need add feelings sad", "Unknown domain “feelings”"),
    ("!need met 1 2", "I did not expect “2” here."),
    ("!invite bob", "Give the role."),
    ("!invite bob as", "“as” needs a value after it."),
    ("!invite bob as carer from", "needs a value after it"),
    ("!invite bob as boss", "Unknown role “boss”"),
    ("!invite b@d! as carer", "is not a user id"),
    ("!invite carol as carer", "carol is already a member of this case, as carer."),
    ("!plan add Visit owner nobody", "nobody is not a member of this case."),
    ("!plan add Visit due someday maybe", "I could not find a date or time at the start of “someday maybe”"),
    ("!plan add Call the GP due to pain", "I could not find a date or time at the start of “to pain”"),
    ("!plan add Visit owner bob owner carol due friday", "“owner” is given twice."),
    ('!plan add "Visit owner bob', "The quote that starts the text is not closed."),
    ("!plan add Visit due 31 february", "is not a day of that month"),
    ("!plan add Visit due 25:00", "is not an hour"),
    ("!plan add Visit due 9:60", "is not a minute"),
    ("!plan add Visit due 1/13/2027", "not a month"),
    ("!plan add Visit every ² days", "as an interval"),
    ("!remind me every ² days call", "I could not find a date or time"),
    ("!plan edit 1 colour red", "expected one of text, due, every, owner, need, followup"),
    ("!log fix", "Give the entry number."),
    ("!plan add Visit due yesterday", "is in the past"),
    ("!plan add Visit every now and then", "as an interval"),
    ("!plan add Visit need 7", "There is no need 7"),
    ("!plan add Visit owner bob owner carol", "“owner” is given twice."),
    ("!remind me", "Give the date or time."),
    ("!remind me soonish call", "I could not find a date or time"),
    ("!remind me 2020-01-01 9:00 call", "is in the past"),
    ("!remind strangers tomorrow 9:00 call", "is not a member of this case."),
    ("!followup #1 tomorrow", "There is no plan item #1"),
    ("!cancel 99", "There is no pending reminder 99."),
    ("!review every now and then", "as an interval"),
    ("!lang xx", "I do not speak “xx”."),
    ("!tz Mars/Olympus", "is not a time zone"),
    ("!tz ../../etc/passwd", "is not a time zone"),
    ("!close", "The reason for closing is missing."),
    ("!members everyone", "This command takes no arguments."),
    ("!log " + "x" * 20_000, "Your message is too long (20005 characters; at most 4000)"),
    ("!log a\x00b", "control characters"),
    ("!log \x1b[31mred", "control characters"),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:30] for c in CASES])
async def test_bad_input_is_answered_and_changes_nothing(harness: Harness, text: str, expected: str) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    before = await harness.snapshot()
    answer = await harness.one("alice", text, ref)
    assert expected in answer
    assert await harness.snapshot() == before


async def test_usage_errors_show_the_usage(harness: Harness) -> None:
    ref = await harness.open_case()
    answer = await harness.one("alice", "!plan add", ref)
    assert "Usage: !plan add <text> [owner <user>] [due <when>] [every <interval>] [need <n>]" in answer


async def test_markdown_is_kept_as_plain_text(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.one("alice", "!log **urgent** see [form](https://example.org)", ref)
    assert "**urgent** see [form](https://example.org)" in await harness.one("alice", "!history", ref)


async def test_bad_input_is_answered_in_the_senders_language(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.one("alice", "!lang fr", ref)
    answer = await harness.one("alice", "!plan done 42", ref)
    assert "#42" in answer and "There is no" not in answer


async def test_a_failed_command_in_a_dialog_keeps_the_dialog(harness: Harness) -> None:
    await harness.one("alice", "!case open")
    assert "too long" in await harness.one("alice", "x" * 200)
    assert "Which language" in await harness.one("alice", "Family K")
    answer = await harness.one("alice", "klingon")
    assert "I do not speak “klingon”" in answer
    assert "How often" in await harness.one("alice", "de")
