"""Opening a case step by step: label, the person's language, the review cycle."""

from __future__ import annotations

from typing import Any

from bot.core import args, cases
from bot.core import reminders as core
from bot.core.context import Ctx, UserError
from bot.core.render import describe_interval
from bot.domain.model import Interval
from bot.i18n import _, fmt_datetime


class Intake:
    name = "intake"
    command = "case open"

    async def start(self, ctx: Ctx, data: dict[str, Any]) -> str | None:
        await ctx.reply(
            _(
                "Let us open a case. What short label should it have? It becomes the room name, so "
                "no health data. (Type !stop to leave.)"
            )
        )
        return "label"

    async def step(self, ctx: Ctx, state: str, data: dict[str, Any], text: str) -> str | None:
        if state == "label":
            data["label"] = args.free_text(text, _("label"), args.MAX_LABEL)
            languages = ", ".join(ctx.services.catalogs.languages)
            await ctx.reply(_("Which language does the person read? Available: {codes}.", codes=languages))
            return "language"
        if state == "language":
            code = text.strip().lower()
            if code not in ctx.services.catalogs.languages:
                raise UserError(
                    _(
                        "I do not speak “{code}”. Available: {codes}.",
                        code=code,
                        codes=", ".join(ctx.services.catalogs.languages),
                    )
                )
            data["language"] = code
            await ctx.reply(
                _("How often should the situation be reviewed? For example “3 months”, or “none”.")
            )
            return "review"
        await self._finish(ctx, data, text)
        return None

    async def _finish(self, ctx: Ctx, data: dict[str, Any], text: str) -> None:
        answer = text.strip().lower()
        interval: Interval | None = None
        if answer not in ("none", "-", _("none").lower()):
            interval = args.interval(ctx, answer)
        case = await cases.open_case(ctx, str(data["label"]), str(data["language"]))
        lines = [cases.opened(case, ctx.net.creates_rooms)]
        if interval is not None:
            case.review_interval = interval.encode()
            when = core.review_date(ctx.now, interval, ctx.zone)
            await core.schedule_review(ctx.repo, ctx.services, case, ctx.user, when, ctx.zone, ctx.now)
            lines.append(
                _(
                    "Reviews {interval}; the next one is on {when}.",
                    interval=describe_interval(interval),
                    when=fmt_datetime(when),
                )
            )
        await ctx.reply("\n".join(lines), link_case=case)
