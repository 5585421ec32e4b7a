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
        for source in sources:
            if not isinstance(source, dict) or source.get("state_key") != "":
                continue
            sender, content = source.get("sender"), source.get("content")
            if not isinstance(sender, str) or not isinstance(content, dict):
                continue
            if source.get("type") == "m.room.create":
                self._creators[room_id] = sender
            elif source.get("type") == CASE_STATE:
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

    def room_of(self, bot: str, ref: str, token: str) -> str | None:
        """The room the bot created and tied to this case creation itself, or None."""
        for room_id, case in self._cases.items():
            if case == (bot, ref, token) and self._creators.get(room_id) == bot:
                return room_id
        return None
