"""The individualized service plan: needs, plan items, the action log."""

from __future__ import annotations

from datetime import datetime

from bot.commands.grammar import Kind, Param, Values
from bot.commands.registry import Command
from bot.core import args, consent, plan
from bot.core.context import Ctx, UserError
from bot.core.log import entry_text, log_entry
from bot.core.permissions import ACTORS, ALL, ANY_STATE, CM, TEAM, Permission
from bot.core.render import Owners, domain_name, item_line, render_plan, status_name
from bot.domain.model import EntryKind, Interval, ItemStatus, Role
from bot.i18n import N_, _, fmt_datetime, ngettext
from bot.storage.models import ActionEntry, Need, PlanItem

HISTORY_LIMIT = 100
EDITABLE = ("text", "due", "every", "owner", "need", "followup")
NONE_WORDS = ("none", "-")

ITEM = Param(N_("n"), Kind.NUMBER, N_("plan item number"))
NEED = Param(N_("n"), Kind.NUMBER, N_("need number"))
NOTE = Param(N_("note"), Kind.TEXT, N_("note"), optional=True)
# `#3` before a log entry or after !history: the item it is about.
ABOUT_ITEM = Param(N_("n"), Kind.NUMBER, N_("plan item number"), optional=True, hashed=True, key="item")


async def run_need_add(ctx: Ctx, v: Values) -> None:
    case = ctx.require_case()
    need = Need(
        case_id=case.id,
        number=await ctx.repo.next_number(Need, case.id),
        domain=v.of("domain", str),
        text=v.of("text", str),
        created_by=ctx.user.id,
        created_at=ctx.now,
    )
    await ctx.repo.add(need)
    await ctx.reply(
        _(
            "Need {n} recorded ({domain}): “{text}”",
            n=need.number,
            domain=domain_name(need.domain),
            text=need.text,
        )
    )


async def run_need_met(ctx: Ctx, v: Values) -> None:
    need = await plan.need(ctx, v.of("n", int))
    if need.met_at is not None:
        raise UserError(_("Need {n} is already marked as met.", n=need.number))
    need.met_at = ctx.now
    await plan.log_change(ctx, None, f"need {need.number}", "unmet", "met")
    await ctx.reply(_("Need {n} is marked as met.", n=need.number))


async def run_need_unmet(ctx: Ctx, v: Values) -> None:
    need = await plan.need(ctx, v.of("n", int))
    if need.met_at is None:
        raise UserError(_("Need {n} is not marked as met.", n=need.number))
    need.met_at = None
    await plan.log_change(ctx, None, f"need {need.number}", "met", "unmet")
    await ctx.reply(_("Need {n} is unmet again.", n=need.number))


async def owners_of(ctx: Ctx, items: list[PlanItem] | tuple[PlanItem, ...]) -> Owners:
    wanted = {i.owner_id for i in items if i.owner_id is not None}
    current = {m.user_id for m, _u in await ctx.repo.members(ctx.require_case().id)}
    return Owners({uid: await ctx.repo.user_by_id(uid) for uid in wanted}, frozenset(current & wanted))


async def run_plan(ctx: Ctx, _v: Values) -> None:
    case = ctx.require_case()
    needs = list(await ctx.repo.all_numbered(Need, case.id))
    items = list(await ctx.repo.all_numbered(PlanItem, case.id))
    await ctx.reply(render_plan(case, needs, items, await owners_of(ctx, items), ctx.now))


async def _describe(ctx: Ctx, item: PlanItem, numbered: bool = True) -> str:
    needs = {n.id: n for n in await ctx.repo.all_numbered(Need, item.case_id)}
    return item_line(item, await owners_of(ctx, [item]), needs, ctx.now, numbered)


