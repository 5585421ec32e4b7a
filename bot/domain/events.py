"""Neutral inbound events and outbound effects.

Adapters turn network traffic into events and carry out effects; the core sees nothing else. Every
effect is stored in the outbox before it is carried out, so each one is a plain, JSON-serialisable
dataclass.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class TextMessage:
    network: str
    event_id: str
    room_id: str
    sender: str
    text: str
    is_direct: bool


@dataclass(frozen=True)
class MemberJoined:
    network: str
    event_id: str
    room_id: str
    user: str


@dataclass(frozen=True)
class MemberLeft:
    network: str
    event_id: str
    room_id: str
    user: str


@dataclass(frozen=True)
class ReactionAdded:
    network: str
    event_id: str
    room_id: str
    sender: str
    target_event_id: str
    key: str


@dataclass(frozen=True)
class BotInvited:
    """Someone invited the bot to a room. Only invitations to a direct chat are accepted."""

    network: str
    event_id: str
    room_id: str
    inviter: str
    # The network marks the invitation as one to a direct chat (Matrix: `is_direct` in the invite).
    is_direct: bool = False


Event = TextMessage | MemberJoined | MemberLeft | ReactionAdded | BotInvited
EVENT_TYPES: tuple[type[Event], ...] = (TextMessage, MemberJoined, MemberLeft, ReactionAdded, BotInvited)


@dataclass(frozen=True)
class SendMessage:
    """A message to a room. `mentions` are the network user ids the message addresses.

    `link_room_id` asks the adapter to add a link to that room (the sender fills it in from
    `link_case_id` once the case room exists). `reminder_id` marks a reminder, which members can
    acknowledge; the adapter answers the network's id of the message so a reaction can find it.
    """

    kind: ClassVar[str] = "send_message"
    text: str
    mentions: tuple[str, ...] = ()
    mention_room: bool = False
    link_case_id: int | None = None
    link_room_id: str | None = None
    reminder_id: int | None = None


@dataclass(frozen=True)
class CreateCaseRoom:
    """Create the private coordination room of a case; the adapter answers with the room id."""

    kind: ClassVar[str] = "create_case_room"
    case_ref: str
    name: str
    topic: str
    invite: tuple[str, ...] = ()
    case_managers: tuple[str, ...] = ()


@dataclass(frozen=True)
class LinkRoom:
    """Tie an existing room (a Telegram group the case manager made) to a case."""

    kind: ClassVar[str] = "link_room"
    case_ref: str
    room_id: str


@dataclass(frozen=True)
class Invite:
    kind: ClassVar[str] = "invite"
    user: str
    as_case_manager: bool = False


@dataclass(frozen=True)
class JoinRoom:
    """Accept an invitation (to a direct chat) from someone the bot may talk to."""

    kind: ClassVar[str] = "join_room"


@dataclass(frozen=True)
class LeaveRoom:
    """Decline or leave a room the bot has no business in."""

    kind: ClassVar[str] = "leave_room"


@dataclass(frozen=True)
class Kick:
    kind: ClassVar[str] = "kick"
    user: str
    reason: str = ""


Effect = SendMessage | CreateCaseRoom | LinkRoom | Invite | Kick | JoinRoom | LeaveRoom
EFFECT_TYPES: tuple[type[Effect], ...] = (
    SendMessage,
    CreateCaseRoom,
    LinkRoom,
    Invite,
    Kick,
    JoinRoom,
    LeaveRoom,
)


@dataclass(frozen=True)
class Target:
    """Where an effect goes: a known network room, or the room of a case (resolved at delivery)."""

    room_id: str | None = None
    case_id: int | None = None


def effect_to_json(effect: Effect) -> dict[str, Any]:
    data = asdict(effect)
    data["kind"] = effect.kind
    return data


def effect_from_json(data: dict[str, Any]) -> Effect:
    payload = dict(data)
    kind = payload.pop("kind")
    for cls in EFFECT_TYPES:
        if cls.kind == kind:
            for key, value in payload.items():
                if isinstance(value, list):
                    payload[key] = tuple(value)
            return cls(**payload)
    raise ValueError(f"unknown effect kind {kind!r}")
