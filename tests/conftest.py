from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.databases import PostgresTemplates, SqliteTemplates, postgres_admin_url
from tests.harness import Harness


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """A test that would reach beyond this machine fails instead."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if (
            isinstance(host, str)
            and not (host.startswith("127.") or host in ("::1", "localhost"))
            and self.family in (socket.AF_INET, socket.AF_INET6)
        ):
            raise RuntimeError(f"test tried to reach {host}")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplates:
    return SqliteTemplates(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="session")
def postgres_templates() -> Iterator[PostgresTemplates | None]:
    admin = postgres_admin_url()
    if admin is None:
        yield None
        return
    templates = PostgresTemplates(admin)
    yield templates
    templates.drop_all()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_url" in metafunc.fixturenames:
        backends = ["sqlite"] + (["postgres"] if postgres_admin_url() else [])
        metafunc.parametrize("backend", backends)


@pytest.fixture
def db_url(
    backend: str, sqlite_templates: SqliteTemplates, postgres_templates: PostgresTemplates | None
) -> str:
    if backend == "postgres":
        assert postgres_templates is not None
        return postgres_templates.fresh()
    return sqlite_templates.fresh()


@pytest.fixture
def postgres_url(postgres_templates: PostgresTemplates | None) -> str:
    """A fresh, migrated PostgreSQL database; the test is skipped where no server is configured."""
    if postgres_templates is None:
        pytest.skip("CASEROOM_TEST_POSTGRES_URL is not set")
    return postgres_templates.fresh()


@pytest.fixture
def sqlite_url(sqlite_templates: SqliteTemplates) -> str:
    return sqlite_templates.fresh()


START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
async def harness(db_url: str) -> AsyncIterator[Harness]:
    h = await Harness.create(db_url, START)
    yield h
    await h.close()


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
