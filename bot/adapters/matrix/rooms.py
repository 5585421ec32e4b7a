"""Which rooms the bot made for which case: read from the rooms' own state, never from their names."""

from __future__ import annotations

from typing import Any

# The state event that ties a room to its case: the case reference and the creation token (the outbox
# transaction id of the CreateCaseRoom that made the room).
CASE_STATE = "org.caseroom.case"


class CaseRoomIndex:
    """Who created each room the bot is in, and which case creation (token) the bot tied it to.

    Read from the state that sync delivers (nio leaves an unknown state type as an UnknownEvent whose
    `source` is the raw event, so the raw events are read here), so that a creation interrupted by a
    crash is found again without a request per room.
    """

    def __init__(self) -> None:
        self._creators: dict[str, str] = {}
        self._cases: dict[str, tuple[str, str, str]] = {}  # room id -> (sender, ref, token)

    def read(self, room_id: str, events: list[Any]) -> None:
        self.read_sources(room_id, [getattr(event, "source", None) for event in events])

    def read_sources(self, room_id: str, sources: list[Any]) -> None:
        # The creation first, wherever it comes in the list: a case marker counts only from the creator, so
        # a marker someone else sent neither ties a room to a case nor unties the bot's room (the guard
        # puts the bot's back).
        ordered = sorted(
            (s for s in sources if isinstance(s, dict)), key=lambda s: s.get("type") != "m.room.create"
        )
        for source in ordered:
            if source.get("state_key") != "":
                continue
            sender, content = source.get("sender"), source.get("content")
            if not isinstance(sender, str) or not isinstance(content, dict):
                continue
            if source.get("type") == "m.room.create":
                self._creators[room_id] = sender
            elif source.get("type") == CASE_STATE and sender == self._creators.get(room_id):
                ref, token = content.get("ref"), content.get("token")
                if isinstance(ref, str) and isinstance(token, str):
                    self._cases[room_id] = (sender, ref, token)
                else:
                    self._cases.pop(room_id, None)

    def created(self, room_id: str, creator: str, ref: str, token: str) -> None:
        self._creators[room_id] = creator
        self._cases[room_id] = (creator, ref, token)

    def knows(self, room_id: str) -> bool:
        return room_id in self._creators

    def case_rooms(self, bot: str) -> list[str]:
        """The rooms the bot created and tied to a case itself."""
        return [
            room_id
            for room_id, (sender, _ref, _token) in self._cases.items()
            if sender == bot and self._creators.get(room_id) == bot
        ]

    def marker(self, room_id: str) -> dict[str, str] | None:
        """The content of the room's case marker as its creator set it."""
        case = self._cases.get(room_id)
        return {"ref": case[1], "token": case[2]} if case is not None else None

    def is_case_room(self, room_id: str, bot: str) -> bool:
        case = self._cases.get(room_id)
        return case is not None and case[0] == bot and self._creators.get(room_id) == bot

    def room_of(self, bot: str, ref: str, token: str) -> str | None:
        """The room the bot created and tied to this case creation itself, or None."""
        for room_id, case in self._cases.items():
            if case == (bot, ref, token) and self._creators.get(room_id) == bot:
                return room_id
        return None


# The room guard's levels. The bot holds 100 (the room's creator; in room version 12 creators are not
# listed and rank above everyone). Case managers hold MANAGER: enough to kick, ban, redact, name the room
# and set its topic, and, in a closed case's room, to write (so `!case reopen` can be typed there).
BOT_LEVEL = 100
MANAGER = 50
# What only the bot may change: who may join, read or invite, the rights themselves, encryption, which
# servers take part, the room's replacement, and the room's tie to its case.
PROTECTED_EVENTS = {
    "m.room.join_rules": "join_rules",
    "m.room.history_visibility": "history_visibility",
    "m.room.guest_access": "guest_access",
    "m.room.power_levels": "power_levels",
    "m.room.encryption": "encryption",
    "m.room.server_acl": "server_acl",
    "m.room.tombstone": "tombstone",
    CASE_STATE: "case_marker",
}
MANAGER_EVENTS = ("m.room.name", "m.room.topic", "m.room.avatar", "m.room.pinned_events")
# What members send to take part: closed off (raised to MANAGER) while the case is closed.
MESSAGE_EVENTS = ("m.room.message", "m.room.encrypted", "m.reaction", "m.sticker", "m.room.redaction")
# The other protective state, as the bot keeps it.
JOIN_RULES = {"join_rule": "invite"}
HISTORY = {"history_visibility": "invited"}
GUESTS = {"guest_access": "forbidden"}


def guarded_levels(
    current: dict[str, Any], read_only: bool, bot: str, lower_peers: bool = True
) -> dict[str, Any]:
    """The power levels of a case room as the guard keeps them, from the room's current ones: users keep
    their entries, but nobody other than the bot keeps more than MANAGER. Where the bot is only listed at
    100 (room versions before 12), users at 100 are its peers and cannot be lowered: `lower_peers` False
    leaves them."""
    levels = dict(current)
    levels.update(
        {
            "users_default": 0,
            "events_default": MANAGER if read_only else 0,
            "state_default": MANAGER,
            "invite": BOT_LEVEL,
            "kick": MANAGER,
            "ban": MANAGER,
            "redact": MANAGER,
        }
    )
    events = dict(levels.get("events") or {})
    events.update({kind: BOT_LEVEL for kind in PROTECTED_EVENTS})
    events.update({kind: MANAGER for kind in MANAGER_EVENTS})
    events.update({kind: MANAGER if read_only else 0 for kind in MESSAGE_EVENTS})
    levels["events"] = events
    users = dict(levels.get("users") or {})
    for user, level in users.items():
        if user != bot and isinstance(level, int) and level > MANAGER and (lower_peers or level < BOT_LEVEL):
            users[user] = MANAGER
    if "users" in levels or users:
        levels["users"] = users
    return levels


def creation_levels(read_only: bool = False) -> dict[str, Any]:
    """The power levels a new case room is created with (merged into the server's; `users` is left to
    the server so the creator keeps its place)."""
    levels = guarded_levels({}, read_only, "")
    levels.pop("users", None)
    return levels


def is_read_only(levels: dict[str, Any]) -> bool:
    default = levels.get("events_default", 0)
    return isinstance(default, int) and default >= MANAGER
