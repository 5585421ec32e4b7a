"""The person's consent on Telegram (the suite's fake Bot API): an invitation by link passes the same gate
as everywhere, and withdrawing consent takes carers out of the group at once (ban, then unban)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from tests.telegram.fake_api import FakeBotAPI
from tests.telegram.harness import (
    GROUP,
    PEOPLE,
    START,
    LiveBot,
    invite_by_link,
    open_case_in_group,
    record_consent,
    said,
)

ALICE, CAROL, EVE = PEOPLE["alice"], PEOPLE["carol"], PEOPLE["eve"]
NEEDS_CARERS = "needs the person's consent to share the case with carers"


def last(fake: FakeBotAPI, chat: int) -> int:
    return max((m["message_id"] for m in fake.sent(chat)), default=0)


async def settled(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not the case after 10 s: {what}")
        await asyncio.sleep(0.05)


async def test_inviting_a_carer_is_refused_without_consent_and_works_after(
    fake: FakeBotAPI, live: LiveBot
) -> None:
    await open_case_in_group(fake, "Mrs D at home")
    before = last(fake, ALICE)
    refused = await said(fake, "alice", GROUP, "/invite carol as carer", NEEDS_CARERS)
    assert "!consent give carers" in refused and "!consent record carers given <how>" in refused
    assert "Nothing was changed." in refused
    # No link was made: nothing reached alice's private chat, nobody can join.
    assert [m for m in fake.sent(ALICE) if m["message_id"] > before] == []
    assert "carol" not in await said(fake, "alice", GROUP, "/members", "Care team")
    # The person, once in the room, gives it herself; the same invitation then works.
    await invite_by_link(fake, "dora", "person")
    await fake.wait_for_sent(GROUP, "Welcome, dora.")
    await said(
        fake, "dora", GROUP, "/consent give carers", "dora gave consent to sharing the case with carers"
    )
    before = last(fake, ALICE)
    await said(fake, "alice", GROUP, "/invite carol as carer", "I invited carol as carer")
    await fake.wait_for_sent(ALICE, "Invitation for carol as carer", after=before)


async def test_withdrawing_carers_bans_then_unbans_a_joined_carer(fake: FakeBotAPI, live: LiveBot) -> None:
    await open_case_in_group(fake, "Mrs D at home")
    await invite_by_link(fake, "dora", "person")
    await fake.wait_for_sent(GROUP, "Welcome, dora.")
    await record_consent(fake, "carers")
    await invite_by_link(fake, "carol", "carer")
    await fake.wait_for_sent(GROUP, "Welcome, carol.")
    # eve is invited as a carer too, but never opens her link.
    before = last(fake, ALICE)
    await said(fake, "alice", GROUP, "/invite eve as carer", "I invited eve as carer")
    link = START.search(str((await fake.wait_for_sent(ALICE, "Invitation for eve", after=before))["text"]))
    assert link is not None
    assert CAROL in fake.members(GROUP)

    answer = await said(fake, "dora", GROUP, "/consent withdraw carers", "withdrew consent")
    assert "No longer members of this case: carol, eve." in answer
    ban = await fake.wait_for_call("banChatMember")
    unban = await fake.wait_for_call("unbanChatMember")
    assert (ban["chat_id"], ban["user_id"]) == (GROUP, CAROL)
    assert (unban["chat_id"], unban["user_id"]) == (GROUP, CAROL)
    await settled(lambda: fake.member_status(GROUP, CAROL) == "left", "carol out of the group, not banned")
    assert CAROL not in fake.members(GROUP)
    # Only carol was in the group: eve, who never came, is banned from nothing and her link is dead.
    assert [call["user_id"] for call in fake.calls("banChatMember")] == [CAROL]
    before = last(fake, EVE)
    fake.start(EVE, link.group(1))
    assert "does not work" in str((await fake.wait_for_sent(EVE, "does not work", after=before))["text"])
    team = await said(fake, "alice", GROUP, "/members", "Care team")
    assert "carol" not in team and "eve" not in team and "dora · person" in team
    # Inviting a carer is refused again.
    await said(fake, "alice", GROUP, "/invite carol as carer", NEEDS_CARERS)
