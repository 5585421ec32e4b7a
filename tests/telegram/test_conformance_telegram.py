"""The conformance scenario, on Telegram: a group the case manager made, invitations by link."""

from __future__ import annotations

import asyncio
import time

from tests.conformance import care_team_scenario
from tests.telegram.fake_api import FakeBotAPI, Refused
from tests.telegram.harness import GROUP, PEOPLE, LiveBot, invite_by_link, open_case_in_group, said


class TelegramDriver:
    def __init__(self, fake: FakeBotAPI) -> None:
        self.fake = fake

    def user(self, name: str) -> str:
        return name  # on Telegram people are named by the name they were invited by

    async def open_case(self, label: str) -> None:
        await open_case_in_group(self.fake, label)

    async def command(self, who: str, text: str, expect: str) -> str:
        # The scenario makes the bot write more than 20 messages in the group within a minute, Telegram's
        # limit for a group, which the bot keeps: the last answers may wait for the minute to pass.
        try:
            answer = await said(self.fake, who, GROUP, "/" + text.removeprefix("!"), expect, within=65)
        except Refused:
            # A closed case's group is read-only (the room guard): Telegram refuses the message in the
            # person's app, where the console's bot answers that the case is closed.
            assert "is closed" in expect and not self.fake.permissions(GROUP)["can_send_messages"]
            return expect
        if text.startswith("!close"):
            # The group turns read-only just after the closing summary: what follows is refused by
            # Telegram every time, not only when it comes late enough.
            deadline = time.monotonic() + 15
            while self.fake.permissions(GROUP)["can_send_messages"]:
                assert time.monotonic() < deadline, "the closed case's group did not become read-only"
                await asyncio.sleep(0.05)
        return answer

    async def invite(self, who: str, role: str) -> None:
        await invite_by_link(self.fake, who, role)

    async def greeted(self, who: str, expect: str) -> None:
        greeting = await self.fake.wait_for_sent(GROUP, f"Welcome, {who}.")
        assert expect in str(greeting["text"])
        # The greeting names the newcomer with a link to their account.
        assert any(
            e.get("type") == "text_mention" or "tg://user" in str(e.get("url")) for e in greeting["entities"]
        )


async def test_care_team_scenario_on_telegram(fake: FakeBotAPI, live: LiveBot) -> None:
    await care_team_scenario(TelegramDriver(fake))
    assert fake.title(GROUP).endswith("· Mrs D at home")
    assert sorted(fake.members(GROUP)) == sorted(PEOPLE[n] for n in ("alice", "bob", "carol", "dora"))
