"""Inbound event -> recorded in the inbox -> handled once, in one transaction with its effects."""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.commands.registry import Command, Registry
from bot.core import cases
from bot.core.context import Ctx, Services, UsageError, UserError
from bot.core.dialogs import continue_dialog
from bot.core.render import role_name
from bot.domain.events import (
    EVENT_TYPES,
    BotInvited,
    Event,
    JoinRoom,
    LeaveRoom,
    MemberJoined,
    MemberLeft,
    ReactionAdded,
    Target,
    TextMessage,
)
from bot.domain.model import CaseStatus, EntryKind, MemberState, Role
from bot.i18n import _, using
from bot.storage.models import ActionEntry, Dialog, InboxRow, Reminder
from bot.storage.repo import Repo

log = logging.getLogger(__name__)

MAX_MESSAGE = 4000
MAX_ATTEMPTS = 3
# Reactions that acknowledge a reminder (variation selectors stripped).
ACK_KEYS = frozenset({"✅", "✔", "☑"})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def event_to_json(event: Event) -> dict[str, Any]:
    return {"type": type(event).__name__, **asdict(event)}


def event_from_json(data: dict[str, Any]) -> Event:
    values = dict(data)
    name = values.pop("type")
    for cls in EVENT_TYPES:
        if cls.__name__ == name:
            return cls(**values)
    raise ValueError(f"unknown event type {name!r}")


class Dispatcher:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], services: Services, registry: Registry
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
                            names=", ".join(u.handle for u in readers),
                            sender=event.sender,
                            id=row_id,
                        ),
                    )

    async def _dispatch(self, repo: Repo, event: Event) -> None:
        if isinstance(event, TextMessage):
            await self._text(repo, event)
        elif isinstance(event, MemberJoined | MemberLeft):
            await self._membership(repo, event)
        elif isinstance(event, ReactionAdded):
            await self._reaction(repo, event)
        elif isinstance(event, BotInvited):
            await self._invited(repo, event)

    async def _invited(self, repo: Repo, event: BotInvited) -> None:
        """Join direct chats of case managers, staff and members of open cases; leave everyone else's."""
        network = self._services.networks[event.network]
        allowed = (
            event.inviter in self._services.settings.case_managers
            or event.inviter in network.staff
            or await repo.is_member_of_open_case(event.network, event.inviter)
        )
        log.info(
            "invited to a room by %s: %s",
            "a known user" if allowed else "a stranger",
            "joining" if allowed else "leaving",
        )
        effect = JoinRoom() if allowed else LeaveRoom()
        await repo.enqueue(event.network, Target(room_id=event.room_id), effect, self._services.clock.now())

    async def _reaction(self, repo: Repo, event: ReactionAdded) -> None:
        """A ✅ on a reminder acknowledges it, once, on behalf of a member of its case."""
        if event.key.rstrip("\ufe0f") not in ACK_KEYS:
            return
        row = await repo.delivered(event.network, event.target_event_id)
        if row is None or row.reminder_id is None or row.acknowledged_at is not None or row.case_id is None:
            return
        user = await repo.user(event.network, event.sender)
        member = await repo.member(row.case_id, user.id) if user else None
        if user is None or member is None or member.state == MemberState.LEFT:
            return
        now = self._services.clock.now()
        row.acknowledged_by = user.id
        row.acknowledged_at = now
        reminder = await repo.session.get(Reminder, row.reminder_id)
        await repo.add(
            ActionEntry(
                case_id=row.case_id,
                item_id=reminder.item_id if reminder else None,
                author_id=user.id,
                kind=EntryKind.ACK,
                detail=str(reminder.number) if reminder else None,
                text="",
                created_at=now,
            )
        )

    async def _membership(self, repo: Repo, event: MemberJoined | MemberLeft) -> None:
        now = self._services.clock.now()
        case = await repo.case_by_room(event.network, event.room_id)
        user = await repo.user(event.network, event.user)
        if case is None or user is None:
            return
        member = await repo.member(case.id, user.id)
        if member is None:
            return
        ctx_speaker = Ctx(repo, self._services, event.network, event.room_id, user, now).speaker
        if isinstance(event, MemberJoined):
            commands = self._registry.names_for(Role(member.role))
            await cases.member_joined(ctx_speaker, case, user, member, now, commands)
        else:
            await cases.member_left(ctx_speaker, case, user, member, now)

    async def _text(self, repo: Repo, event: TextMessage) -> None:
        now = self._services.clock.now()
        user = await repo.ensure_user(event.network, event.sender, now)
        case = await repo.case_by_room(event.network, event.room_id)
        if case is None and not event.is_direct:
            return
        member = await repo.member(case.id, user.id) if case is not None else None
        ctx = Ctx(repo, self._services, event.network, event.room_id, user, now, case, member)
        with using(self._services.translator_for(user)):
            await self._text_in_context(ctx, event.text.strip())

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
        if is_command:
            await self._command(ctx, text[1:])
        elif dialog is not None:
            await self._guarded(ctx, lambda: self._continue(ctx, dialog, text))
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

    async def _continue(self, ctx: Ctx, dialog: Dialog, text: str) -> None:
        await continue_dialog(ctx, dialog, text)

    async def _command(self, ctx: Ctx, text: str) -> None:
        found = self._registry.find(text)
        name = (text.split() or [""])[0][:40]
        if found is None:
            await ctx.reply(
                _("Unknown command “!{name}”. Type !help to see the commands you can use.", name=name)
            )
            return
        command, rest = found
        refusal = self._refusal(ctx, command)
        if refusal:
            await ctx.reply(refusal)
            return
        await self._guarded(ctx, lambda: self._run(ctx, command, rest), command)

    def _refusal(self, ctx: Ctx, command: Command[Any]) -> str | None:
        """Why the sender may not run this command here (deny by default), or None."""
        if ctx.case is None:
            if not command.in_direct:
                return _("!{name} works in a case room.", name=command.name)
            if not command.allowed_in_direct(ctx.user.handle, self._services.settings.case_managers):
                return _(
                    "Only case managers can use !{name}. Ask your coordinator to add you to the case "
                    "managers.",
                    name=command.name,
                )
            return None
        if ctx.role is None:
            return _("You are not a member of case {ref}.", ref=ctx.case.ref)
        if not command.in_room:
            return _("!{name} works in your direct chat with me.", name=command.name)
        if not command.allowed_in_room(ctx.role):
            return _(
                "As {role} you cannot use !{name}. Type !help to see what you can do.",
                role=role_name(ctx.role),
                name=command.name,
            )
        if ctx.case.status == CaseStatus.CLOSED and command.writes:
            return _("Case {ref} is closed: it can be read, not changed.", ref=ctx.case.ref)
        return None

    async def _run(self, ctx: Ctx, command: Command[Any], rest: str) -> None:
        await command.run(ctx, command.parse(ctx, rest))

    async def _guarded(
        self, ctx: Ctx, action: Callable[[], Awaitable[None]], command: Command[Any] | None = None
    ) -> None:
        """Run a handler in a savepoint: a UserError undoes its changes and becomes the answer."""
        session = ctx.repo.session
        try:
            async with session.begin_nested():
                await action()
        except UserError as error:
            for row in (ctx.user, ctx.case, ctx.member):
                if row is not None:
                    await session.refresh(row)
            message = str(error)
            if isinstance(error, UsageError) and command is not None:
                usage = (
                    f"!{command.name} {_(command.usage)}".rstrip() if command.usage else f"!{command.name}"
                )
                message += "\n" + _("Usage: {usage}", usage=usage)
            await ctx.reply(message)
