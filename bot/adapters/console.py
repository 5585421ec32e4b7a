"""A terminal chat that plays several people and rooms at once.

Input lines: `USER: TEXT` (USER writes in their direct chat with the bot) or `USER@REF: TEXT` (in the room
of case REF; `USER@last: TEXT` writes in the room of the case opened last in this run); `# ...` is a
comment (echoed when running a script); `@wait SECONDS` lets time pass so reminders can fall due. A leading
`/` is taken as `!`. Output: `[ROOM] TEXT`, where ROOM is `dm:USER` or the case reference.
"""

from __future__ import annotations

import asyncio
import base64
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TextIO

from bot.adapters.base import EffectDispatch
from bot.core.context import Network
from bot.domain.events import (
    AnswerJoin,
    CreateCaseRoom,
    EraseRoom,
    Event,
    GuardRoom,
    Invite,
    JoinRoom,
    Kick,
    LeaveRoom,
    LinkRoom,
    MemberJoined,
    SendFile,
    SendJoinLink,
    SendMessage,
    TextMessage,
)
from bot.paths import write_private

NETWORK = Network("console", re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}"), "bob")
_LINE = re.compile(r"^(?P<user>[A-Za-z][A-Za-z0-9_.-]{0,63})(?:@(?P<room>\S+))?:\s?(?P<text>.*)$", re.DOTALL)
_WAIT = re.compile(r"^@wait\s+(?P<seconds>\d+(?:\.\d+)?)$")


