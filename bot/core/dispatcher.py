"""Inbound event -> recorded in the inbox -> handled once, in one transaction with its effects."""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core import audit, cases, guard, reminders
from bot.core.commands import CommandSet, CommandSpec, family_help
from bot.core.context import DONE, SNOOZE, Ctx, Forbidden, Services, Speaker, UsageError, UserError
from bot.core.dialogs import continue_dialog
from bot.core.log import log_entry
from bot.core.permissions import ACKNOWLEDGE, refusal
from bot.core.render import room_need
from bot.domain.events import (
    EVENT_TYPES,
    AnswerJoin,
    BotInvited,
    BotStanding,
    ButtonPressed,
    Event,
    JoinRequested,
    JoinRoom,
    LeaveRoom,
    MemberInvited,
    MemberJoined,
    MemberLeft,
    ReactionAdded,
    RoomMoved,
    RoomSettingChanged,
    Target,
    TextMessage,
)
from bot.domain.model import CaseStatus, EntryKind, MemberState, ReminderKind, Role, TargetKind
from bot.i18n import _, fmt_datetime, using
from bot.storage.models import Case, Dialog, InboxRow, OutboxRow, Reminder
from bot.storage.repo import Repo

log = logging.getLogger(__name__)

MAX_MESSAGE = 4000
MAX_ATTEMPTS = 3
# Reactions that acknowledge a reminder (variation selectors stripped).
ACK_KEYS = frozenset({"✅", "✔", "☑"})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Direction overrides and isolates (a line could display reversed), zero-width characters that hide in words,
# fillers that look like nothing (Hangul fillers, the blank Braille cell, the combining grapheme joiner) and
# tag characters. Zero-width (non-)joiners and the left-to-right/right-to-left marks stay: scripts and emoji
# sequences need them, and they cannot reorder a line.
_INVISIBLE = re.compile(
    "[\u034f\u115f\u1160\u180e\u200b\u202a-\u202e\u2060-\u2064\u2066-\u2069\u2800\u3164\ufeff\uffa0"
    "\U000e0000-\U000e007f]"
)


def event_to_json(event: Event) -> dict[str, Any]:
    return {"type": type(event).__name__, **asdict(event)}


def event_from_json(data: dict[str, Any]) -> Event:
    values = dict(data)
    name = values.pop("type")
    for cls in EVENT_TYPES:
        if cls.__name__ == name:
            fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
            return cls(**fields)
    raise ValueError(f"unknown event type {name!r}")


