"""The person's consent: read by every member, given or withdrawn by the person, recorded by a case
manager on their behalf (with how it was obtained)."""

from __future__ import annotations

from bot.commands.grammar import Kind, Param, Values
from bot.commands.registry import Command
from bot.core import consent
from bot.core.context import Ctx
from bot.core.permissions import ALL, ANY_STATE, CM, Permission
from bot.domain.model import ConsentScope, Role
from bot.i18n import N_, fmt_datetime
from bot.storage.models import ConsentRecord

SCOPES = tuple(scope.value for scope in ConsentScope)
GIVEN, WITHDRAWN = "given", "withdrawn"


async def run_consent(ctx: Ctx, _v: Values) -> None:
    case = ctx.require_case()
    records = await consent.history(ctx.repo, case.id)

    def when(record: ConsentRecord) -> str:
        return fmt_datetime(record.recorded_at)

    await ctx.reply(consent.describe(await consent.current(ctx.repo, case.id), records, when))


async def run_give(ctx: Ctx, v: Values) -> None:
    await consent.decide(ctx, ConsentScope(v.of("scope", str)), True, None)


async def run_withdraw(ctx: Ctx, v: Values) -> None:
    await consent.decide(ctx, ConsentScope(v.of("scope", str)), False, None)


async def run_record(ctx: Ctx, v: Values) -> None:
    decision = v.of("decision", str)
    await consent.decide(ctx, ConsentScope(v.of("scope", str)), decision == GIVEN, v.of("how", str))


SCOPE = Param(N_("scope"), Kind.CHOICE, N_("scope"), choices=SCOPES)


def commands() -> list[Command]:
    person = frozenset({Role.PERSON})
    return [
        Command(
            "consent",
            (),
            N_("Show the person's consent to sharing their case, and its history."),
            run_consent,
            Permission(roles=ALL, states=ANY_STATE),
            details=N_(
                "Scopes: team (share the case with professionals of an organisation other than the case "
                "managers'), carers (share it with carers), reminders (send reminders to the person). "
                "Without a recorded consent, inviting a carer or someone from another organisation is "
                "refused, and only the person can set reminders for themselves."
            ),
        ),
        Command(
            "consent give",
            (SCOPE,),
            N_("Give your consent, as the person of the case: team, carers or reminders."),
            run_give,
            Permission(roles=person),
        ),
        Command(
            "consent withdraw",
            (SCOPE,),
            N_(
                "Withdraw your consent, as the person of the case: takes effect at once (members it covered "
                "are removed, reminders it allowed are cancelled)."
            ),
            run_withdraw,
            Permission(roles=person),
        ),
        Command(
            "consent record",
            (
                SCOPE,
                Param(N_("decision"), Kind.CHOICE, N_("decision"), choices=(GIVEN, WITHDRAWN)),
                Param(N_("how"), Kind.TEXT, N_("way it was obtained"), limit=consent.MAX_HOW),
            ),
            N_(
                "Record the person's decision on their behalf, and how it was obtained (for example: paper "
                "form signed)."
            ),
            run_record,
            Permission(roles=CM),
        ),
    ]
