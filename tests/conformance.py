"""One scenario, written once, that every adapter must pass: the console, Matrix, later Telegram."""

from __future__ import annotations

from typing import Protocol


class Driver(Protocol):
    def user(self, name: str) -> str:
        """The network user id of a person of the scenario ('bob' -> '@bob:localhost')."""

    async def open_case(self, label: str) -> None:
        """alice opens a case from her direct chat and is in its room when this returns."""

    async def command(self, who: str, text: str, expect: str) -> str:
        """`who` writes `text` in the case room; returns the bot's answer, which must contain `expect`."""

    async def invite(self, who: str, role: str) -> None:
        """alice invites `who` as `role`, the network's way, and `who` accepts and is in the room when this
        returns (Matrix: by user id, then joining; Telegram: a personal link, then a join request)."""

    async def greeted(self, who: str, expect: str) -> None:
        """`who` sees the bot's greeting, containing `expect`."""


async def care_team_scenario(d: Driver) -> None:
    await d.open_case("Mrs D at home")
    for name, role in (("bob", "professional"), ("dora", "person")):
        await d.invite(name, role)
        await d.greeted(name, f"You are here as {role}")
    # A carer sees the case only with the person's consent: refused until dora gives it, then invited.
    carol = d.user("carol")
    await d.command(
        "alice", f"!invite {carol} as carer", "needs the person's consent to share the case with carers"
    )
    await d.command("dora", "!consent give carers", "gave consent to sharing the case with carers")
    await d.invite("carol", "carer")
    await d.greeted("carol", "You are here as carer")
    bob = d.user("bob")
    await d.command("alice", "!need add health Diabetes follow-up", "Need 1 recorded (health)")
    await d.command(
        "alice", f"!plan add Insulin injections owner {bob} every day 8:00 need 1", "Plan item #1 added"
    )
    await d.command("bob", "!log #1 First visit, glucose fine", "Logged against plan item #1.")
    await d.command("carol", "!plan add Something", "As carer you cannot use !plan add.")
    await d.command(
        "dora", "!plan", f"#1 Insulin injections · owner: {bob} · every day at 08:00 · for need 1"
    )
    await d.command("alice", "!plan done 7", "There is no plan item #7 in this case.")
    await d.command("alice", "!remind me yesterday call the GP", "is in the past")
    # Kept as typed; each network escapes it when it renders (on Matrix, the HTML body is escaped).
    await d.command("alice", "!log BP <high>, <b>bold</b>", "Logged.")
    await d.command("carol", "!history", "BP <high>, <b>bold</b>")
    await d.command("alice", "!review every 3 months", "Reviews every 3 months")
    history = await d.command("carol", "!history", "First visit, glucose fine")
    assert bob in history
    await d.command("alice", "!close moved to a care home", "is closed: moved to a care home")
    await d.command("bob", "!log too late", "is closed: it can be read, not changed.")
