from __future__ import annotations

import asyncio
import time

from nio import RoomSendError

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
        response = await person.client.room_send(
            self.room, "m.room.message", {"msgtype": "m.text", "body": text}, ignore_unverified_devices=True
        )
        if isinstance(response, RoomSendError):
            # A closed case's room is read-only (the room guard): the homeserver refuses a member's message,
            # where the console's bot answers that the case is closed.
            levels = await person.client.room_get_state_event(self.room, "m.room.power_levels")
            assert "is closed" in expect and response.status_code == "M_FORBIDDEN", response
            assert getattr(levels, "content", {}).get("events_default") == 50, levels
            return expect
        answer = (await person.answer(self.bot.user_id, self.room, expect, after=before)).body
        if text.startswith("!close"):
            # The room turns read-only just after the closing summary: what follows is refused every time.
            async def read_only() -> bool:
                levels = await person.client.room_get_state_event(self.room, "m.room.power_levels")
                return bool(getattr(levels, "content", {}).get("events_default") == 50)

            deadline = time.monotonic() + 15
            while not await read_only():
                assert time.monotonic() < deadline, "the closed case's room did not become read-only"
                await asyncio.sleep(0.2)
        return answer

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
