from __future__ import annotations

from tests.conformance import care_team_scenario
from tests.harness import Harness


class ConsoleDriver:
    def __init__(self, harness: Harness) -> None:
        self.h = harness
        self.room = ""
        self.greetings: list[str] = []

    def user(self, name: str) -> str:
        return name

    async def open_case(self, label: str) -> None:
        self.room = await self.h.open_case(label)

    async def command(self, who: str, text: str, expect: str) -> str:
        messages = await self.h.say(who, text, self.room)
        self.greetings.extend(m.text for m in messages if m.text.startswith("Welcome"))
        answers = [m.text for m in messages if expect in m.text]
        assert answers, (text, [m.text for m in messages])
        return answers[0]

    async def invite(self, who: str, role: str) -> None:
        # People in the console accept their invitations at once.
        await self.command("alice", f"!invite {who} as {role}", f"I invited {who} as {role}")

    async def greeted(self, who: str, expect: str) -> None:
        assert any(f"Welcome, {who}." in g and expect in g for g in self.greetings)


async def test_care_team_scenario_on_the_console(harness: Harness) -> None:
    await care_team_scenario(ConsoleDriver(harness))
