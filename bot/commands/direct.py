"""Commands of the direct chat with the bot (some also work in rooms): help, cases, language, zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.commands import args
from bot.commands.registry import Command, Registry
from bot.core import cases
from bot.core.context import Ctx, UserError
from bot.core.dialogs import start_dialog
from bot.core.render import role_name
from bot.domain.model import ItemStatus
from bot.i18n import N_, _, fmt_datetime, ngettext, using
from bot.storage.models import PlanItem

# Items listed under each case in the caseload; the counts cover the rest.
CASELOAD_ITEMS = 5


def _usage_line(command: Command[Any]) -> str:
    usage = _(command.usage) if command.usage else ""
    return f"!{command.name} {usage}".rstrip()


async def run_help(registry: Registry, ctx: Ctx, topic: str) -> None:
    in_room = ctx.case is not None

    def allowed(command: Command[Any]) -> bool:
        if in_room:
            return command.allowed_in_room(ctx.role)
        return command.allowed_in_direct(ctx.user.handle, ctx.services.settings.case_managers)

    if topic:
        found = registry.find(topic.lstrip("!/"))
        if found is None:
            raise UserError(_("There is no command “{name}”. Type !help for the list.", name=topic))
        command = found[0]
        lines = [_usage_line(command), _(command.summary)]
        if not allowed(command):
            lines.append(_("You cannot run it here with your role."))
        await ctx.reply("\n".join(lines))
        return
    visible = [c for c in registry if allowed(c)]
    header = _("Commands you can use in this case room:") if in_room else _("Commands you can use here:")
    lines = [header] + [f"{_usage_line(c)} — {_(c.summary)}" for c in visible]
    if not in_room:
        lines.append(_("In a case room, type !help there to see the commands of your role."))
    await ctx.reply("\n".join(lines))


def help_command(registry: Registry) -> Command[str]:
    async def run(ctx: Ctx, topic: str) -> None:
        await run_help(registry, ctx, topic)

    return Command(
        "help",
        N_("[command]"),
        N_("Show the commands you can use, or one command."),
        lambda ctx, rest: rest.strip(),
        run,
    )


@dataclass(frozen=True)
class OpenArgs:
    label: str | None


def parse_open(ctx: Ctx, rest: str) -> OpenArgs:
    return OpenArgs(args.free_text(rest, _("label"), args.MAX_LABEL) if rest.strip() else None)


async def run_open(ctx: Ctx, a: OpenArgs) -> None:
    if a.label is None:
        await start_dialog(ctx, "intake")
        return
    case = await cases.open_case(ctx, a.label)
    await ctx.reply(
        _(
            "Case {ref} is open: “{label}”. I am creating its private room and inviting you; invite the team "
            "there with !invite.",
            ref=case.ref,
            label=case.label,
        ),
        link_case=case,
    )


async def run_cases(ctx: Ctx, _none: None) -> None:
    rows = await ctx.repo.cases_of(ctx.user.id)
    if not rows:
        await ctx.reply(_("You are not in any open case."))
        return
    soon = ctx.now + timedelta(days=7)
    lines = [ngettext("Your caseload: {n} open case.", "Your caseload: {n} open cases.", len(rows))]
    for case, member in rows:
        items = [i for i in await ctx.repo.all_numbered(PlanItem, case.id) if ItemStatus(i.status).is_open]
        overdue = [i for i in items if i.due_at is not None and i.due_at < ctx.now]
        upcoming = [i for i in items if i.due_at is not None and ctx.now <= i.due_at <= soon]
        review = fmt_datetime(case.next_review_at) if case.next_review_at else _("none scheduled")
        lines.append(
            f"{case.ref} · {case.label} ({role_name(member.role)}) — "
            + _(
                "{overdue} overdue, {soon} due within 7 days, next review: {review}",
                overdue=len(overdue),
                soon=len(upcoming),
                review=review,
            )
        )
        for item in sorted(overdue + upcoming, key=lambda i: i.due_at or ctx.now)[:CASELOAD_ITEMS]:
            flag = _("OVERDUE") if item in overdue else _("due")
            lines.append(f"    #{item.number} {item.text} · {flag} {fmt_datetime(item.due_at or ctx.now)}")
    await ctx.reply("\n".join(lines))


async def run_lang(ctx: Ctx, code: str) -> None:
    available = ctx.services.catalogs.languages
    if not code:
        names = ", ".join(
            f"{ctx.services.translator_for(ctx.user).language_name(c)} ({c})" for c in available
        )
        await ctx.reply(
            _(
                "I write to you in {language}. Available: {languages}.",
                language=ctx.services.translator_for(ctx.user).language_name(ctx.language),
                languages=names,
            )
        )
        return
    code = code.lower()
    if code not in available:
        raise args.UsageError(
            _("I do not speak “{code}”. Available: {codes}.", code=code, codes=", ".join(available))
        )
    ctx.user.language = code
    with using(ctx.services.translator_for(ctx.user)) as translator:
        await ctx.reply(
            _("From now on I write to you in {language}.", language=translator.language_name(code))
        )


async def run_tz(ctx: Ctx, name: str) -> None:
    if not name:
        await ctx.reply(
            _(
                "Your time zone is {zone}; it is now {time} there.",
                zone=str(ctx.zone),
                time=fmt_datetime(ctx.now),
            )
        )
        return
    try:
        if "/" not in name and name != "UTC":
            raise ValueError(name)
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise args.UsageError(
            _("“{name}” is not a time zone; expected Area/City, such as Europe/Paris.", name=name)
        ) from None
    ctx.user.timezone = str(zone)
    with using(ctx.services.translator_for(ctx.user)):
        await ctx.reply(
            _("Your time zone is now {zone}; it is {time} there.", zone=str(zone), time=fmt_datetime(ctx.now))
        )


async def run_stop(ctx: Ctx, _none: None) -> None:
    dialog = await ctx.repo.dialog(ctx.network, ctx.room_id, ctx.user.id)
    if dialog is None:
        await ctx.reply(_("There is no dialog to stop."))
        return
    await ctx.repo.delete(dialog)
    await ctx.reply(_("Stopped. Nothing more will be asked."))


def one_word(ctx: Ctx, rest: str) -> str:
    words = rest.split()
    if len(words) > 1:
        raise args.UsageError(_("Expected one word, got {n}.", n=len(words)))
    return words[0] if words else ""


def commands() -> list[Command[Any]]:
    return [
        Command(
            "case open",
            N_("[label]"),
            N_("Open a case (without a label, I ask step by step)."),
            parse_open,
            run_open,
            writes=True,
        ),
        Command(
            "cases",
            "",
            N_("Your caseload: open cases, overdue items, next reviews."),
            args.no_args,
            run_cases,
        ),
        Command("lang", N_("[code]"), N_("Show or set the language I write to you in."), one_word, run_lang),
        Command("tz", N_("[Area/City]"), N_("Show or set your time zone."), one_word, run_tz),
        Command("stop", "", N_("Leave the dialog in progress."), args.no_args, run_stop),
    ]
