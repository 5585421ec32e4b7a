"""`!export` on a real Synapse: the case manager's own client receives the file in the direct chat,
encrypted (`file`, never a plain `url`), downloads it, decrypts it, and it is the case as a FHIR Bundle."""

from __future__ import annotations

import json
import re
from typing import Any

import aiohttp
from fhir.resources.R4B.bundle import Bundle
from nio import MatrixRoom, RoomEncryptedFile, RoomMessageFile
from nio.crypto.attachments import decrypt_attachment

from tests.e2e.conftest import Team


async def _download(homeserver: str, token: str, mxc: str) -> bytes:
    """As a current client does: the authenticated media API (Synapse serves new media only there)."""
    server, media_id = mxc.removeprefix("mxc://").split("/", 1)
    url = f"{homeserver}/_matrix/client/v1/media/download/{server}/{media_id}"
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, headers={"Authorization": f"Bearer {token}"}) as response,
    ):
        assert response.status == 200, await response.text()
        return await response.read()


async def test_export_in_an_encrypted_case_room_reaches_the_direct_chat_encrypted(team: Team) -> None:
    alice = await team.person("alice")
    bot = team.bot([alice.user_id])
    files: list[tuple[str, dict[str, Any]]] = []

    async def on_file(room: MatrixRoom, event: RoomEncryptedFile | RoomMessageFile) -> None:
        if event.sender == bot.user_id:
            files.append((room.room_id, event.source["content"]))

    alice.client.add_event_callback(on_file, (RoomEncryptedFile, RoomMessageFile))
    bot.start()
    dm = await alice.chat_with(bot.user_id)
    await alice.say(dm, "!case open Mrs D at home")
    opened = await alice.answer(bot.user_id, dm, "is open", within=60)
    found = re.search(r"C-\d{4}-\d{4}", opened.body)
    assert found is not None
    ref = found.group()
    room = opened.body.rsplit("https://matrix.to/#/", 1)[1].strip()
    await alice.join_invite(room)
    await alice.answer(bot.user_id, room, "Welcome")
    assert alice.client.rooms[room].encrypted and alice.client.rooms[dm].encrypted
    await alice.say(room, "!plan add Insulin injections <b>twice</b> a day")
    await alice.answer(bot.user_id, room, "Plan item #1 added")

    await alice.say(room, "!export")
    told = await alice.answer(bot.user_id, room, "direct chat")
    assert told.encrypted and "Insulin" not in told.body
    await alice.until(lambda: bool(files), "the export in the direct chat", within=60)
    ((where, content),) = files
    assert where == dm and content["msgtype"] == "m.file"
    assert "url" not in content and "file" in content  # encrypted media only
    assert content["filename"].startswith(ref) and content["filename"].endswith(".fhir.json")
    assert content["info"]["mimetype"] == "application/fhir+json"
    encrypted = content["file"]
    ciphertext = await _download(team.synapse.url, alice.client.access_token, encrypted["url"])
    assert content["info"]["size"] == len(ciphertext)
    assert b"Insulin" not in ciphertext  # what the homeserver keeps is unreadable
    plaintext = decrypt_attachment(
        ciphertext, encrypted["key"]["k"], encrypted["hashes"]["sha256"], encrypted["iv"]
    )
    assert Bundle.model_validate_json(plaintext).type == "collection"
    entries = json.loads(plaintext)["entry"]
    tasks = [e["resource"] for e in entries if e["resource"]["resourceType"] == "Task"]
    assert [t["description"] for t in tasks] == ["Insulin injections <b>twice</b> a day"]
    assert not bot.process_failed(), bot.logs()[-3000:]
