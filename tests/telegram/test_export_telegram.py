"""`/export` on Telegram: the file is a document (sendDocument, multipart) in the case manager's private
chat; the group hears only that it was sent."""

from __future__ import annotations

import json
import re

from fhir.resources.R4B.bundle import Bundle

from tests.telegram.fake_api import FakeBotAPI
from tests.telegram.harness import (
    GROUP,
    PEOPLE,
    START,
    LiveBot,
    invite_by_link,
    open_case_in_group,
    said,
)

ALICE, BOB = PEOPLE["alice"], PEOPLE["bob"]


def _last(fake: FakeBotAPI, chat: int) -> int:
    return max((m["message_id"] for m in fake.sent(chat)), default=0)


async def test_the_export_reaches_the_case_manager_s_private_chat(fake: FakeBotAPI, live: LiveBot) -> None:
    opened = await open_case_in_group(fake, "Mrs D at home")
    found = re.search(r"C-\d{4}-\d{4}", opened)
    assert found is not None
    ref = found.group()
    join_link = await invite_by_link(fake, "bob", "professional")
    invitations = [START.search(str(m.get("text"))) for m in fake.sent(ALICE)]
    (token,) = [found.group(1) for found in invitations if found]
    await said(fake, "alice", GROUP, "/plan add Insulin injections owner bob", "Plan item #1 added")

    refused = await said(fake, "bob", GROUP, "/export", "cannot use")
    assert "professional" in refused
    before = _last(fake, ALICE)
    told = await said(fake, "alice", GROUP, "/export", "direct chat")
    assert "Insulin" not in told
    sent = await fake.wait_for_sent(ALICE, f"Export of case {ref}", after=before)
    assert sent["method"] == "sendDocument"
    document = sent["document"]
    assert document["filename"].startswith(ref) and document["filename"].endswith(".fhir.json")
    bundle = Bundle.model_validate_json(document["data"])
    assert bundle.entry is not None and any(
        e.resource is not None and e.resource.get_resource_type() == "Task" for e in bundle.entry
    )
    assert not [m for m in fake.sent(GROUP) if m["method"] == "sendDocument"]  # never in the group

    # Anyone's own data, to their own private chat: bob opened it with his invitation link.
    before = _last(fake, BOB)
    await said(fake, "bob", GROUP, "/export me", "direct chat")
    mine = await fake.wait_for_sent(BOB, "Everything I hold about you", after=before)
    data = bytes(mine["document"]["data"]).decode("utf-8")
    personal = json.loads(data)
    assert personal["user"]["id"] == str(BOB)
    assert [i["text"] for i in personal["plan_items_owned"]] == ["Insulin injections"]
    # bob's messages are his, but not the secrets in them: the invitation he opened shows without its
    # token, and the group's join link is not there either.
    texts = [m["text"] for m in personal["messages_kept"]]
    assert "!start …" in texts and "!export me" in texts
    assert token not in data and join_link not in data
    assert "alice" not in data.lower() and str(ALICE) not in data
