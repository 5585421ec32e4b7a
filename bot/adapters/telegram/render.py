"""Message text for Telegram: HTML with every piece of user text escaped, names linked to their people,
and split at line boundaries into messages Telegram accepts (4,096 characters after entity parsing)."""

from __future__ import annotations

import html
import re

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
    """The index where a too long line is cut: after the last space that keeps the head within limit
    (failing one, at the limit; never before the first character, so a cut always moves on)."""
    end = units = 0
    for char in line:
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            break
        end += 1
    space = line.rfind(" ", 0, end)
    return space + 1 if space > 0 else max(end, 1)


def to_html(text: str, mentions: tuple[str, ...], names: tuple[str, ...]) -> str:
    """Escaped text in which the first occurrence of each addressee's name links to them.

    Names are found in the text as written (not in its escaped form, where "amp" or "lt" would match),
    a whole word preferred, and never inside the name of someone linked before ("Jo" in "Joe"): links
    do not nest."""
    spans: list[tuple[int, int, str]] = []
    for user_id, name in zip(mentions, names, strict=False):
        if not user_id.isdigit() or not name:
            continue
        found = _free(text, name, spans)
        if found is not None:
            spans.append((found, found + len(name), user_id))
    out: list[str] = []
    at = 0
    for start, end, user_id in sorted(spans):
        out.append(html.escape(text[at:start], quote=False))
        out.append(f'<a href="tg://user?id={user_id}">{html.escape(text[start:end], quote=False)}</a>')
        at = end
    out.append(html.escape(text[at:], quote=False))
    return "".join(out)


def _free(text: str, name: str, taken: list[tuple[int, int, str]]) -> int | None:
    """Where `name` first occurs in `text` outside the `taken` spans: as a whole word if it does, else
    anywhere; None when it does not."""
    hits = [m.start() for m in re.finditer(re.escape(name), text)]
    free = [h for h in hits if all(h + len(name) <= a or h >= b for a, b, _id in taken)]
    whole = [
        h
        for h in free
        if not (h > 0 and _word(text[h - 1]) and _word(name[0]))
        and not (h + len(name) < len(text) and _word(text[h + len(name)]) and _word(name[-1]))
    ]
    chosen = whole or free
    return chosen[0] if chosen else None


def _word(char: str) -> bool:
    return char.isalnum() or char == "_"


def pieces(message: SendMessage) -> list[tuple[str, str]]:
    """(HTML, plain) for each message to send, the plain text being what to send if Telegram refuses
    the formatting."""
    return [(to_html(piece, message.mentions, message.mention_names), piece) for piece in split(message.text)]
