"""`caseroom audit verify`, run as a process against the database a bot wrote: the count and head hash of
an intact trail, exit 1 naming the first broken entry of a tampered one."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from sqlalchemy import text

from bot.storage.models import AuditHead
from tests.harness import Harness
from tests.test_operators import caseroom


async def _verify(db_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(caseroom, "audit", "verify", "--db", db_url, cwd=tmp_path)


async def _written(h: Harness) -> None:
    ref = await h.open_case()
    await h.team(ref)
    await h.say("alice", "!plan add Home help owner bob", ref)


async def test_verify_prints_the_count_and_the_head_hash(harness: Harness, tmp_path: Path) -> None:
    await _written(harness)
    async with harness.app.sessions() as session:
        head = await session.get(AuditHead, 1)
    assert head is not None and head.last_id > 10
    result = await _verify(harness.db_url, tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"audit trail intact: {head.last_id} entries" in result.stdout
    assert f"head hash: {head.hash}" in result.stdout
    assert result.stderr == ""


async def test_verify_exits_1_and_names_the_first_broken_entry(harness: Harness, tmp_path: Path) -> None:
    await _written(harness)
    async with harness.app.sessions.begin() as session:
        await session.execute(text("UPDATE audit_log SET outcome = 'refused' WHERE id IN (6, 9)"))
    result = await _verify(harness.db_url, tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("caseroom: the audit trail is broken at entry 6: "), result.stderr
    assert "(5 entries before it hold together)" in result.stderr
    assert "Traceback" not in result.stderr
    assert "intact" not in result.stdout


async def test_verify_on_a_database_that_does_not_open_says_so_in_one_line(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/missing/dir/caseroom.db"
    result = await _verify(url, tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("caseroom: cannot open the database") and result.stderr.count("\n") == 1
