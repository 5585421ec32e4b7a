from __future__ import annotations

from tests.conformance import care_team_scenario
from tests.e2e.conftest import Bot, Team
from tests.e2e.people import Person


class MatrixDriver:
    def __init__(self, team: Team, people: dict[str, Person], bot: Bot) -> None:
        self.team = team
        self.people = people
        self.bot = bot
        self.room = ""

    def user(self, name: str) -> str:
        return self.people[name].user_id

    async def open_case(self, label: str) -> None:
        alice = self.people["alice"]
        dm = await alice.chat_with(self.bot.user_id)
        await alice.say(dm, f"!case open {label}")
        opened = await alice.answer(self.bot.user_id, dm, "is open", within=60)
        self.room = opened.body.rsplit("https://matrix.to/#/", 1)[1].strip()
        await alice.join_invite(self.room)

    async def command(self, who: str, text: str, expect: str) -> str:
        person = self.people[who]
        before = len(person.from_bot(self.bot.user_id, self.room))
        await person.say(self.room, text)
        return (await person.answer(self.bot.user_id, self.room, expect, after=before)).body

    async def invite(self, who: str, role: str) -> None:
        user = self.user(who)
        await self.command("alice", f"!invite {user} as {role}", f"I invited {user} as {role}")
        await self.people[who].join_invite(self.room)

    async def greeted(self, who: str, expect: str) -> None:
        greeting = await self.people[who].answer(self.bot.user_id, self.room, f"Welcome, {self.user(who)}.")
        assert expect in greeting.body


async def test_care_team_scenario_on_matrix(team: Team) -> None:
    people = {name: await team.person(name) for name in ("alice", "bob", "carol", "dora")}
    bot = team.bot([people["alice"].user_id])
    bot.start()
    await care_team_scenario(MatrixDriver(team, people, bot))
