"""`!export [fhir|json|html]` (case managers: the whole case) and `!export me` (anyone: what the bot holds
about them). Files go to the asker's direct chat only; the case room hears only that one was sent. The
dispatcher records each in the audit trail, by the command's name, with its outcome."""

from __future__ import annotations

from bot.commands.grammar import Kind, Param, Values
from bot.commands.registry import Command
from bot.core.context import Ctx, UserError
from bot.core.export import FORMATS, ExportFile, export_case, export_me
from bot.core.permissions import ALL, ANY_STATE, CM, Direct, Permission
from bot.domain.events import Target
from bot.i18n import N_, _


def _no_direct_chat() -> str:
    return _(
        "An export goes only to our direct chat, and we have no direct chat yet. Open a direct chat "
        "with me (on Telegram: a private chat, then /start), write !help there, then ask again here."
    )


async def _send(ctx: Ctx, file: ExportFile, caption: str, told: str, case_id: int | None) -> None:
    """The file to the asker's direct chat; where they asked, a word that it was sent (not the file).

    A case's export waits in the outbox tied to its case (`case_id`), so erasing the case removes it with
    the rest even before the retention purge."""
    direct = ctx.user.direct_room_id
    if direct is None:
        raise RuntimeError("an export needs the asker's direct chat")
    target = Target(room_id=direct, case_id=case_id)
    if direct == ctx.room_id:
        await ctx.reply(caption)
        await ctx.speaker.emit(target, file.effect())
        return
    await ctx.speaker.emit(target, file.effect(caption))
    await ctx.reply(told)


async def run_export(ctx: Ctx, v: Values) -> None:
    case = ctx.require_case()
    fmt = v.opt("format", str) or "fhir"
    if ctx.user.direct_room_id is None:
        raise UserError(_no_direct_chat())
    file = await export_case(ctx.repo, ctx.services, case, fmt, ctx.now, ctx.user)
    await _send(
        ctx,
        file,
        _("Export of case {ref} ({format}): {name}", ref=case.ref, format=fmt, name=file.name),
        _(
            "I sent the export of case {ref} to {name}'s direct chat with me.",
            ref=case.ref,
            name=ctx.user.name,
        ),
        case.id,
    )


async def run_export_me(ctx: Ctx, _v: Values) -> None:
    if ctx.user.direct_room_id is None:
        raise UserError(_no_direct_chat())
    file = await export_me(ctx.repo, ctx.user, ctx.now)
    await _send(
        ctx,
        file,
        _("Everything I hold about you, as a JSON file: {name}", name=file.name),
        _("I sent {name} what I hold about them, in their direct chat with me.", name=ctx.user.name),
        None,
    )


def commands() -> list[Command]:
    return [
        Command(
            "export",
            (Param(N_("format"), Kind.CHOICE, N_("format"), optional=True, choices=FORMATS),),
            N_(
                "Send the whole case to your direct chat: FHIR (the default), JSON, or an HTML summary the "
                "person can read."
            ),
            run_export,
            Permission(roles=CM, states=ANY_STATE),
        ),
        Command(
            "export me",
            (),
            N_("Send everything I hold about you to your direct chat, as a JSON file."),
            run_export_me,
            Permission(roles=ALL, direct=Direct.EVERYONE, states=ANY_STATE),
        ),
    ]
