"""What Matrix clients receive: notices, escaped HTML, pills and mentions; @room only when asked. And which
room the bot takes for a case's room after a crash: only one it made itself for that case."""

from __future__ import annotations

from bot.adapters.matrix.render import content
from bot.adapters.matrix.rooms import CASE_STATE, CaseRoomIndex
from bot.domain.events import SendMessage


def test_user_text_is_escaped_and_people_are_pills() -> None:
    message = SendMessage(
        '@bob:example.org: Reminder: <script>alert("x")</script> & **bold**', ("@bob:example.org",)
    )
    result = content(message)
    assert result["msgtype"] == "m.notice"
    assert result["body"] == message.text
    assert "<script>" not in result["formatted_body"]
    assert "&lt;script&gt;" in result["formatted_body"] and "&amp; **bold**" in result["formatted_body"]
    assert '<a href="https://matrix.to/#/@bob:example.org">@bob:example.org</a>' in result["formatted_body"]
    assert result["m.mentions"] == {"user_ids": ["@bob:example.org"]}
    assert "@room" not in result["body"]


def test_room_mention_and_links_and_line_breaks() -> None:
    result = content(SendMessage("line one\nline two", mention_room=True, link_room_id="!abc:example.org"))
    assert result["m.mentions"] == {"user_ids": [], "room": True}
    assert result["body"].startswith("@room line one\nline two")
    assert result["body"].endswith("https://matrix.to/#/!abc:example.org")
    assert "line one<br>line two" in result["formatted_body"]


BOT = "@caseroom:example.org"


def _state(kind: str, sender: str, content: dict[str, object]) -> dict[str, object]:
    return {"type": kind, "state_key": "", "sender": sender, "content": content, "event_id": "$x"}


def test_only_a_room_the_bot_created_and_tied_to_this_creation_is_found_again() -> None:
    """A crash between creating a case room and recording it: the room is found by its creation token,
    and only in a room the bot made itself, never by its name."""
    token: dict[str, object] = {"ref": "C-2026-0002", "token": "caseroom-7"}
    index = CaseRoomIndex()
    # Someone else's room carrying the very same case state (and a matching name) is not the case's room.
    index.read_sources(
        "!attacker",
        [_state("m.room.create", "@eve:example.org", {}), _state(CASE_STATE, "@eve:example.org", token)],
    )
    # In a room the bot made, case state written by someone else does not count either.
    index.read_sources(
        "!other", [_state("m.room.create", BOT, {}), _state(CASE_STATE, "@eve:example.org", token)]
    )
    assert index.room_of(BOT, "C-2026-0002", "caseroom-7") is None
    index.read_sources("!mine", [_state("m.room.create", BOT, {}), _state(CASE_STATE, BOT, token)])
    assert index.room_of(BOT, "C-2026-0002", "caseroom-7") == "!mine"
    assert index.room_of(BOT, "C-2026-0002", "caseroom-8") is None  # another creation's token
    assert index.room_of(BOT, "C-2026-0003", "caseroom-7") is None
    assert index.knows("!attacker") and not index.knows("!unseen")
