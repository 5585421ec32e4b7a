"""The individualized service plan: needs, plan items, the action log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.commands import args
from bot.commands.registry import Command
from bot.core import cases, plan
from bot.core.context import Ctx, UserError
from bot.core.render import domain_name, render_plan, status_name
from bot.domain.model import EntryKind, Interval, ItemStatus, NeedDomain
from bot.i18n import N_, _, fmt_datetime, ngettext
from bot.storage.models import ActionEntry, Need, PlanItem, User

HISTORY_LIMIT = 100


@dataclass(frozen=True)
class NeedArgs:
    domain: NeedDomain
    text: str


def parse_need_add(ctx: Ctx, rest: str) -> NeedArgs:
    words = rest.split(maxsplit=1)
    if len(words) < 2:
        raise args.UsageError(_("Give the domain and the need."))
    return NeedArgs(args.domain(words[0]), args.free_text(words[1], _("need")))


async def run_need_add(ctx: Ctx, a: NeedArgs) -> None:
    case = ctx.require_case()
    need = Need(
        case_id=case.id,
        number=await ctx.repo.next_number(Need, case.id),
        domain=a.domain,
        text=a.text,
        created_by=ctx.user.id,
        created_at=ctx.now,
    )
    await ctx.repo.add(need)
    await ctx.reply(
        _("Need {n} recorded ({domain}): {text}", n=need.number, domain=domain_name(a.domain), text=a.text)
    )


def parse_number(ctx: Ctx, rest: str) -> int:
    words = rest.split()
    if len(words) != 1:
        raise args.UsageError(_("Give one number."))
    return args.number(words[0], _("need"))


async def run_need_met(ctx: Ctx, number: int) -> None:
    case = ctx.require_case()
    need = await ctx.repo.numbered(Need, case.id, number)
    if need is None:
        raise UserError(_("There is no need {n} in this case. See !plan.", n=number))
    if need.met_at is not None:
        raise UserError(_("Need {n} is already marked as met.", n=number))
    need.met_at = ctx.now
    await ctx.reply(_("Need {n} is marked as met.", n=number))


async def owners_of(ctx: Ctx, items: list[PlanItem] | tuple[PlanItem, ...]) -> dict[int, User]:
    wanted = {i.owner_id for i in items if i.owner_id is not None}
    return {uid: await ctx.repo.user_by_id(uid) for uid in wanted}


async def run_plan(ctx: Ctx, _none: None) -> None:
    case = ctx.require_case()
    needs = list(await ctx.repo.all_numbered(Need, case.id))
    items = list(await ctx.repo.all_numbered(PlanItem, case.id))
    await ctx.reply(render_plan(case, needs, items, await owners_of(ctx, items), ctx.now))


@dataclass(frozen=True)
class ItemArgs:
    text: str
    owner: str | None
    due: datetime | None
    every: Interval | None
    need: int | None


def parse_plan_add(ctx: Ctx, rest: str) -> ItemArgs:
    head, options = args.split_keywords(rest, ("owner", "due", "every", "need"))
    text = args.free_text(head, _("item text"))
    owner = args.handle(ctx, options["owner"]) if "owner" in options else None
    due = args.when(ctx, options["due"]) if "due" in options else None
    every = args.interval(ctx, options["every"]) if "every" in options else None
    need = args.number(options["need"], _("need")) if "need" in options else None
    return ItemArgs(text, owner, due, every, need)


async def run_plan_add(ctx: Ctx, a: ItemArgs) -> None:
    case = ctx.require_case()
    owner = (await cases.member(ctx, a.owner))[0] if a.owner else None
    need_id = None
    if a.need is not None:
        need = await ctx.repo.numbered(Need, case.id, a.need)
        if need is None:
            raise UserError(_("There is no need {n} in this case. See !plan.", n=a.need))
        need_id = need.id
    item = PlanItem(
        case_id=case.id,
        number=await ctx.repo.next_number(PlanItem, case.id),
        text=a.text,
        owner_id=owner.id if owner else None,
        due_at=a.due,
        frequency=a.every.encode() if a.every else None,
        need_id=need_id,
        status=ItemStatus.PLANNED,
        created_by=ctx.user.id,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    await ctx.repo.add(item)
    await ctx.reply(_("Plan item #{n} added: {text}", n=item.number, text=item.text))


@dataclass(frozen=True)
class StatusArgs:
    number: int
    note: str


def parse_status(ctx: Ctx, rest: str) -> StatusArgs:
    words = rest.split(maxsplit=1)
    if not words:
        raise args.UsageError(_("Give the number of the plan item."))
    note = args.free_text(words[1], _("note")) if len(words) == 2 else ""
    return StatusArgs(args.number(words[0], _("plan item")), note)


def status_command(name: str, status: ItemStatus, summary: str) -> Command[StatusArgs]:
    async def run(ctx: Ctx, a: StatusArgs) -> None:
        cancelled = await plan.set_status(ctx, await plan.item(ctx, a.number), status, a.note)
        text = _("Plan item #{n} is now {status}.", n=a.number, status=status_name(status))
        if cancelled:
            text += " " + ngettext("{n} follow-up cancelled.", "{n} follow-ups cancelled.", cancelled)
        await ctx.reply(text)

    return Command(name, N_("<n> [note]"), summary, parse_status, run, writes=True)


@dataclass(frozen=True)
class LogArgs:
    item: int | None
    text: str


def parse_log(ctx: Ctx, rest: str) -> LogArgs:
    words = rest.split(maxsplit=1)
    item = None
    if words and words[0].startswith("#"):
        item = args.number(words[0], _("plan item"))
        rest = words[1] if len(words) == 2 else ""
    return LogArgs(item, args.free_text(rest, _("text of the action")))


async def run_log(ctx: Ctx, a: LogArgs) -> None:
    case = ctx.require_case()
    item_id = (await plan.item(ctx, a.item)).id if a.item is not None else None
    await ctx.repo.add(
        ActionEntry(
            case_id=case.id,
            item_id=item_id,
            author_id=ctx.user.id,
            kind=EntryKind.ACTION,
            detail=None,
            text=a.text,
            created_at=ctx.now,
        )
    )
    if a.item is not None:
        await ctx.reply(_("Logged against plan item #{n}.", n=a.item))
    else:
        await ctx.reply(_("Logged."))


def parse_history(ctx: Ctx, rest: str) -> int | None:
    words = rest.split()
    if len(words) > 1:
        raise args.UsageError(_("Give at most one plan item number."))
    return args.number(words[0], _("plan item")) if words else None


async def run_history(ctx: Ctx, number: int | None) -> None:
    case = ctx.require_case()
    item_id = (await plan.item(ctx, number)).id if number is not None else None
    entries = await ctx.repo.actions(case.id, item_id)
    if not entries:
        await ctx.reply(_("Nothing has been logged yet."))
        return
    numbers = {i.id: i.number for i in await ctx.repo.all_numbered(PlanItem, case.id)}
    lines = [_("Action log of {ref}, oldest first:", ref=case.ref)]
    if len(entries) > HISTORY_LIMIT:
        lines.append(_("(the {n} most recent of {total})", n=HISTORY_LIMIT, total=len(entries)))
        entries = entries[-HISTORY_LIMIT:]
    for entry, author in entries:
        about = f" · #{numbers[entry.item_id]}" if entry.item_id in numbers else ""
        if entry.kind == EntryKind.STATUS and entry.detail:
            what = _("set to {status}", status=status_name(entry.detail))
            what = f"{what}: {entry.text}" if entry.text else what
        elif entry.kind == EntryKind.ACK:
            what = _("acknowledged reminder {n}", n=entry.detail)
        elif entry.kind == EntryKind.REVIEW:
            what = _("review done")
            what = f"{what}: {entry.text}" if entry.text else what
        else:
            what = entry.text
        lines.append(f"{fmt_datetime(entry.created_at)} · {author.handle}{about} · {what}")
    await ctx.reply("\n".join(lines))


def commands() -> list[Command[Any]]:
    return [
        Command(
            "need add",
            N_("<domain> <text>"),
            N_(
                "Record a need. Domains: health, autonomy, mental-health, social, housing, finances, "
                "work-education."
            ),
            parse_need_add,
            run_need_add,
            writes=True,
        ),
        Command("need met", N_("<n>"), N_("Mark a need as met."), parse_number, run_need_met, writes=True),
        Command(
            "plan",
            "",
            N_("Show the service plan: needs, items by status, next review."),
            args.no_args,
            run_plan,
        ),
        Command(
            "plan add",
            N_("<text> [owner <user>] [due <when>] [every <interval>] [need <n>]"),
            N_("Add an item (a service or action) to the plan."),
            parse_plan_add,
            run_plan_add,
            writes=True,
        ),
        status_command("plan start", ItemStatus.IN_PROGRESS, N_("Mark a plan item as in progress.")),
        status_command("plan done", ItemStatus.DONE, N_("Mark a plan item as done.")),
        status_command("plan block", ItemStatus.BLOCKED, N_("Mark a plan item as blocked, with the reason.")),
        status_command("plan cancel", ItemStatus.CANCELLED, N_("Cancel a plan item.")),
        Command(
            "log",
            N_("[#n] <text>"),
            N_("Log what you did, optionally against a plan item."),
            parse_log,
            run_log,
            writes=True,
        ),
        Command("history", N_("[#n]"), N_("Show the action log, oldest first."), parse_history, run_history),
    ]
