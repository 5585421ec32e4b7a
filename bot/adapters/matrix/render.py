"""Message content for Matrix: a notice with a plain body and escaped HTML, pills for the people addressed."""

from __future__ import annotations

import html
from typing import Any

from bot.domain.events import SendMessage


def matrix_to(target: str) -> str:
    return f"https://matrix.to/#/{target}"


def pill(user_id: str) -> str:
    return f'<a href="{html.escape(matrix_to(user_id), quote=True)}">{html.escape(user_id)}</a>'


def content(message: SendMessage) -> dict[str, Any]:
    """Every piece of text is escaped; only the pills and the room link are markup of ours."""
    body = message.text
    formatted = html.escape(message.text)
    for user_id in message.mentions:
        formatted = formatted.replace(html.escape(user_id), pill(user_id))
    if message.link_room_id:
        body += "\n" + matrix_to(message.link_room_id)
        href = html.escape(matrix_to(message.link_room_id), quote=True)
        formatted += f'<br><a href="{href}">{html.escape(message.link_room_id)}</a>'
    if message.mention_room:
        body = "@room " + body
        formatted = "@room " + formatted
    mentions: dict[str, Any] = {"user_ids": list(message.mentions)}
    if message.mention_room:
        mentions["room"] = True
    return {
        "msgtype": "m.notice",
        "body": body,
        "format": "org.matrix.custom.html",
        "formatted_body": formatted.replace("\n", "<br>"),
        "m.mentions": mentions,
    }