async def run_plan_add(ctx: Ctx, v: Values) -> None:
    case = ctx.require_case()
    handle = v.opt("owner", str)
    owner = await plan.owner(ctx, handle) if handle else None
    need_id = None
    if (number := v.opt("need", int)) is not None:
        need_id = (await plan.need(ctx, number)).id
    every = v.opt("every", Interval)
    item = PlanItem(
        case_id=case.id,
        number=await ctx.repo.next_number(PlanItem, case.id),
        text=v.of("text", str),
        owner_id=owner.id if owner else None,
        due_at=v.opt("due", datetime),
        frequency=every.encode() if every else None,
        need_id=need_id,
        status=ItemStatus.PLANNED,
        due_followup=True,
        created_by=ctx.user.id,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    await ctx.repo.add(item)
    lines = [
        _("Plan item #{n} added: {item}", n=item.number, item=await _describe(ctx, item, numbered=False))
    ]
    if await plan.schedule_due_followup(ctx, item):
        assert item.due_at is not None and owner is not None
        lines.append(
            _(
                "On {when} I will ask {name} about it, unless it is done.",
                when=fmt_datetime(item.due_at),
                name=owner.name,
            )
        )
        if (note := await consent.instead_note(ctx.repo, case, owner)) is not None:
            lines.append(note)
    elif item.due_at is not None and owner is None:
        lines.append(_("It has no owner, so nobody will be asked about it on the due day."))
    if every is not None:
        lines.append(_("A frequency describes the service; it sets no reminder (use !remind for that)."))
    await ctx.reply("\n".join(lines))


def _none(value: str) -> bool:
    return value.strip().lower() in NONE_WORDS or value.strip().lower() == _("none").lower()


async def run_plan_edit(ctx: Ctx, v: Values) -> None:
    item = await plan.item(ctx, v.of("n", int))
    field, raw = v.of("field", str), v.of("value", str)
    before: object
    after: object
    if field == "text":
        before, after = item.text, args.free_text(raw, _("item text"))
        item.text = after
    elif field == "due":
        before, after = item.due_at, None if _none(raw) else args.when(ctx, raw)
        item.due_at = after
    elif field == "every":
        interval = None if _none(raw) else args.interval(ctx, raw)
        before, after = item.frequency, interval.encode() if interval else None
        item.frequency = after
    elif field == "owner":
        user = None if _none(raw) else await plan.owner(ctx, args.handle(ctx, raw))
        previous = await ctx.repo.user_by_id(item.owner_id) if item.owner_id else None
        before, after = previous.name if previous else None, user.name if user else None
        item.owner_id = user.id if user else None
    elif field == "need":
        need = None if _none(raw) else await plan.need(ctx, args.number(raw, _("need")))
        old = await ctx.repo.need_by_id(item.need_id) if item.need_id else None
        before, after = old.number if old else None, need.number if need else None
        item.need_id = need.id if need else None
    else:
        word = raw.strip().lower()
        if word not in ("on", "off"):
            raise args.UsageError(_("After “followup”, write on or off."))
        before, after = "on" if item.due_followup else "off", word
        item.due_followup = word == "on"
    if before == after:
        raise UserError(_("Nothing to change: #{n} already has that.", n=item.number))
    item.updated_at = ctx.now
    await plan.log_change(ctx, item, field, before, after)
    await plan.schedule_due_followup(ctx, item, due_changed=field == "due")
    await ctx.reply(_("Plan item changed: {item}", item=await _describe(ctx, item)))


def status_command(name: str, status: ItemStatus, summary: str, roles: frozenset[Role]) -> Command:
    async def run(ctx: Ctx, v: Values) -> None:
        number = v.of("n", int)
        item = await plan.item(ctx, number)
        if status is ItemStatus.PLANNED and ItemStatus(item.status).is_open:
            raise UserError(_("Plan item #{n} is not closed; there is nothing to reopen.", n=number))
        cancelled = await plan.set_status(ctx, item, status, v.opt("note", str) or "")
        text = _("Plan item #{n} is now {status}.", n=number, status=status_name(status))
        if cancelled:
            text += " " + ngettext("{n} follow-up cancelled.", "{n} follow-ups cancelled.", cancelled)
        await ctx.reply(text)

    return Command(name, (ITEM, NOTE), summary, run, Permission(roles=roles))


async def run_log(ctx: Ctx, v: Values) -> None:
    case = ctx.require_case()
    number = v.opt("item", int)
    item_id = (await plan.item(ctx, number)).id if number is not None else None
    entry = await log_entry(
        ctx.repo, case.id, ctx.user.id, ctx.now, EntryKind.ACTION, text=v.of("text", str), item_id=item_id
    )
    if number is not None:
        await ctx.reply(
            _("Logged against plan item #{n}. Entry {e} in the history.", n=number, e=entry.number)
        )
    else:
        await ctx.reply(_("Logged. Entry {e} in the history.", e=entry.number))


async def run_log_fix(ctx: Ctx, v: Values) -> None:
    case = ctx.require_case()
    number = v.of("entry", int)
    original = await ctx.repo.numbered(ActionEntry, case.id, number)
    if original is None:
        raise UserError(_("There is no entry {n} in the action log. See !history.", n=number))
    if original.author_id != ctx.user.id and ctx.role is not Role.CASE_MANAGER:
        raise UserError(_("Only the author of entry {n} or a case manager can correct it.", n=number))
    entry = await log_entry(
        ctx.repo,
        case.id,
        ctx.user.id,
        ctx.now,
        EntryKind.CORRECTION,
        text=v.of("text", str),
        item_id=original.item_id,
        corrects_id=original.id,
    )
    await ctx.reply(
        _("Entry {n} is corrected by entry {e}; both stay in the history.", n=number, e=entry.number)
    )


async def run_history(ctx: Ctx, v: Values) -> None:
    case = ctx.require_case()
    number = v.opt("item", int)
    item_id = (await plan.item(ctx, number)).id if number is not None else None
    entries = await ctx.repo.actions(case.id, item_id)
    if not entries:
        await ctx.reply(_("Nothing has been logged yet."))
        return
    items = {i.id: i.number for i in await ctx.repo.all_numbered(PlanItem, case.id)}
    numbers = {e.id: e.number for e, _a in await ctx.repo.actions(case.id)}
    corrections: dict[int, list[int]] = {}
    for entry, _author in entries:
        if entry.corrects_id is not None:
            corrections.setdefault(entry.corrects_id, []).append(entry.number)
    lines = [_("Action log of {ref}, oldest first:", ref=case.ref)]
    if len(entries) > HISTORY_LIMIT:
        lines.append(_("(the {n} most recent of {total})", n=HISTORY_LIMIT, total=len(entries)))
        entries = entries[-HISTORY_LIMIT:]
    for entry, author in entries:
        about = f" · #{items[entry.item_id]}" if entry.item_id in items else ""
        line = f"{entry.number}. {fmt_datetime(entry.created_at)} · {author.name}{about} · "
        line += entry_text(entry, numbers)
        if entry.id in corrections:
            line += " " + _(
                "(corrected by entry {numbers})", numbers=", ".join(str(n) for n in corrections[entry.id])
            )
        lines.append(line)
    await ctx.reply("\n".join(lines))


def commands() -> list[Command]:
    return [
        Command(
            "need add",
            (Param(N_("domain"), Kind.DOMAIN, N_("domain")), Param(N_("text"), Kind.TEXT, N_("need"))),
            N_(
                "Record a need. Domains: health, autonomy, mental-health, social, housing, finances, "
                "work-education."
            ),
            run_need_add,
            Permission(roles=TEAM),
        ),
        Command("need met", (NEED,), N_("Mark a need as met."), run_need_met, Permission(roles=TEAM)),
        Command(
            "need unmet", (NEED,), N_("Mark a need as unmet again."), run_need_unmet, Permission(roles=TEAM)
        ),
        Command(
            "plan",
            (),
            N_("Show the service plan: needs, items by status, next review."),
            run_plan,
            Permission(roles=ALL, states=ANY_STATE),
        ),
        Command(
            "plan add",
            (
                Param(N_("text"), Kind.TEXT, N_("item text")),
                Param(N_("user"), Kind.USER, N_("owner"), optional=True, keyword="owner"),
                Param(N_("when"), Kind.WHEN, N_("due date"), optional=True, keyword="due"),
                Param(N_("interval"), Kind.INTERVAL, N_("frequency"), optional=True, keyword="every"),
                Param(N_("n"), Kind.NUMBER, N_("need number"), optional=True, keyword="need"),
            ),
            N_("Add an item (a service or action) to the plan."),
            run_plan_add,
            Permission(roles=CM),
            details=N_(
                "The text is kept as typed; a word such as owner or due starts an option only at the end "
                "of the line, followed by its value. Put the text in quotes to keep it whole: "
                '!plan add "Ask the owner when the rent is due" owner bob. On the due date the owner is '
                "asked about the item unless it is done, blocked or cancelled (turn that off with "
                "!plan edit <n> followup off). A frequency (every ...) describes the service and sets no "
                "reminder."
            ),
        ),
        Command(
            "plan edit",
            (
                ITEM,
                Param(N_("field"), Kind.CHOICE, N_("field"), choices=EDITABLE),
                Param(N_("value"), Kind.TEXT, N_("new value")),
            ),
            N_("Correct a plan item: its text, due date, frequency, owner, need, or the due-day follow-up."),
            run_plan_edit,
            Permission(roles=CM),
            details=N_(
                "Examples: !plan edit 2 due friday 10:00, !plan edit 2 owner bob, !plan edit 2 due none, "
                "!plan edit 2 followup off. Every change is logged with its value before and after."
            ),
        ),
        status_command("plan start", ItemStatus.IN_PROGRESS, N_("Mark a plan item as in progress."), TEAM),
        status_command("plan done", ItemStatus.DONE, N_("Mark a plan item as done."), TEAM),
        status_command(
            "plan block", ItemStatus.BLOCKED, N_("Mark a plan item as blocked, with the reason."), TEAM
        ),
        status_command("plan cancel", ItemStatus.CANCELLED, N_("Cancel a plan item."), CM),
        status_command("plan reopen", ItemStatus.PLANNED, N_("Reopen a done or cancelled plan item."), CM),
        Command(
            "log",
            (
                ABOUT_ITEM,
                Param(N_("text"), Kind.TEXT, N_("text of the action")),
            ),
            N_("Log what you did, optionally against a plan item."),
            run_log,
            Permission(roles=ACTORS),
        ),
        Command(
            "log fix",
            (
                Param(N_("entry"), Kind.NUMBER, N_("entry number")),
                Param(N_("text"), Kind.TEXT, N_("corrected text")),
            ),
            N_("Correct an entry of the action log: the correction is shown next to it; nothing is erased."),
            run_log_fix,
            Permission(roles=ACTORS),
        ),
        Command(
            "history",
            (ABOUT_ITEM,),
            N_("Show the action log, oldest first."),
            run_history,
            Permission(roles=ALL, states=ANY_STATE),
        ),
    ]
