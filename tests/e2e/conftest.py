from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.e2e.people import Person
from tests.e2e.synapse import Synapse

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    server = Synapse(tmp_path_factory.mktemp("synapse"))
    server.start()
    yield server
    server.stop()


class Bot:
    """caseroom as its own process (`caseroom run`), so tests can stop, kill and restart it."""

    def __init__(
        self,
        root: Path,
        synapse: Synapse,
        case_managers: list[str],
        user_id: str,
        database: str | None = None,
    ) -> None:
        self.root = root
        self.user_id = user_id
        self.config = root / "caseroom.toml"
        database = database or f"sqlite+aiosqlite:///{root}/caseroom.db"
        self.config.write_text(
            f'[database]\nurl = "{database}"\n'
            f'[bot]\ncase_managers = {case_managers!r}\ntimezone = "Europe/Paris"\n'
            f'[matrix]\nhomeserver = "{synapse.url}"\nuser_id = "{user_id}"\npassword = "{PASSWORD}"\n'
            f'store_path = "{root}/store"\npickle_key = "test-pickle-key-{uuid.uuid4().hex}"\n'
            "sync_timeout_seconds = 2\n",
            encoding="utf-8",
        )
        subprocess.run(
            [sys.executable, "-m", "bot", "db", "upgrade", "--config", str(self.config)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.env: dict[str, str] = {}
        self.name = "bot"
        self.twins: list[Bot] = []

    def start(self) -> None:
        self.starts += 1
        log = (self.root / f"{self.name}-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "-v", "run", "--config", str(self.config)],
            stdout=log,
            stderr=log,
            start_new_session=True,
            env={**os.environ, **self.env},
        )

    def twin(self) -> Bot:
        """A second process with the same settings (same database, same Matrix device)."""
        other = copy.copy(self)
        other.process, other.starts, other.name, other.env = None, 0, f"{self.name}-twin", dict(self.env)
        other.twins = []
        self.twins.append(other)
        return other

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

    def process_failed(self) -> bool:
        return "Traceback" in self.logs()

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.root.glob(f"{self.name}-*.log")))


class Team:
    def __init__(self, synapse: Synapse, root: Path) -> None:
        self.synapse = synapse
        self.root = root
        self.tag = uuid.uuid4().hex[:6]
        self.people: dict[str, Person] = {}
        self.bots: list[Bot] = []

    def id(self, name: str) -> str:
        return f"@{name}{self.tag}:localhost"

    async def person(self, name: str) -> Person:
        self.synapse.register(f"{name}{self.tag}", PASSWORD)
        (self.root / f"store-{name}").mkdir()
        person = await Person.login(
            self.synapse.url, f"{name}{self.tag}", PASSWORD, self.root / f"store-{name}"
        )
        self.people[name] = person
        return person

    def bot(self, case_managers: list[str], database: str | None = None) -> Bot:
        user_id = self.synapse.register(f"caseroom{self.tag}", PASSWORD)
        bot = Bot(self.root / "bot", self.synapse, case_managers, user_id, database)
        self.bots.append(bot)
        return bot

    async def close(self) -> None:
        for bot in self.bots:
            bot.stop()
            for twin in bot.twins:
                twin.stop()
        for person in self.people.values():
            await person.close()


@pytest.fixture
async def team(synapse: Synapse, tmp_path: Path) -> AsyncIterator[Team]:
    (tmp_path / "bot").mkdir()
    team = Team(synapse, tmp_path)
    yield team
    await team.close()
