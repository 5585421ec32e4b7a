"""The Matrix side of the room guard, offline: the levels it keeps, and the events it reports from what a
sync delivers (only for the bot's case rooms, never for what the bot did itself)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nio import Event as NioEvent

from bot.adapters.matrix.adapter import MatrixAdapter
from bot.adapters.matrix.rooms import CASE_STATE, creation_levels, guarded_levels, is_read_only
from bot.domain.events import BotStanding, MemberInvited, MemberJoined, MemberLeft, RoomSettingChanged
from bot.settings import MatrixSettings

BOT = "@caseroom:example.org"
ROOM = "!case:example.org"
OTHER = "!dm:example.org"


def _adapter(tmp_path: Path) -> MatrixAdapter:
    adapter = MatrixAdapter(
        MatrixSettings(
            homeserver="http://127.0.0.1:1", user_id=BOT, store_path=tmp_path / "store", encrypt_rooms=False
        )
    )
    for room in (ROOM, OTHER):
        adapter._rooms.read_sources(room, [_raw("m.room.create", BOT, {}, "")])
    adapter._rooms.read_sources(ROOM, [_raw(CASE_STATE, BOT, {"ref": "C-1", "token": "caseroom-1"}, "")])
    return adapter


_count = 0


def _raw(
    kind: str, sender: str, content: dict[str, Any], state_key: str | None, **unsigned: Any
) -> dict[str, Any]:
    global _count
    _count += 1
    event: dict[str, Any] = {
        "type": kind,
        "sender": sender,
        "content": content,
        "event_id": f"$e{_count}",
        "origin_server_ts": 1,
        "unsigned": unsigned,
    }
    if state_key is not None:
        event["state_key"] = state_key
    return event


def _member(sender: str, user: str, membership: str, before: str | None = None) -> NioEvent:
    prev = {"prev_content": {"membership": before}} if before else {}
    return NioEvent.parse_event(_raw("m.room.member", sender, {"membership": membership}, user, **prev))


def test_the_guard_levels() -> None:
    created = creation_levels()
    assert "users" not in created  # the server lists the creator (or, in room version 12, does not)
    assert created["invite"] == 100 and created["kick"] == 50 and created["redact"] == 50
    for kind in ("m.room.join_rules", "m.room.history_visibility", "m.room.guest_access", CASE_STATE):
        assert created["events"][kind] == 100
    assert created["events"]["m.room.name"] == 50 and not is_read_only(created)
    old = {"invite": 50, "events": {"m.room.name": 50}, "users": {BOT: 100, "@cm:x": 50, "@mod:x": 75}}
    guarded = guarded_levels(old, read_only=True, bot=BOT)
    assert guarded["users"] == {BOT: 100, "@cm:x": 50, "@mod:x": 50}
    assert is_read_only(guarded) and guarded["events"]["m.room.encrypted"] == 50
    admin = {"users": {BOT: 100, "@admin:x": 100}}
    assert guarded_levels(admin, False, BOT)["users"]["@admin:x"] == 50
    assert guarded_levels(admin, False, BOT, lower_peers=False)["users"]["@admin:x"] == 100
    assert guarded_levels(guarded_levels(old, False, BOT), False, BOT) == guarded_levels(old, False, BOT)


def test_membership_and_settings_become_guard_events(tmp_path: Path) -> None:
    adapter = _adapter(tmp_path)
    invited = adapter._convert(ROOM, _member("@alice:x", "@eve:x", "invite"))
    assert isinstance(invited, MemberInvited) and (invited.user, invited.inviter) == ("@eve:x", "@alice:x")
    assert adapter._convert(ROOM, _member(BOT, "@bob:x", "invite")) is None  # the bot's own invitation
    joined = adapter._convert(ROOM, _member("@eve:x", "@eve:x", "join", "invite"))
    assert isinstance(joined, MemberJoined) and (joined.user, joined.by) == ("@eve:x", "@alice:x")
    kicked = adapter._convert(ROOM, _member("@alice:x", "@bob:x", "leave", "join"))
    assert isinstance(kicked, MemberLeft) and kicked.by == "@alice:x"
    left = adapter._convert(ROOM, _member("@bob:x", "@bob:x", "leave", "join"))
    assert isinstance(left, MemberLeft) and left.by == ""
    lost = adapter._convert(ROOM, _member("@admin:x", BOT, "leave", "join"))
    assert isinstance(lost, BotStanding) and not lost.present
    assert adapter._convert(OTHER, _member("@admin:x", BOT, "leave", "join")) is None  # not a case room
    change = NioEvent.parse_event(_raw("m.room.join_rules", "@admin:x", {"join_rule": "public"}, ""))
    setting = adapter._convert(ROOM, change)
    assert isinstance(setting, RoomSettingChanged) and (setting.setting, setting.sender) == (
        "join_rules",
        "@admin:x",
    )
    marker = NioEvent.parse_event(_raw(CASE_STATE, "@admin:x", {"ref": "C-9", "token": "x"}, ""))
    assert isinstance(adapter._convert(ROOM, marker), RoomSettingChanged)
    adapter._rooms.read_sources(ROOM, [marker.source])
    assert adapter._rooms.marker(ROOM) == {"ref": "C-1", "token": "caseroom-1"}  # someone else's is not taken
    own = NioEvent.parse_event(_raw("m.room.power_levels", BOT, {"users": {}}, ""))
    assert adapter._convert(ROOM, own) is None
    assert adapter._convert(OTHER, change) is None
    assert adapter.info.bot_user == BOT
