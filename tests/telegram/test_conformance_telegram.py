"""The conformance scenario, on Telegram: a group the case manager made, invitations by link."""

from __future__ import annotations

from tests.conformance import care_team_scenario
from tests.telegram.fake_api import FakeBotAPI
from tests.telegram.harness import GROUP, PEOPLE, LiveBot, invite_by_link, open_case_in_group, said


class TelegramDriver:
    def __init__(self, fake: FakeBotAPI) -> None:
        self.fake = fake

    def user(self, name: str) -> str:
        return name  # on Telegram people are named by the name they were invited by

    async def open_case(self, label: str) -> None:
        await open_case_in_group(self.fake, label)

    async def command(self, who: str, text: str, expect: str) -> str:
        return await said(self.fake, who, GROUP, "/" + text.removeprefix("!"), expect)

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