class ConsoleAdapter(EffectDispatch):
    network = NETWORK.name

    def __init__(self, out: TextIO, run_id: str, files_dir: Path = Path("caseroom-files")) -> None:
        self._out = out
        self._run_id = run_id
        self._files_dir = files_dir
        self.echo_input = False
        self.synthetic: list[Event] = []
        self._counter = 0
        self.printed = 0
        self.last_room: str | None = None

    def _print(self, room: str, text: str) -> None:
        lines = text.splitlines() or [""]
        self._out.write(f"[{room}] {lines[0]}\n")
        for line in lines[1:]:
            self._out.write(f"    {line}\n")
        self._out.flush()
        self.printed += 1

    def _next_id(self, kind: str) -> str:
        self._counter += 1
        return f"{self._run_id}:{kind}-{self._counter}"

    async def do_send_message(self, room_id: str | None, effect: SendMessage, txn_id: str) -> str | None:
        prefix = "@room " if effect.mention_room else ""
        self._print(room_id or "?", prefix + effect.text)
        return f"{room_id}/{txn_id}"

    async def do_create_case_room(
        self, room_id: str | None, effect: CreateCaseRoom, txn_id: str
    ) -> str | None:
        self._print(effect.case_ref, f"* room created: {effect.name}")
        self.last_room = effect.case_ref
        for user in effect.invite:
            self.synthetic.append(MemberJoined(self.network, self._next_id("join"), effect.case_ref, user))
        return effect.case_ref

    async def do_link_room(self, room_id: str | None, effect: LinkRoom, txn_id: str) -> str | None:
        self._print(effect.room_id, f"* room linked to {effect.case_ref}")
        return effect.room_id

    async def do_invite(self, room_id: str | None, effect: Invite, txn_id: str) -> str | None:
        # People in the console accept their invitations at once.
        self._print(room_id or "?", f"* {effect.user} invited, and joins")
        if room_id is not None:
            self.synthetic.append(MemberJoined(self.network, self._next_id("join"), room_id, effect.user))
        return None

    async def do_join_room(self, room_id: str | None, effect: JoinRoom, txn_id: str) -> str | None:
        return None  # console direct chats need no joining

    async def do_leave_room(self, room_id: str | None, effect: LeaveRoom, txn_id: str) -> str | None:
        self._print(room_id or "?", "* the bot leaves")
        return None

    async def do_erase_room(self, room_id: str | None, effect: EraseRoom, txn_id: str) -> str | None:
        self._print(
            room_id or "?",
            f"* case erased: {len(effect.redact)} messages of the bot withdrawn, {len(effect.members)} "
            "members removed; the bot leaves the room",
        )
        return None

    async def do_kick(self, room_id: str | None, effect: Kick, txn_id: str) -> str | None:
        self._print(room_id or "?", f"* {effect.user} removed from the room")
        return None

    async def do_guard_room(self, room_id: str | None, effect: GuardRoom, txn_id: str) -> str | None:
        state = "read-only" if effect.read_only else "writable"
        self._print(room_id or "?", f"* the room is {state}")
        return None

    async def do_send_file(self, room_id: str | None, effect: SendFile, txn_id: str) -> str | None:
        """Write the file into files_dir (never over an earlier one) and say where it is."""
        self._files_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        name = Path(effect.name).name or "file"
        stem, dot, suffix = name.partition(".")
        data, path, n = base64.b64decode(effect.data), self._files_dir / name, 1
        while True:
            try:
                write_private(path, data)
                break
            except FileExistsError:
                n += 1
                path = self._files_dir / f"{stem}-{n}{dot}{suffix}"
        caption = f" — {effect.caption}" if effect.caption else ""
        self._print(room_id or "?", f"* file {path}{caption}")
        return None

    async def do_send_join_link(self, room_id: str | None, effect: SendJoinLink, txn_id: str) -> str | None:
        self._print(room_id or "?", effect.text.replace("{link}", f"console://join/{effect.group}"))
        return None

    async def do_answer_join(self, room_id: str | None, effect: AnswerJoin, txn_id: str) -> str | None:
        verdict = "approved" if effect.approve else "declined"
        self._print(room_id or "?", f"* join request of {effect.user} {verdict}")
        if effect.approve and room_id is not None:
            self.synthetic.append(MemberJoined(self.network, self._next_id("join"), room_id, effect.user))
        return None

    def note(self, text: str) -> None:
        self._out.write(text + "\n")
        self._out.flush()

    def parse(self, line: str, number: int) -> Event | float | str | None:
        """An input line -> an event, a number of seconds to wait, an error text, or None (comment)."""
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            return None
        wait = _WAIT.match(stripped)
        if wait:
            return float(wait.group("seconds"))
        match = _LINE.match(stripped)
        if not match:
            return f"line {number}: expected `USER: TEXT`, `USER@REF: TEXT` or `@wait SECONDS`"
        text = match.group("text")
        if text.startswith("/"):
            text = "!" + text[1:]
        user, room = match.group("user"), match.group("room")
        if room == "last":
            if self.last_room is None:
                return f"line {number}: no case room was opened in this run yet"
            room = self.last_room
        return TextMessage(
            network=self.network,
            event_id=f"{self._run_id}:{number}",
            room_id=room if room else f"dm:{user}",
            sender=user,
            text=text,
            is_direct=room is None,
        )


async def read_lines(source: TextIO, interactive: bool) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    while True:
        if interactive:
            sys.stdout.write("> ")
            sys.stdout.flush()
        line = await loop.run_in_executor(None, source.readline)
        if not line:
            return
        yield line.rstrip("\n")


async def run_console(
    adapter: ConsoleAdapter,
    source: TextIO,
    interactive: bool,
    handle: Callable[[Event], Awaitable[None]],
) -> None:
    number = 0
    async for line in read_lines(source, interactive):
        number += 1
        if not interactive and line.strip().startswith("#"):
            adapter.note(line.strip())
            continue
        item = adapter.parse(line, number)
        if item is None:
            continue
        if isinstance(item, str):
            adapter.note(f"! {item}")
            continue
        if isinstance(item, float):
            await asyncio.sleep(item)
            continue
        if not interactive:
            adapter.note(f"> {line.strip()}")
        before = adapter.printed
        await handle(item)
        while adapter.synthetic:
            await handle(adapter.synthetic.pop(0))
        if adapter.printed == before and not interactive:
            adapter.note("  (no answer)")
