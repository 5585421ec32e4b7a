"""What a handler works with: the sender, the room, the case, and the ways to speak to people."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.core.clock import Clock
from bot.domain.events import Effect, SendMessage, Target
from bot.domain.model import MemberState, Role
from bot.i18n import Catalogs, Translator, _, using
from bot.settings import BotSettings
from bot.storage.models import Case, Member, User
from bot.storage.repo import Repo


class UserError(Exception):
    """Bad input or a refused action: the message (already in the sender's language) is the answer.

    Raising it undoes whatever the handler changed.
    """


class UsageError(UserError):
    """The arguments do not fit the command; the dispatcher adds the command's usage line."""


class Forbidden(UserError):
    """The sender may not do this here and now (their role, the case's state): recorded as refused."""


class DialogFlow(Protocol):
    """A multi-step conversation (see conversations/): states are names, data is JSON, both stored."""

    name: str
    # The command that starts it: its permission is checked again for every answer.
    command: str

    async def start(self, ctx: Ctx, data: dict[str, Any]) -> str | None:
        """Ask the first question; return the first state (None: nothing to ask, the dialog is over)."""

    async def step(self, ctx: Ctx, state: str, data: dict[str, Any], text: str) -> str | None:
        """Take one answer; return the next state, or None when the dialog is finished."""


@dataclass(frozen=True)
class Network:
    """What the core needs to know about a chat network: how its user ids look, and what it can do.

    Telegram bots can neither create groups nor add people by id: there a case manager makes the group
    and links it to a case with `!case link`, and invitations are links. The core asks, never assumes.
    """

    name: str
    user_id_pattern: re.Pattern[str]
    example_user: str
    # People who may talk to the bot in a direct chat without being in a case (coordinators...).
    staff: frozenset[str] = frozenset()
    # The bot can create a case room itself (else a case manager links an existing room to the case).
    creates_rooms: bool = True
    # The bot can invite a user by id into a room. Else invitations go by a personal link made from this
    # template (`{token}` filled in), and people are named in commands by the name they were invited by.
    invites_by_id: bool = True
    invite_link: str = ""
    # The bot's own user id there: the room guard never removes it, nor undoes what it did itself.
    bot_user: str = ""


def no_alarm(when: datetime) -> None:
    """Without a scheduler (tools, tests that ring by hand) nobody needs waking."""


@dataclass
class Services:
    catalogs: Catalogs
    clock: Clock
    settings: BotSettings
    networks: dict[str, Network] = field(default_factory=dict)
    dialogs: Mapping[str, DialogFlow] = field(default_factory=dict)
    # Told when a reminder is scheduled, so the alarm can ring early enough without asking the database
    # after every command. Called before the transaction commits: ringing for a reminder that was rolled
    # back only finds nothing due.
    wake_at: Callable[[datetime], None] = no_alarm

    def language_of(self, user: User) -> str:
        return user.language or self.settings.language

    def zone_of(self, user: User) -> ZoneInfo:
        return ZoneInfo(user.timezone or self.settings.timezone)

    def translator_for(self, user: User) -> Translator:
        return self.catalogs.translator(self.language_of(user), self.zone_of(user))

    def case_translator(self, case: Case) -> Translator:
        return self.catalogs.translator(case.language, self.settings.timezone)


# What the buttons under a reminder say to the core when pressed.
DONE, SNOOZE = "done", "snooze"


def reminder_buttons() -> tuple[tuple[str, str], ...]:
    """The buttons under a reminder, in the current language (networks without buttons use reactions)."""
    return ((_("✅ Done"), DONE), (_("💤 Snooze 1 day"), SNOOZE))


@dataclass
class Speaker:
    """Writes messages into the outbox, each rendered for its readers' language and zone."""

    repo: Repo
    services: Services
    network: str
    now: datetime

    async def emit(self, target: Target, effect: Effect) -> None:
        await self.repo.enqueue(self.network, target, effect, self.now)

    async def to_room(
        self, case: Case, build: Callable[[], str], mention_room: bool = False, reminder_id: int | None = None
    ) -> None:
        """A general message to the case room, in the case's language: the person's, when there is one."""
        language = case.language
        for _member, user in await self.repo.members(case.id, Role.PERSON):
            language = user.language or language
            break
        with using(self.services.catalogs.translator(language, self.services.settings.timezone)):
            text = build()
            buttons = reminder_buttons() if reminder_id is not None else ()
        await self.emit(
            Target(case_id=case.id),
            SendMessage(text, (), mention_room, reminder_id=reminder_id, buttons=buttons),
        )

    async def to_members(
        self,
        case: Case,
        users: Iterable[User],
        build: Callable[[list[User]], str],
        reminder_id: int | None = None,
    ) -> None:
        """A message addressed to particular members: one per language and zone, each naming its readers."""
        groups: dict[tuple[str, str], list[User]] = {}
        for user in users:
            groups.setdefault((self.services.language_of(user), str(self.services.zone_of(user))), []).append(
                user
            )
        for (language, zone), readers in groups.items():
            with using(self.services.catalogs.translator(language, zone)):
                text = build(readers)
                buttons = reminder_buttons() if reminder_id is not None else ()
            message = SendMessage(
                text,
                tuple(u.handle for u in readers),
                reminder_id=reminder_id,
                mention_names=tuple(u.name for u in readers),
                buttons=buttons,
            )
            await self.emit(Target(case_id=case.id), message)


@dataclass
class Concern:
    case_id: int | None = None
    case_ref: str | None = None


@dataclass
class Ctx:
    """One inbound message being handled: who wrote, where, about which case."""

    repo: Repo
    services: Services
    network: str
    room_id: str
    user: User
    now: datetime
    case: Case | None = None
    member: Member | None = None
    # Written in the sender's direct chat with the bot (not in a case room or another group).
    is_direct: bool = True
    # The case a command written outside its room turned out to be about (`about`), for the audit trail.
    # Shared by the copies `dataclasses.replace` makes of this context.
    concern: Concern = field(default_factory=Concern)

    @property
    def speaker(self) -> Speaker:
        return Speaker(self.repo, self.services, self.network, self.now)

    @property
    def role(self) -> Role | None:
        if self.member is None or self.member.state == MemberState.LEFT:
            return None
        return Role(self.member.role)

    @property
    def zone(self) -> ZoneInfo:
        return self.services.zone_of(self.user)

    @property
    def language(self) -> str:
        return self.services.language_of(self.user)

    @property
    def net(self) -> Network:
        return self.services.networks[self.network]

    def about(self, case: Case) -> None:
        """Note the case this command concerns, when it was not written in that case's room."""
        self.concern.case_id, self.concern.case_ref = case.id, case.ref

    def require_case(self) -> Case:
        if self.case is None:
            raise RuntimeError("room command without a case")
        return self.case

    async def reply(self, text: str, link_case: Case | None = None) -> None:
        """Answer the sender where they wrote, in their language (the current translator)."""
        effect = SendMessage(text, link_case_id=link_case.id if link_case else None)
        await self.speaker.emit(Target(room_id=self.room_id), effect)