class Dispatcher:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], services: Services, registry: CommandSet
    ) -> None:
        self._sessions = sessions
        self._services = services
        self._registry = registry

    async def receive(self, event: Event) -> bool:
        """Record an inbound event before the network cursor moves on. False if it was seen before."""
        async with self._sessions.begin() as session:
            return await Repo(session).record_inbox(
                event.network, event.event_id, event_to_json(event), "pending", self._services.clock.now()
            )

    async def receive_undecryptable(self, network: str, event_id: str, source: dict[str, Any]) -> None:
        """Keep an event we cannot decrypt yet (its key has not arrived); `decrypted` releases it."""
        async with self._sessions.begin() as session:
            await Repo(session).record_inbox(
                network, event_id, {"source": source}, "undecrypted", self._services.clock.now()
            )

    async def undecrypted(self, network: str) -> list[tuple[str, dict[str, Any]]]:
        async with self._sessions.begin() as session:
            rows = await Repo(session).inbox_with_status(network, "undecrypted", 200)
            return [(row.event_id, dict(row.payload["source"])) for row in rows]  # type: ignore[call-overload]

    async def decrypted(self, event: Event) -> None:
        async with self._sessions.begin() as session:
            row = await Repo(session).inbox_row(event.network, event.event_id)
            if row is not None and row.status == "undecrypted":
                row.payload = event_to_json(event)
                row.status = "pending"

    async def process_pending(self, network: str, batch: int = 100) -> int:
        """Handle every recorded, unhandled event of a network in arrival order. (Whoever records an
        event calls this afterwards, so a short batch means nothing else is waiting.)"""
        handled = 0
        while True:
            async with self._sessions.begin() as session:
                ids = [row.id for row in await Repo(session).pending_inbox(network, batch)]
            failed = False
            for row_id in ids:
                failed |= not await self._handle(row_id)
                handled += 1
            if len(ids) < batch and not failed:
                return handled

    async def _handle(self, row_id: int) -> bool:
        """Handle one recorded event; False when it failed (it is retried, then quarantined)."""
        try:
            async with self._sessions.begin() as session:
                repo = Repo(session)
                payload = await repo.claim_inbox(row_id, self._services.clock.now())
                if payload is None:  # handled meanwhile, by us or by another process
                    return True
                await self._dispatch(repo, event_from_json(payload))
                return True
        except Exception as exc:
            log.error(
                "handling inbox event %s failed with %s\n%s",
                row_id,
                type(exc).__name__,
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            await self._failed(row_id)
            return False

    async def _failed(self, row_id: int) -> None:
        async with self._sessions.begin() as session:
            row = await session.get(InboxRow, row_id, with_for_update=True)
            if row is None:
                return
            row.attempts += 1
            if row.attempts < MAX_ATTEMPTS:
                return
            row.status = "quarantined"
            log.error("inbox event %s quarantined after %d attempts", row_id, row.attempts)
            event = event_from_json(row.payload)
            await self._audit_failure(Repo(session), event)
            if isinstance(event, TextMessage):
                repo = Repo(session)
                user = await repo.ensure_user(event.network, event.sender, self._services.clock.now())
                ctx = Ctx(
                    repo, self._services, event.network, event.room_id, user, self._services.clock.now()
                )
                with using(self._services.translator_for(user)):
                    await ctx.reply(
                        _(
                            "Sorry, I could not process your message (reference {id}). Nothing was "
                            "changed; please tell your coordinator.",
                            id=row_id,
                        )
                    )
                case = await repo.case_by_room(event.network, event.room_id)
                if case is not None:
                    managers = [
                        u for _m, u in await repo.members(case.id, Role.CASE_MANAGER) if u.id != user.id
                    ]
                    await ctx.speaker.to_members(
                        case,
                        managers,
                        lambda readers: _(
                            "{names}: a command of {sender} could not be processed (reference {id}); nothing "
                            "was changed. Please check with them.",
                            names=", ".join(u.name for u in readers),
                            sender=event.sender,
                            id=row_id,
                        ),
                    )

    async def _audit_failure(self, repo: Repo, event: Event) -> None:
        """A quarantined event in the audit trail, outcome "failed": a command by its name, another event
        by its kind; who sent it and the case of its room when the bot knows them; never its content."""
        action = f"event.{type(event).__name__}"
        who: object = getattr(event, "sender", None) or getattr(event, "user", None)
        user = None
        if isinstance(event, TextMessage):
            text = event.text.strip()
            found = self._registry.find(text[1:]) if text.startswith("!") else None
            action = found[0].name if found is not None else "message"
            user = await repo.ensure_user(event.network, event.sender, self._services.clock.now())
        elif isinstance(who, str):
            user = await repo.user(event.network, who)
        room: object = getattr(event, "room_id", None)
        case = await repo.case_by_room(event.network, room) if isinstance(room, str) else None
        await audit.record(
            repo,
            at=self._services.clock.now(),
            action=action,
            outcome=audit.Outcome.FAILED,
            network=event.network,
            actor_id=user.id if user else None,
            case_id=case.id if case else None,
            case_ref=case.ref if case else None,
        )

    async def _dispatch(self, repo: Repo, event: Event) -> None:
        if isinstance(event, TextMessage):
            await self._text(repo, event)
        elif isinstance(event, MemberJoined | MemberLeft | MemberInvited):
            await self._membership(repo, event)
        elif isinstance(event, RoomSettingChanged):
            await guard.setting_changed(
                repo, self._services, event.network, event.room_id, event.setting, event.sender
            )
        elif isinstance(event, ReactionAdded):
            await self._reaction(repo, event)
        elif isinstance(event, BotInvited):
            await self._invited(repo, event)
        elif isinstance(event, JoinRequested):
            await self._join_requested(repo, event)
        elif isinstance(event, ButtonPressed):
            await self._button(repo, event)
        elif isinstance(event, RoomMoved):
            await self._moved(repo, event)
        elif isinstance(event, BotStanding):
            await self._standing(repo, event)

    async def _join_requested(self, repo: Repo, event: JoinRequested) -> None:
        """Approve only someone who opened their own invitation link to this case's room; decline anyone
        else, even with a link that works (a link passed on, or seen over a shoulder), and tell the case
        managers."""
        now = self._services.clock.now()
        case = await repo.case_by_room(event.network, event.room_id)
        user = await repo.user(event.network, event.user)
        member = await repo.member(case.id, user.id) if case and user else None
        invitation = await repo.invitation_of(member.id) if member else None
        approve = (
            case is not None
            and case.status == CaseStatus.OPEN
            and member is not None
            and member.state == MemberState.INVITED
            and invitation is not None
            and invitation.used_at is not None
        )
        log.info(
            "join request to a %s room: %s",
            "case" if case else "non-case",
            "approved" if approve else "declined",
        )
        await repo.enqueue(
            event.network, Target(room_id=event.room_id), AnswerJoin(event.user, approve, event.link), now
        )
        if case is not None:
            outcome = audit.Outcome.OK if approve else audit.Outcome.REFUSED
            await audit.record(
                repo,
                at=now,
                action=audit.JOIN_REQUEST,
                outcome=outcome,
                network=event.network,
                actor_id=user.id if user else None,
                case_id=case.id,
                case_ref=case.ref,
            )
        if approve or case is None:
            return
        managers = [
            u for m, u in await repo.members(case.id, Role.CASE_MANAGER) if m.state == MemberState.JOINED
        ]
        speaker = Speaker(repo, self._services, event.network, now)
        await speaker.to_members(
            case,
            managers,
            lambda readers: _(
                "{names}: {name} asked to join this room without an invitation of theirs; I declined and "
                "withdrew the link they used. If they should join, invite them with !invite.",
                names=", ".join(u.name for u in readers),
                name=event.user_name or event.user,
            ),
        )

    async def _button(self, repo: Repo, event: ButtonPressed) -> None:
        """The buttons under a reminder: the same checks as a ✅ reaction, once per message each. Unlike a
        reaction, a press is answered, refusals too: someone the bot never met is told they are not a
        member rather than left wondering why nothing happened."""
        await guard.check_sender(
            repo, self._services, event.network, event.room_id, event.sender, event.sender_name
        )
        if await repo.delivered(event.network, event.message_id) is not None:
            user = await repo.ensure_user(event.network, event.sender, self._services.clock.now())
            if event.sender_name and user.display_name is None:
                user.display_name = event.sender_name[:128]
        found = await self._reminder_message(
            repo, event.network, event.message_id, event.sender, event.room_id
        )
        if found is None:
            return
        ctx, row, reminder = found
        action = "snooze.button" if event.data == SNOOZE else "ack.button"
        with using(self._services.translator_for(ctx.user)):
            refused = refusal(ctx, "ack", ACKNOWLEDGE)
            if refused is not None:
                await ctx.reply(refused)
                await self._audit(ctx, action, audit.Outcome.REFUSED)
                return
            if event.data == DONE:
                if row.acknowledged_at is None:
                    await self._acknowledge(ctx, row, reminder)
                    await ctx.reply(
                        _("{name} confirmed reminder {n}.", name=ctx.user.name, n=reminder.number)
                    )
                    await self._audit(ctx, action, audit.Outcome.OK)
            elif event.data == SNOOZE and row.snoozed_at is None:
                row.snoozed_at = ctx.now
                await self._audit(ctx, action, audit.Outcome.OK)
                case = ctx.require_case()
                again = await reminders.create(
                    repo,
                    self._services,
                    case,
                    kind=ReminderKind(reminder.kind),
                    creator=ctx.user,
                    target_kind=TargetKind.USER,
                    target_user=ctx.user,
                    text=reminder.text,
                    item_id=reminder.item_id,
                    due_at=ctx.now + timedelta(days=1),
                    zone=ctx.zone,
                    now=ctx.now,
                )
                await ctx.reply(
                    _(
                        "Reminder {n} comes back to {name} on {when} (as reminder {m}).",
                        n=reminder.number,
                        name=ctx.user.name,
                        when=fmt_datetime(again.due_at),
                        m=again.number,
                    )
                )

    async def _reminder_message(
        self, repo: Repo, network: str, message_id: str, sender: str, room_id: str
    ) -> tuple[Ctx, OutboxRow, Reminder] | None:
        """The reminder a delivered message carried, and the context of its case for the sender."""
        row = await repo.delivered(network, message_id)
        reminder = await repo.session.get(Reminder, row.reminder_id) if row and row.reminder_id else None
        user = await repo.user(network, sender)
        if row is None or reminder is None or user is None:
            return None
        case = await repo.case_by_id(reminder.case_id)
        now = self._services.clock.now()
        ctx = Ctx(repo, self._services, network, room_id, user, now, case, is_direct=room_id != case.room_id)
        ctx.member = await repo.member(case.id, user.id)
        return ctx, row, reminder

    async def _acknowledge(self, ctx: Ctx, row: OutboxRow, reminder: Reminder) -> None:
        row.acknowledged_by = ctx.user.id
        row.acknowledged_at = ctx.now
        await log_entry(
            ctx.repo,
            ctx.require_case().id,
            ctx.user.id,
            ctx.now,
            EntryKind.ACK,
            item_id=reminder.item_id,
            detail=str(reminder.number),
        )

    async def _moved(self, repo: Repo, event: RoomMoved) -> None:
        case = await repo.case_by_room(event.network, event.room_id)
        if case is not None:
            case.room_id = event.new_room_id
            log.info("the room of case %s moved to a new id", case.ref)

    async def _standing(self, repo: Repo, event: BotStanding) -> None:
        """The bot lost a case room, or lacks rights there: its case managers hear it, in their language."""
        case = await repo.case_by_room(event.network, event.room_id)
        if case is None or (event.present and not event.missing):
            return
        now = self._services.clock.now()
        managers = [
            u for m, u in await repo.members(case.id, Role.CASE_MANAGER) if m.state != MemberState.LEFT
        ]
        speaker = Speaker(repo, self._services, event.network, now)
        if event.present:
            await speaker.to_members(
                case,
                managers,
                lambda readers: _(
                    "{names}: to run this room I still need: {missing}. In the group's settings, make me an "
                    "administrator with these rights.",
                    names=", ".join(u.name for u in readers),
                    missing="; ".join(room_need(need) for need in event.missing),
                ),
            )
            return
        await guard.room_lost(repo, self._services, event.network, case)

    async def _invited(self, repo: Repo, event: BotInvited) -> None:
        """Join direct chats of case managers, staff and members of open cases; leave everything else.

        A case room is only ever one the bot created or one a case manager linked by command, never a room
        someone invited the bot to: a room by any other name is declined."""
        network = self._services.networks[event.network]
        allowed = event.is_direct and (
            event.inviter in self._services.settings.case_managers
            or event.inviter in network.staff
            or await repo.is_member_of_open_case(event.network, event.inviter)
        )
        log.info(
            "invited to a %s by %s: %s",
            "direct chat" if event.is_direct else "room that is not a direct chat",
            "a known user" if allowed else "someone the bot does not serve there",
            "joining" if allowed else "leaving",
        )
        effect = JoinRoom() if allowed else LeaveRoom()
        await repo.enqueue(event.network, Target(room_id=event.room_id), effect, self._services.clock.now())

    async def _reaction(self, repo: Repo, event: ReactionAdded) -> None:
        """A ✅ on a reminder acknowledges it, once, for a current member of its open case (the same check
        as a command: the role held now, the state of the case now)."""
        await guard.check_sender(repo, self._services, event.network, event.room_id, event.sender)
        if event.key.rstrip("\ufe0f") not in ACK_KEYS:
            return
        found = await self._reminder_message(
            repo, event.network, event.target_event_id, event.sender, event.room_id
        )
        if found is None:
            return
        ctx, row, reminder = found
        if row.acknowledged_at is not None:
            return
        with using(self._services.translator_for(ctx.user)):
            refused = refusal(ctx, "ack", ACKNOWLEDGE)
        if refused is not None:
            log.info("reaction to reminder %s refused: not a current member or case not open", reminder.id)
            await self._audit(ctx, "ack.reaction", audit.Outcome.REFUSED)
            return
        await self._acknowledge(ctx, row, reminder)
        await self._audit(ctx, "ack.reaction", audit.Outcome.OK)

    async def _membership(self, repo: Repo, event: MemberJoined | MemberLeft | MemberInvited) -> None:
        """Membership is the bot's: whoever it did not invite is removed (the room guard); a member who
        leaves or is removed outside the bot ends their membership."""
        now = self._services.clock.now()
        case = await repo.case_by_room(event.network, event.room_id)
        if case is None:
            return
        if isinstance(event, MemberInvited):
            await guard.invited(
                repo, self._services, event.network, case, event.room_id, event.user, event.inviter
            )
            return
        user = await repo.user(event.network, event.user)
        member = await repo.member(case.id, user.id) if user is not None else None
        if isinstance(event, MemberJoined) and not guard.is_current(member):
            await guard.intruder(
                repo,
                self._services,
                event.network,
                case,
                event.room_id,
                event.user,
                guard.How.JOINED,
                by=event.by,
                name=event.user_name,
            )
            return
        if user is None or member is None:
            return
        ctx_speaker = Ctx(repo, self._services, event.network, event.room_id, user, now).speaker
        if isinstance(event, MemberJoined):
            commands = self._registry.names_for(Role(member.role))
            await cases.member_joined(ctx_speaker, case, user, member, now, commands)
        else:
            await guard.member_gone(ctx_speaker, case, user, member, event.by, now)

    async def _text(self, repo: Repo, event: TextMessage) -> None:
        now = self._services.clock.now()
        case = await repo.case_by_room(event.network, event.room_id)
        if case is None and not event.is_direct and not await self._for_unlinked_room(repo, event):
            return  # a group that is not a case room: only what opens or links a case is for the bot
        user = await repo.ensure_user(event.network, event.sender, now)
        if event.sender_name and user.display_name is None:
            user.display_name = event.sender_name[:128]
        if case is None and event.is_direct and user.direct_room_id != event.room_id:
            user.direct_room_id = event.room_id  # where what is only for them goes
        member = await repo.member(case.id, user.id) if case is not None else None
        if case is not None and not guard.is_current(member):
            await guard.check_sender(
                repo, self._services, event.network, event.room_id, event.sender, event.sender_name
            )
        ctx = Ctx(
            repo, self._services, event.network, event.room_id, user, now, case, member, event.is_direct
        )
        with using(self._services.translator_for(user)):
            await self._text_in_context(ctx, event.text.strip())

    async def _for_unlinked_room(self, repo: Repo, event: TextMessage) -> bool:
        """In a group that is no case room: the commands declared for it, and answers to a dialog one of
        them started there (the intake of `!case open`)."""
        text = event.text.strip()
        if text.startswith("!"):
            found = self._registry.find(text[1:])
            return found is not None and found[0].permission.unlinked
        user = await repo.user(event.network, event.sender)
        return user is not None and await repo.dialog(event.network, event.room_id, user.id) is not None

    async def _text_in_context(self, ctx: Ctx, text: str) -> None:
        if not text:
            return
        is_command = text.startswith("!")
        dialog = await ctx.repo.dialog(ctx.network, ctx.room_id, ctx.user.id)
        expired = dialog is not None and dialog.expires_at <= ctx.now
        if dialog is not None and expired:
            await ctx.repo.delete(dialog)
            dialog = None
        if not (is_command or dialog is not None or ctx.case is None):
            return  # conversation between people in the case room: not for the bot
        if len(text) > MAX_MESSAGE:
            await ctx.reply(
                _(
                    "Your message is too long ({length} characters; at most {limit}). Nothing was changed.",
                    length=len(text),
                    limit=MAX_MESSAGE,
                )
            )
            return
        if _CONTROL.search(text):
            await ctx.reply(
                _("Your message contains control characters; please send plain text. Nothing was changed.")
            )
            return
        if _INVISIBLE.search(text):
            await ctx.reply(
                _(
                    "Your message contains invisible characters that change how text is displayed (direction "
                    "overrides or zero-width characters); please send it without them. Nothing was changed."
                )
            )
            return
        if is_command:
            await self._command(ctx, text[1:])
        elif dialog is not None:
            await self._answer(ctx, dialog, text)
        elif expired:
            await ctx.reply(
                _(
                    "The dialog expired after {n} minutes without an answer; nothing was kept. Start "
                    "again when you are ready.",
                    n=self._services.settings.dialog_timeout_minutes,
                )
            )
        else:
            await ctx.reply(_("I understand commands that start with “!”. Type !help to see them."))

    async def _answer(self, ctx: Ctx, dialog: Dialog, text: str) -> None:
        """An answer to a dialog is checked like the command that started it, with the sender's role and
        the case's state as they are now: a dialog whose starter lost the role, or whose case was closed
        meanwhile, ends here and changes nothing."""
        flow = self._services.dialogs[dialog.name]
        command = self._registry.get(flow.command)
        refused = (
            refusal(ctx, flow.command, command.permission)
            if command is not None
            else _("This dialog cannot go on.")
        )
        if refused is not None:
            await ctx.repo.delete(dialog)
            await ctx.reply(refused + "\n" + _("The dialog has ended; nothing more was changed."))
            await self._audit(ctx, f"{flow.command}.answer", audit.Outcome.REFUSED)
            return
        outcome = await self._guarded(ctx, lambda: continue_dialog(ctx, dialog, text))
        await self._audit(ctx, f"{flow.command}.answer", outcome)

    async def _command(self, ctx: Ctx, text: str) -> None:
        found = self._registry.find(text)
        words = text.split()
        name = (words or [""])[0][:40]
        if found is None:
            family = self._registry.family(name)
            if family:
                await ctx.reply(self._family_help(ctx, name, family, text))
                return
            await ctx.reply(
                _("Unknown command “!{name}”. Type !help to see the commands you can use.", name=name)
            )
            return
        command, rest = found
        refused = refusal(ctx, command.name, command.permission)
        if refused:
            await ctx.reply(refused)
            await self._audit(ctx, command.name, audit.Outcome.REFUSED)
            return
        family = self._registry.family(command.name)
        if family and not command.params and rest.strip():
            await ctx.reply(self._family_help(ctx, command.name, family, text))
            await self._audit(ctx, command.name, audit.Outcome.INVALID)
            return
        outcome = await self._guarded(ctx, lambda: command.run(ctx, command.parse(ctx, rest)), command)
        await self._audit(ctx, command.name, outcome)

    async def _audit(self, ctx: Ctx, action: str, outcome: str) -> None:
        """The entry of a command or a dialog answer, in the handling transaction (after the savepoint of
        `_guarded`): about the case of the room, or the case the command turned out to concern (opened,
        linked, or named from the direct chat) as long as that case still exists."""
        case_id, case_ref = (ctx.case.id, ctx.case.ref) if ctx.case is not None else (None, None)
        concern = ctx.concern
        if concern.case_id is not None and (
            outcome == audit.Outcome.OK or await ctx.repo.session.get(Case, concern.case_id) is not None
        ):
            case_id, case_ref = concern.case_id, concern.case_ref
        await audit.record(
            ctx.repo,
            at=ctx.now,
            action=action,
            outcome=outcome,
            network=ctx.network,
            actor_id=ctx.user.id,
            case_id=case_id,
            case_ref=case_ref,
        )

    def _family_help(self, ctx: Ctx, word: str, family: Sequence[CommandSpec], text: str) -> str:
        lines = []
        if len(text.split()) > 1:
            lines.append(_("There is no “!{text}”.", text=" ".join(text.split()[:2])[:60]))
        lines.append(family_help(word.lower(), family, lambda c: c.permission.allows(ctx)))
        return "\n".join(lines)

    async def _guarded(
        self, ctx: Ctx, action: Callable[[], Awaitable[None]], command: CommandSpec | None = None
    ) -> str:
        """Run a handler in a savepoint: a UserError undoes its changes and becomes the answer. Returns the
        outcome for the audit trail (any other exception rolls the whole handling back, entry included)."""
        session = ctx.repo.session
        try:
            async with session.begin_nested():
                await action()
            return audit.Outcome.OK
        except UserError as error:
            for row in (ctx.user, ctx.case, ctx.member):
                if row is not None:
                    await session.refresh(row)
            message = str(error)
            if isinstance(error, UsageError) and command is not None:
                message += "\n" + _("Usage: {usage}", usage=command.usage)
            await ctx.reply(message)
            return audit.Outcome.REFUSED if isinstance(error, Forbidden) else audit.Outcome.INVALID
