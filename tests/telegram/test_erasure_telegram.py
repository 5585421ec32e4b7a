"""Erasing a closed case on Telegram, against the suite's fake Bot API: the bot deletes what it still may of
its messages (Telegram refuses after 48 hours), removes the members, and leaves the group."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable

from bot.core.erasure import erase_case
from bot.storage.repo import Repo
from tests.telegram.fake_api import FakeBotAPI
from tests.telegram.harness import GROUP, PEOPLE, LiveBot, invite_by_link, open_case_in_group, said

ALICE, BOB = PEOPLE["alice"], PEOPLE["bob"]


async def wait_until(check: Callable[[], bool], what: str, timeout: float = 15.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not the case after {timeout:.0f} s: {what}")
        await asyncio.sleep(0.05)


async def test_erasure_deletes_recent_messages_removes_members_and_leaves(
    fake: FakeBotAPI, live: LiveBot
) -> None:
    answer = await open_case_in_group(fake, "Mrs D at home")
    found = re.search(r"C-\d{4}-\d{4}", answer)
    assert found is not None, answer
    ref = found.group(0)
    await invite_by_link(fake, "bob", "professional")
    await wait_until(lambda: BOB in fake.members(GROUP), "bob joined the group")
    await said(fake, "alice", GROUP, "/plan add Home nurse visits owner bob", "#1")
    # What the bot said until now is more than two days old: Telegram no longer lets it go.
    old = [m["message_id"] for m in fake.sent(GROUP)]
    fake.age(GROUP, 49 * 3600)
    await said(fake, "alice", GROUP, "/close moved to a care home", "is closed")
    recent = [m["message_id"] for m in fake.sent(GROUP) if m["message_id"] not in old]
    assert recent and set(recent) <= set(fake.messages(GROUP))

    assert live.app is not None
    await live.app.flush()  # the last answer is recorded as sent, with its id
    async with live.app.sessions.begin() as session:
        done = await erase_case(Repo(session), ref, live.app.services.clock.now(), [str(ALICE)])
    assert done.redact == len(old) + len(recent)
    await live.app.flush()

    await wait_until(lambda: fake.member_status(GROUP, fake.bot_id) == "left", "the bot left the group")
    left = set(fake.messages(GROUP))
    assert not left & set(recent), "the recent messages of the bot are deleted"
    assert set(old) <= left, "the old ones stay: Telegram refuses to delete them"
    assert BOB not in fake.members(GROUP)
    assert fake.member_status(GROUP, BOB) == "left"  # removed, not banned for good
    assert fake.members(GROUP) == [ALICE]  # the group's owner cannot be removed
    deletions = fake.calls("deleteMessages")
    assert deletions and all(call["chat_id"] == GROUP for call in deletions)
