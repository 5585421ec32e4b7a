"""What Matrix clients receive: notices, escaped HTML, pills and mentions; @room only when asked."""

from __future__ import annotations

from bot.adapters.matrix.render import content
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
