"""The bot's one Matrix device: logged in once, its access token and device id kept under store_path."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class StoredSession:
    homeserver: str
    user_id: str
    device_id: str
    access_token: str


def session_file(store_path: Path) -> Path:
    return store_path / "session.json"


def load_session(store_path: Path) -> StoredSession | None:
    path = session_file(store_path)
    if not path.exists():
        return None
    return StoredSession(**json.loads(path.read_text(encoding="utf-8")))


def save_session(store_path: Path, session: StoredSession) -> None:
    """Written atomically and readable by the owner only: it holds the access token."""
    store_path.mkdir(parents=True, exist_ok=True)
    path = session_file(store_path)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(asdict(session), handle)
    temporary.replace(path)
