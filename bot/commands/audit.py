"""`!audit [n]`: the last entries of the case's audit trail, for its case managers."""

from __future__ import annotations

from bot.commands.grammar import Kind, Param, Values
from bot.commands.registry import Command
from bot.core import audit
from bot.core.context import Ctx, UsageError
from bot.core.permissions import ANY_STATE, CM, Permission
from bot.i18n import N_, _, fmt_datetime

DEFAULT = 20
MOST = 200

# What each outcome reads as (action names stay identifiers: `plan add`, `member.joined`).
OUTCOMES = {
    audit.Outcome.OK: N_("done"),
    audit.Outcome.REFUSED: N_("refused"),
    audit.Outcome.INVALID: N_("invalid input"),
    audit.Outcome.FAILED: N_("failed"),
}


async def run_audit(ctx: Ctx, v: Values) -> None:
    case = ctx.require_case()
    n = v.opt("n", int)
    if n is None:
        n = DEFAULT
    if not 1 <= n <= MOST:
        raise UsageError(_("Say how many entries to show, from 1 to {most} (not {n}).", most=MOST, n=n))
    entries = await audit.recent(ctx.repo, case.id, case.ref, n)
    if not entries:
        await ctx.reply(_("Nothing has been recorded for case {ref} yet.", ref=case.ref))
        return
    lines = [_("Audit trail of case {ref}, newest last:", ref=case.ref)]
    for entry, user in entries:
        who = user.name if user is not None else _("someone")
        outcome = _(OUTCOMES[entry.outcome]) if entry.outcome in OUTCOMES else entry.outcome
        lines.append(f"{fmt_datetime(entry.at)} · {who} · {entry.action} · {outcome}")
    await ctx.reply("\n".join(lines))


def commands() -> list[Command]:
    return [
        Command(
            "audit",
            (Param(N_("n"), Kind.NUMBER, N_("number of entries"), optional=True),),
            N_("Show the last entries of the case's audit trail (20 unless you say how many, at most 200)."),
            run_audit,
            Permission(roles=CM, states=ANY_STATE),
            details=N_(
                "Every command, answer and membership change of this case is recorded: when, who, what "
                "and with what outcome, never what was written. The trail cannot be changed without it "
                "showing."
            ),
        ),
    ]
