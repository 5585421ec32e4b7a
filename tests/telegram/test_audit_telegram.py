"""The audit trail on Telegram, through the suite's fake Bot API: invitations by link, join requests approved
and declined, joining; every entry in the trail, none with a name, and the chain intact."""

from __future__ import annotations

from sqlalchemy import select

from bot.core import audit
from bot.storage.models import AuditEntry, User
from tests.telegram.fake_api import FakeBotAPI
from tests.telegram.harness import GROUP, PEOPLE, LiveBot, invite_by_link, record_consent
from tests.telegram.test_membership import database, invitation, join_link, last, open_case

ALICE, BOB, CAROL, EVE = (PEOPLE[name] for name in ("alice", "bob", "carol", "eve"))


async def test_invitations_join_requests_and_joins_are_in_the_trail(fake: FakeBotAPI, live: LiveBot) -> None:
    ref = await open_case(fake, "Mrs Dumont at home")
    token = await invitation(fake, "bob", "professional")
    link = await join_link(fake, BOB, token)
    before = last(fake, GROUP)
    assert fake.request_join(EVE, link)  # eve got hold of bob's link
    await fake.wait_for_sent(GROUP, "without an invitation", after=before)
    await record_consent(fake, "carers")
    await invite_by_link(fake, "carol", "carer")
    await fake.wait_for_sent(GROUP, "Welcome, carol.")

    sessions = database(live)
    async with sessions() as session:
        entries = list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        ids = {u.handle: u.id for u in await session.scalars(select(User))}
    alice, bob, carol = ids[str(ALICE)], ids[str(BOB)], ids[str(CAROL)]
    assert str(EVE) not in ids  # a stranger's request leaves no user behind, and no one in the trail
    seen = [(e.action, e.outcome, e.actor_id) for e in entries if e.case_ref == ref]
    for expected in [
        ("case open", "ok", alice),
        ("member.invited", "ok", alice),
        ("invite", "ok", alice),
        ("member.bound", "ok", bob),
        ("member.join_request", "refused", None),
        ("member.bound", "ok", carol),
        ("member.join_request", "ok", carol),
        ("member.joined", "ok", carol),
    ]:
        assert expected in seen, (expected, seen)
    assert all(e.network == "telegram" for e in entries)
    assert ("member.joined", "ok", bob) not in seen  # declined: he never got in
    for entry in entries:
        shown = " ".join(str(getattr(entry, c.key)) for c in AuditEntry.__table__.columns)
        for secret in ("Dumont", "bob", "carol", "eve", "alice", "t.me"):
            assert secret not in shown, (secret, shown)
    verified = await audit.verify(sessions)
    assert verified.broken is None and verified.entries == len(entries)
