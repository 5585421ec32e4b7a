"""caseroom on Telegram against the suite's fake Bot API: in this process (LiveBot) or as its own process
(ProcessBot, for the kill tests), with the people of the scenarios."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from bot.adapters.telegram.adapter import TelegramAdapter
from bot.app import App
from bot.cli import telegram_menus
from bot.settings import load_settings
from tests.telegram.fake_api import FakeBotAPI

# People of the scenarios: Telegram user ids.
PEOPLE = {"alice": 1001, "bob": 1002, "carol": 1003, "dora": 1004, "eve": 1666}
GROUP = -4001
START = re.compile(r"https://t\.me/caseroom_test_bot\?start=([A-Za-z0-9_-]+)")
JOIN = re.compile(r"https://t\.me/\+[A-Za-z0-9_-]+")


def register_people(fake: FakeBotAPI) -> None:
    for name, user_id in PEOPLE.items():
        fake.user(user_id, name)


class LiveBot:
    """The application and the Telegram adapter in this process, polling the fake every second."""

    def __init__(self, fake: FakeBotAPI, root: Path, case_managers: list[int], database: str | None = None):
        self.fake = fake
        self.database = database or f"sqlite+aiosqlite:///{root}/caseroom.db"
        self.case_managers = [str(user) for user in case_managers]
        self.app: App | None = None
        self.adapter: TelegramAdapter | None = None
        self._task: asyncio.Task[None] | None = None

    def settings(self) -> Any:
        return load_settings(
            None,
            **{
                "database.url": self.database,
                "bot.case_managers": self.case_managers,
                "bot.timezone": "Europe/Paris",
                "telegram.token": self.fake.token,
                "telegram.base_url": self.fake.base_url,
                "telegram.poll_timeout_seconds": 1,
            },
        )

    async def start(self) -> None:
        settings = self.settings()
        self.app = await App.build(settings, poll_seconds=1.0)
        self.adapter = TelegramAdapter(settings.telegram)
        await self.adapter.connect(telegram_menus(self.app.services.catalogs, settings.bot.language))
        self.app.attach(self.adapter.info, self.adapter)
        await self.app.start()
        self._task = asyncio.create_task(self.adapter.run(self.app))

    async def stop(self) -> None:
        if self.app is not None:
            await self.app.drain()
        if self.adapter is not None:
            await self.adapter.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.app is not None:
            await self.app.close()
        self.app = self.adapter = self._task = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()


class ProcessBot:
    """`caseroom run` as its own process, so a test can kill it (SIGKILL) and start it again."""

    def __init__(self, fake: FakeBotAPI, root: Path, case_managers: list[int], extra: str = "") -> None:
        self.root = root
        self.config = root / "caseroom.toml"
        self.config.write_text(
            f'[database]\nurl = "sqlite+aiosqlite:///{root}/caseroom.db"\n'
            f'[bot]\ncase_managers = {[str(u) for u in case_managers]!r}\ntimezone = "Europe/Paris"\n'
            f'[telegram]\ntoken = "{fake.token}"\nbase_url = "{fake.base_url}"\npoll_timeout_seconds = 1\n'
            + extra,
            encoding="utf-8",
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.env: dict[str, str] = {}

    def start(self) -> None:
        self.starts += 1
        log = (self.root / f"bot-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "-v", "run", "--config", str(self.config)],
            stdout=log,
            stderr=log,
            start_new_session=True,
            env={**os.environ, **self.env},
        )

    def died(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.root.glob("bot-*.log")))


async def said(fake: FakeBotAPI, who: str, chat: int, text: str, expect: str, within: float = 15.0) -> str:
    """`who` writes `text` in `chat`; the bot's first answer there after it that contains `expect`."""
    last = max((m["message_id"] for m in fake.sent(chat)), default=0)
    fake.say(PEOPLE[who], chat, text)
    return str((await fake.wait_for_sent(chat, expect, timeout=within, after=last))["text"])


async def record_consent(
    fake: FakeBotAPI, scope: str, group: int = GROUP, manager: int = PEOPLE["alice"]
) -> None:
    """The case manager records the person's consent to `scope` (a carer needs `carers`) as given on a
    paper form; recorded already, the bot says so and nothing changes."""
    last = max((m["message_id"] for m in fake.sent(group)), default=0)
    fake.say(manager, group, f"/consent record {scope} given paper form signed")
    await fake.wait_for_sent(group, "onsent to", after=last)


async def open_case_in_group(fake: FakeBotAPI, label: str, group: int = GROUP, admin: bool = True) -> str:
    """alice makes a group, adds the bot (as an administrator with the rights it needs) and opens a case
    there; returns the bot's answer."""
    fake.group(group, "new group", creator=PEOPLE["alice"], members=[])
    if admin:
        fake.add_bot(group, "administrator")
    else:
        fake.add_bot(group, "member")
    return await said(fake, "alice", group, f"/case open {label}", "is open")


async def invite_by_link(
    fake: FakeBotAPI, who: str, role: str, group: int = GROUP, language: str = "en"
) -> str:
    """alice invites `who` in the group; the link reaches alice's private chat; `who` opens it, answers
    the language question and asks to join with the link the bot sent. Returns the join link."""
    alice = PEOPLE["alice"]
    before = max((m["message_id"] for m in fake.sent(alice)), default=0)
    await said(fake, "alice", group, f"/invite {who} as {role}", f"I invited {who} as {role}")
    invitation = await fake.wait_for_sent(alice, "Invitation for", after=before)
    token = START.search(str(invitation["text"]))
    assert token is not None, invitation
    user = PEOPLE[who]
    last = max((m["message_id"] for m in fake.sent(user)), default=0)
    fake.start(user, token.group(1))
    await fake.wait_for_sent(user, "Which language", after=last)
    answer = await said(fake, who, user, language, "t.me/+")
    link = JOIN.search(answer)
    assert link is not None, answer
    assert fake.request_join(user, link.group(0))
    return link.group(0)
