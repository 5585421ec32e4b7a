"""Welcoming someone who opened an invitation link: their language, then their link to join the room."""

from __future__ import annotations

from typing import Any

from bot.core.context import Ctx, UserError
from bot.domain.events import SendJoinLink, Target
from bot.domain.model import CaseStatus, MemberState
from bot.i18n import _, using
from bot.storage.models import Member


class Welcome:
    name = "welcome"
    command = "start"

    async def start(self, ctx: Ctx, data: dict[str, Any]) -> str | None:
        codes = ", ".join(ctx.services.catalogs.languages)
        await ctx.reply(
            _(
                "Welcome! You are invited to the coordination room of case {ref}. Which language should I "
                "write to you in? Answer with its code: {codes}.",
                ref=data["ref"],
                codes=codes,
            )
        )
        return "language"

    async def step(self, ctx: Ctx, state: str, data: dict[str, Any], text: str) -> str | None:
        code = text.strip().lower()
        languages = ctx.services.catalogs.languages
        if code not in languages:
            raise UserError(
                _("I do not speak “{code}”. Available: {codes}.", code=code[:20], codes=", ".join(languages))
            )
        ctx.user.language = code
        with using(ctx.services.translator_for(ctx.user)):
            await send_join_link(ctx, int(data["member_id"]))
        return None


async def send_join_link(ctx: Ctx, member_id: int) -> None:
    """The invitee's own link to ask to join the case room; the bot approves their request only."""
    member = await ctx.repo.session.get(Member, member_id)
    case = await ctx.repo.case_by_id(member.case_id) if member else None
    if member is None or case is None or member.state != MemberState.INVITED or member.user_id != ctx.user.id:
        raise UserError(_("Your invitation was withdrawn meanwhile. Ask your case manager."))
    if case.status != CaseStatus.OPEN or case.room_id is None:
        raise UserError(
            _("The room of case {ref} is not available now. Ask your case manager.", ref=case.ref)
        )
    text = _(
        "Thank you. Open this link to ask to join the room of case {ref}: {link}\n"
        "I approve your request at once; the link works for you only.",
        ref=case.ref,
        link="{link}",
    )
    await ctx.speaker.emit(
        Target(room_id=ctx.room_id), SendJoinLink(case.room_id, f"caseroom {case.ref} #{member.id}", text)
    )
