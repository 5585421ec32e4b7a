"""The dispatcher's guarantees: a refused command undoes its writes; an event is handled once; a failing
event is quarantined and its sender told."""

from __future__ import annotations

from bot.commands.grammar import Values
from bot.commands.registry import Command, Registry
from bot.core.context import Ctx, UserError
from bot.core.permissions import ACTORS, Permission
from bot.domain.events import TextMessage
from bot.storage import models
from tests.harness import Harness


def _add_need_then(fail: BaseException) -> Command:
    async def run(ctx: Ctx, _v: Values) -> None:
        case = ctx.require_case()
        await ctx.repo.add(
            models.Need(
                case_id=case.id,
                number=99,
                domain="health",
                text="half-written",
                created_by=ctx.user.id,
                created_at=ctx.now,
            )
        )
        ctx.user.language = "de"
        await ctx.reply("this reply must vanish too")
        raise fail

    return Command("log", (), "", run, Permission(roles=ACTORS))


def _swap_registry(harness: Harness, command: Command) -> None:
    harness.app.dispatcher._registry = Registry([command])


async def test_user_error_undoes_what_the_handler_wrote(harness: Harness) -> None:
    ref = await harness.open_case()
    _swap_registry(harness, _add_need_then(UserError("refused")))
    before = await harness.snapshot()
    assert await harness.one("alice", "!log", ref) == "refused"
    assert await harness.snapshot() == before


async def test_a_crashing_event_is_retried_then_quarantined(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.say("alice", "!invite bob as professional", ref)
    _swap_registry(harness, _add_need_then(RuntimeError("bug")))
    before = await harness.snapshot()
    answers = await harness.say("bob", "!log", ref)
    assert len(answers) == 2 and "could not process your message" in answers[0].text
    assert answers[1].mentions == ("alice",) and "a command of bob could not be processed" in answers[1].text
    assert await harness.snapshot() == before
    async with harness.app.sessions() as session:
        rows = (await session.execute(models.InboxRow.__table__.select())).all()
    quarantined = [r for r in rows if r.status == "quarantined"]
    assert len(quarantined) == 1 and quarantined[0].attempts == 3


async def test_an_event_delivered_twice_is_handled_once(harness: Harness) -> None:
    ref = await harness.open_case()
    event = TextMessage("console", "same-id", ref, "alice", "!need add health Sleep", False)
    await harness.app.handle(event)
    await harness.app.handle(event)
    assert await harness.count(models.Need) == 1
