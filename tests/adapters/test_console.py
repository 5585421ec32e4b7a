"""The console as a newcomer uses it: a script of several people, then a restart on the same database."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

SESSION_ONE = """\
# alice is a case manager (see the config), bob a nurse, carol the daughter, dora the person
alice: !case open Mrs D at home
alice@{ref}: !consent record team given paper form signed
alice@{ref}: !consent record carers given paper form signed
alice@{ref}: !invite bob as professional from Home nursing
alice@{ref}: !invite carol as carer
alice@{ref}: !invite dora as person
alice@{ref}: !invite olga as observer from District council
alice@{ref}: !need add health Diabetes follow-up
alice@{ref}: /plan add Insulin injections owner bob every day 8:00 need 1
alice@{ref}: !plan add Apply for home help allowance owner carol due in 5 days
bob@{ref}: !log #1 First visit done, glucose fine
carol@{ref}: !close no
alice@{ref}: !remind carers in 2 seconds bring the medication list
alice@{ref}: !followup #2 in 3 days
alice@{ref}: !review every 3 months
alice@{ref}: !plan done 9
this line is not a message
@wait 3
"""

SESSION_TWO = """\
dora@{ref}: !plan
alice@{ref}: !history
alice@{ref}: !reminders
alice@{ref}: !close moved to a care home
alice: !cases
"""


def run_console(tmp_path: Path, script: str, ref: str) -> str:
    path = tmp_path / "session.txt"
    path.write_text(script.format(ref=ref), encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "console",
            "--config",
            str(tmp_path / "caseroom.toml"),
            "--script",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.replace("\u202f", " ")


def test_scripted_session_and_restart(tmp_path: Path) -> None:
    ref = f"C-{datetime.now(UTC).year}-0001"
    (tmp_path / "caseroom.toml").write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/demo.db"\n[bot]\ncase_managers = ["alice"]\n',
        encoding="utf-8",
    )
    upgrade = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade", "--config", "caseroom.toml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    first = run_console(tmp_path, SESSION_ONE, ref)
    assert f"[dm:alice] Case {ref} is open" in first
    assert f"[{ref}] alice recorded that the person gave consent to sharing the case with carers" in first
    assert f"[{ref}] * bob invited, and joins" in first
    assert f"[{ref}] Welcome, bob." in first
    assert f"[{ref}] Plan item #1 added: Insulin injections" in first  # "/" works like "!"
    assert f"[{ref}] As carer you cannot use !close." in first
    assert f"[{ref}] There is no plan item #9 in this case." in first
    assert "! line 18: expected `USER: TEXT`" in first
    assert f"[{ref}] carol: Reminder: bring the medication list" in first  # fell due during @wait

    second = run_console(tmp_path, SESSION_TWO, ref)
    assert "#1 Insulin injections · owner: bob · every day at 08:00 · for need 1" in second
    assert "Apply for home help allowance · owner: carol · due" in second
    assert "bob · #1 · First visit done, glucose fine" in second
    reminders = second.split("!reminders")[1].split("\n> ")[0]
    assert "follow-up on #2" in reminders and "medication" not in reminders
    assert f"Case {ref} is closed: moved to a care home" in second
    assert "You are not in any open case." in second
