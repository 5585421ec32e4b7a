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
    # The sender's name on the network, where its ids mean nothing to people (Telegram).
    sender_name: str = ""


@dataclass(frozen=True)
class MemberJoined:
    """`user` is in the room now. `by` is who let them in where the network says (the inviter on Matrix,
    the member who added them on Telegram; empty when they came in by themselves, through a link)."""

    network: str
    event_id: str
    room_id: str
    user: str
    by: str = ""
    user_name: str = ""


@dataclass(frozen=True)
class MemberInvited:
    """`inviter` invited `user` to the room (Matrix): the bot's own invitations, and anyone else's."""

    network: str
    event_id: str
    room_id: str
    user: str
    inviter: str


@dataclass(frozen=True)
class MemberLeft:
    """`user` left the room, or was removed from it by `by` (empty when they left by themselves)."""

    network: str
    event_id: str
    room_id: str
    user: str
    by: str = ""


@dataclass(frozen=True)
class RoomSettingChanged:
    """Someone other than the bot changed a setting that protects a case room (who may join, read or
    invite; see `PROTECTED`); the bot puts it back."""

    network: str
    event_id: str
    room_id: str
    setting: str
    sender: str


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


@dataclass(frozen=True)
class JoinRequested:
    """Someone asked to join a room through an invitation link (Telegram join requests)."""

    network: str
    event_id: str
    room_id: str
    user: str
    user_name: str
    link: str


@dataclass(frozen=True)
class ButtonPressed:
    """A button under one of the bot's messages was pressed; `message_id` is what the send answered."""

    network: str
    event_id: str
    room_id: str
    sender: str
    message_id: str
    data: str
    sender_name: str = ""


@dataclass(frozen=True)
class RoomMoved:
    """The network gave a room a new id (a Telegram group upgraded to a supergroup)."""

    network: str
    event_id: str
    room_id: str
    new_room_id: str


@dataclass(frozen=True)
class BotStanding:
    """What the bot can do in a room changed: it was removed or blocked (`present` False), or its rights
    were checked and `missing` names what it lacks there (see `ROOM_NEEDS`)."""

    network: str
    event_id: str
    room_id: str
    present: bool
    missing: tuple[str, ...] = ()


# What the bot may lack in a group it has to run as a case room. "alone": the group held other people
# when it was linked (sent as "alone:<how many>").
ROOM_NEEDS = ("admin", "invite", "restrict", "title", "read", "alone")

# The settings of a case room that are the bot's alone.
PROTECTED = (
    "invite",
    "join_rules",
    "history_visibility",
    "guest_access",
    "power_levels",
    "encryption",
    "server_acl",
    "tombstone",
    "case_marker",
    "permissions",
)

Event = (
    TextMessage
    | MemberJoined
    | MemberInvited
    | MemberLeft
    | RoomSettingChanged
    | ReactionAdded
    | BotInvited
    | JoinRequested
    | ButtonPressed
    | RoomMoved
    | BotStanding
)
EVENT_TYPES: tuple[type[Event], ...] = (
    TextMessage,
    MemberJoined,
    MemberInvited,
    MemberLeft,
    RoomSettingChanged,
    ReactionAdded,
    BotInvited,
    JoinRequested,
    ButtonPressed,
    RoomMoved,
    BotStanding,
)


@dataclass(frozen=True)
class SendMessage:
    """A message to a room. `mentions` are the network user ids the message addresses.

    `mention_names` are the names the text calls them by (same order), for networks that link a name
    to its person. `link_room_id` asks the adapter to add a link to that room (the sender fills it in
    from `link_case_id` once the case room exists). `reminder_id` marks a reminder, which members can
    acknowledge; the adapter answers the network's id of the message so a reaction or a button press can
    find it. `buttons` are (label, data) pairs, shown where the network has buttons.
    """

    kind: ClassVar[str] = "send_message"
    text: str
    mentions: tuple[str, ...] = ()
    mention_room: bool = False
    link_case_id: int | None = None
    link_room_id: str | None = None
    reminder_id: int | None = None
    mention_names: tuple[str, ...] = ()
    buttons: tuple[tuple[str, str], ...] = ()


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
    # The room's new title, where the network lets the bot set it ("<REF> · <label>").
    title: str = ""


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


@dataclass(frozen=True)
class SendJoinLink:
    """Make a link to ask to join `group` (one person's, named `name`) and send `text` with the link in
    place of `{link}` to the target room (the invitee's direct chat). Networks that invite by link only."""

    kind: ClassVar[str] = "send_join_link"
    group: str
    name: str
    text: str


@dataclass(frozen=True)
class AnswerJoin:
    """Approve or decline `user`'s request to join the target room; the link it came through is revoked
    either way (it was meant for one person, and used)."""

    kind: ClassVar[str] = "answer_join"
    user: str
    approve: bool
    link: str = ""


@dataclass(frozen=True)
class SendFile:
    """A file for the target room (an export, for the direct chat of who asked): `data` is base64.
    Where the room is encrypted the file is uploaded encrypted. `caption` goes with it as text."""

    kind: ClassVar[str] = "send_file"
    name: str
    mimetype: str
    data: str
    caption: str = ""


@dataclass(frozen=True)
class GuardRoom:
    """Put the target case room's protective settings as the bot keeps them: only the bot may invite,
    change who may join, read or post, or change the room's rights. `read_only` (a closed case): members
    read but no longer write."""

    kind: ClassVar[str] = "guard_room"
    read_only: bool = False


@dataclass(frozen=True)
class EraseRoom:
    """The case of the target room was erased: redact the bot's messages `redact` (network ids) where the
    network allows it, remove `members` (network ids), then leave and forget the room."""

    kind: ClassVar[str] = "erase_room"
    redact: tuple[str, ...] = ()
    members: tuple[str, ...] = ()


Effect = (
    SendMessage
    | CreateCaseRoom
    | LinkRoom
    | Invite
    | Kick
    | JoinRoom
    | LeaveRoom
    | SendJoinLink
    | AnswerJoin
    | SendFile
    | GuardRoom
    | EraseRoom
)
EFFECT_TYPES: tuple[type[Effect], ...] = (
    SendMessage,
    CreateCaseRoom,
    LinkRoom,
    Invite,
    Kick,
    JoinRoom,
    LeaveRoom,
    SendJoinLink,
    AnswerJoin,
    SendFile,
    GuardRoom,
    EraseRoom,
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


def _frozen(value: Any) -> Any:
    """JSON gives lists back; the dataclasses hold tuples (of tuples, for buttons)."""
    return tuple(_frozen(v) for v in value) if isinstance(value, list) else value


def effect_from_json(data: dict[str, Any]) -> Effect:
    payload = dict(data)
    kind = payload.pop("kind")
    for cls in EFFECT_TYPES:
        if cls.kind == kind:
            return cls(**{key: _frozen(value) for key, value in payload.items()})
    raise ValueError(f"unknown effect kind {kind!r}")
