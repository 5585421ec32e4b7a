"""Message text for Telegram: HTML with every piece of user text escaped, names linked to their people,
and split at line boundaries into messages Telegram accepts (4,096 characters after entity parsing)."""

from __future__ import annotations

import html

from bot.domain.events import SendMessage

MAX_TEXT = 4096


def length(text: str) -> int:
    """Telegram counts in UTF-16 code units (an emoji outside the BMP counts two)."""
    return len(text.encode("utf-16-le")) // 2


def split(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most `limit` characters, cut at line ends; a line longer than that alone is cut at
    its last space before the limit (or, failing one, at the limit)."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while length(line) > limit:
            cut = _cut(line, limit)
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:cut].rstrip(" "))
            line = line[cut:].lstrip(" ")
        candidate = f"{current}\n{line}" if current else line
        if current and length(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current or not pieces:
        pieces.append(current)
    return [piece for piece in pieces if piece.strip()] or [text[:limit] or " "]


def _cut(line: str, limit: int) -> int:
    """The index where a too long line is cut: after the last space that keeps the head within limit."""
    end = 0
    while end < len(line) and length(line[: end + 1]) <= limit:
        end += 1
    space = line.rfind(" ", 0, end)
    return space + 1 if space > 0 else end


def to_html(text: str, mentions: tuple[str, ...], names: tuple[str, ...]) -> str:
    """Escaped text in which the first occurrence of each addressee's name links to them."""
    body = html.escape(text, quote=False)
    for user_id, name in zip(mentions, names, strict=False):
        if not user_id.isdigit() or not name:
            continue
        escaped = html.escape(name, quote=False)
        body = body.replace(escaped, f'<a href="tg://user?id={user_id}">{escaped}</a>', 1)
    return body


def pieces(message: SendMessage) -> list[tuple[str, str]]:
    """(HTML, plain) for each message to send, the plain text being what to send if Telegram refuses
    the formatting."""
    return [(to_html(piece, message.mentions, message.mention_names), piece) for piece in split(message.text)]
