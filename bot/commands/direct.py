"""Commands of the direct chat with the bot (some also work in rooms): help, cases, language, zone."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.commands.grammar import Kind, Param, Values
from bot.commands.registry import Command, Registry
from bot.core import args, cases, guard
from bot.core.commands import CommandSpec, family_help
from bot.core.context import Ctx, UserError
from bot.core.dialogs import start_dialog
from bot.core.permissions import ALL, ANY_STATE, CM, Direct, Permission
from bot.core.render import role_name
from bot.domain.model import CaseStatus, ItemStatus
from bot.i18n import N_, _, fmt_datetime, ngettext, using
from bot.storage.models import PlanItem

# Items listed under each case in the caseload; the counts cover the rest.
CASELOAD_ITEMS = 5


async def run_help(registry: Registry, ctx: Ctx, topic: str) -> None:
    """What the reader may run here and now: their role, and the case's state (a closed case lists only
    what can still be done)."""
    in_room = ctx.case is not None

    def allowed(command: CommandSpec) -> bool:
        return command.permission.allows(ctx)

    if topic:
        found = registry.find(topic.lstrip("!/"))
        if found is None or (found[1].strip() and registry.family(found[0].name)):
            word = topic.lstrip("!/").split()[0] if topic.lstrip("!/").split() else topic
            family = registry.family(word)
            if family:
                await ctx.reply(family_help(word.lower(), family, allowed))
                return
            raise UserError(_("There is no command “{name}”. Type !help for the list.", name=topic))
        command = found[0]
        lines = [command.usage, _(command.summary)]
        if command.details:
            lines.append(_(command.details))
        family = registry.family(command.name)
        if family:
            lines.append(family_help(command.name, family, allowed))
        if not allowed(command):
            lines.append(_("You cannot run it here with your role."))
        await ctx.reply("\n".join(lines))
        return
    visible = [c for c in registry if allowed(c)]
    if in_room and ctx.case is not None and ctx.case.status == CaseStatus.CLOSED:
        header = _("Case {ref} is closed. What you can still do here:", ref=ctx.case.ref)
    elif in_room:
        header = _("Commands you can use in this case room:")
    else:
        header = _("Commands you can use here:")
    lines = [header] + [f"{c.usage} — {_(c.summary)}" for c in visible]
    if not in_room:
        lines.append(_("In a case room, type !help there to see the commands of your role."))
    lines.append(_("Type !help <command> for details."))
    await ctx.reply("\n".join(lines))


def help_command(registry: Registry) -> Command:
    async def run(ctx: Ctx, v: Values) -> None:
        await run_help(registry, ctx, v.opt("command", str) or "")

    return Command(
        "help",
        (Param(N_("command"), Kind.TEXT, N_("command"), optional=True),),
        N_("Show the commands you can use, or one command."),
        run,
        Permission(roles=ALL, direct=Direct.EVERYONE, states=ANY_STATE, unlinked=True),
    )


async def run_open(ctx: Ctx, v: Values) -> None:
    label = v.opt("label", str)
    if not ctx.net.creates_rooms and ctx.is_direct:
        await ctx.reply(cases.rooms_by_hand(ctx))
        return
    if label is None:
        await start_dialog(ctx, "intake")
        return
    case = await cases.open_case(ctx, label)
    await ctx.reply(cases.opened(case, ctx.net.creates_rooms), link_case=case)


async def run_link(ctx: Ctx, v: Values) -> None:
    case = await cases.link(ctx, v.of("case", str))
    await ctx.reply(
        _("This room is now the coordination room of case {ref} (“{label}”).", ref=case.ref, label=case.label)
    )


async def run_room(ctx: Ctx, v: Values) -> None:
    await guard.new_room(ctx, v.opt("case", str))


# A case manager of the case, while it is closed: in its room, or from the direct chat, naming the case (on
# Telegram a closed case's group is read-only, and a case manager who is not its administrator cannot write
# there).
REOPEN = Permission(roles=CM, states=frozenset({CaseStatus.CLOSED}))


async def run_reopen(ctx: Ctx, v: Values) -> None:
    ref = v.opt("case", str)
    if ctx.case is None and ref is None:
        raise UserError(_("Name the case to reopen: !case reopen <case> <reason>."))
    room = await cases.in_case(ctx, ref, "case reopen", REOPEN)
    await cases.reopen(room, v.of("reason", str))
    if ctx.case is None:
        await ctx.reply(_("Case {ref} is open again; I told its room.", ref=room.require_case().ref))


async def run_start(ctx: Ctx, v: Values) -> None:
    """What a network sends when someone opens the bot (Telegram: /start, or an invitation link)."""
    token = v.opt("invitation", str)
    if token is None:
        waiting = await cases.awaiting_join(ctx)
        if waiting is not None:  # opened their link, but never answered or used what followed
            case, member = waiting
            await start_dialog(ctx, "welcome", {"ref": case.ref, "member_id": member.id})
            return
        await ctx.reply(
            _(
                "Hello! I coordinate care around a person: the service plan, what everyone does and the "
                "reminders, in a private room per case. If a case manager gave you an invitation link, "
                "open it again. Type !help to see what you can do."
            )
        )
        return
    bound = await cases.open_invitation(ctx, token)
    if bound is not None:
        case, member = bound
        await start_dialog(ctx, "welcome", {"ref": case.ref, "member_id": member.id})


async def run_cases(ctx: Ctx, _v: Values) -> None:
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
        if case.room_id is None and case.network == ctx.network and ctx.net.creates_rooms:
            lines.append("    " + _("no room: !case room {ref} gives it a new one", ref=case.ref))
        elif case.room_id is None:
            lines.append("    " + _("no room: !case link {ref} in a group gives it one", ref=case.ref))
        for item in sorted(overdue + upcoming, key=lambda i: i.due_at or ctx.now)[:CASELOAD_ITEMS]:
            flag = _("OVERDUE") if item in overdue else _("due")
            lines.append(f"    #{item.number} {item.text} · {flag} {fmt_datetime(item.due_at or ctx.now)}")
    await ctx.reply("\n".join(lines))


async def run_lang(ctx: Ctx, v: Values) -> None:
    code = v.opt("code", str) or ""
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


async def run_tz(ctx: Ctx, v: Values) -> None:
    name = v.opt("zone", str) or ""
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
        # Only the zones of the IANA database by their canonical Area/City names: not a directory
        # ("America/Argentina"), not the posix/ and right/ copies.
        if ("/" not in name and name != "UTC") or name.startswith(("posix/", "right/")):
            raise ValueError(name)
        if name not in available_timezones():
            raise ValueError(name)
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise args.UsageError(
            _("“{name}” is not a time zone; expected Area/City, such as Europe/Paris.", name=name)
        ) from None
    ctx.user.timezone = str(zone)
    with using(ctx.services.translator_for(ctx.user)):
        await ctx.reply(
            _("Your time zone is now {zone}; it is {time} there.", zone=str(zone), time=fmt_datetime(ctx.now))
        )


async def run_stop(ctx: Ctx, _v: Values) -> None:
    dialog = await ctx.repo.dialog(ctx.network, ctx.room_id, ctx.user.id)
    if dialog is None:
        await ctx.reply(_("There is no dialog to stop."))
        return
    await ctx.repo.delete(dialog)
    await ctx.reply(_("Stopped. Nothing more will be asked."))


def commands() -> list[Command]:
    anywhere = Permission(roles=ALL, direct=Direct.EVERYONE, states=ANY_STATE, unlinked=True)
    return [
        Command(
            "case open",
            (Param(N_("label"), Kind.TEXT, N_("label"), optional=True, limit=args.MAX_LABEL),),
            N_("Open a case (without a label, I ask step by step)."),
            run_open,
            Permission(direct=Direct.CONFIGURED_CASE_MANAGERS, unlinked=True),
        ),
        Command(
            "case link",
            (Param(N_("case"), Kind.REF, N_("case reference")),),
            N_(
                "Make this room the coordination room of an open case that has none (networks where I cannot "
                "create rooms)."
            ),
            run_link,
            # In a case room it only says which case the room belongs to.
            Permission(roles=ALL, direct=Direct.EVERYONE, states=ANY_STATE, unlinked=True),
        ),
        Command(
            "case room",
            (Param(N_("case"), Kind.REF, N_("case reference"), optional=True),),
            N_(
                "Give a case that lost its room a new one, and invite its members there again (networks "
                "where I create rooms)."
            ),
            run_room,
            # Checked against the sender's role in the case named (case managers) and its state (open).
            Permission(direct=Direct.EVERYONE),
        ),
        Command(
            "case reopen",
            (
                Param(N_("case"), Kind.REF, N_("case reference"), optional=True),
                Param(N_("reason"), Kind.TEXT, N_("reason for reopening")),
            ),
            N_("Reopen a closed case: members can write in its room again."),
            run_reopen,
            Permission(roles=REOPEN.roles, states=REOPEN.states, direct=Direct.EVERYONE),
        ),
        Command(
            "start",
            (Param(N_("invitation"), Kind.WORD, N_("invitation"), optional=True),),
            N_("Start talking with me, or accept an invitation link."),
            run_start,
            Permission(direct=Direct.EVERYONE),
        ),
        Command(
            "cases",
            (),
            N_("Your caseload: open cases, overdue items, next reviews."),
            run_cases,
            Permission(direct=Direct.EVERYONE),
        ),
        Command(
            "lang",
            (Param(N_("code"), Kind.WORD, N_("language code"), optional=True),),
            N_("Show or set the language I write to you in."),
            run_lang,
            anywhere,
        ),
        Command(
            "tz",
            (Param(N_("Area/City"), Kind.WORD, N_("time zone"), optional=True, key="zone"),),
            N_("Show or set your time zone."),
            run_tz,
            anywhere,
        ),
        Command("stop", (), N_("Leave the dialog in progress."), run_stop, anywhere),
    ]
