"""`caseroom run` with [matrix] and [telegram] set: one process serves both, over one database."""

from __future__ import annotations

from tests.e2e.conftest import Team
from tests.telegram.fake_api import FakeBotAPI
from tests.telegram.harness import GROUP, PEOPLE, register_people


async def test_one_process_runs_matrix_and_telegram_together(team: Team) -> None:
    fake = FakeBotAPI(username="caseroom_test_bot")
    fake.start_in_thread()
    try:
        register_people(fake)
        alice = await team.person("alice")
        bot = team.bot([alice.user_id, str(PEOPLE["alice"])])
        with bot.config.open("a", encoding="utf-8") as config:
            config.write(
                f'[telegram]\ntoken = "{fake.token}"\nbase_url = "{fake.base_url}"\n'
                "poll_timeout_seconds = 1\n"
            )
        bot.start()
        # Matrix: a case opened from the direct chat gets a room the bot creates.
        dm = await alice.chat_with(bot.user_id)
        await alice.say(dm, "!case open Mr B at home")
        opened = await alice.answer(bot.user_id, dm, "is open", within=60)
        # Telegram: a case opened from a group the case manager made; the same database numbers both.
        fake.group(GROUP, "new group", creator=PEOPLE["alice"], members=[])
        fake.add_bot(GROUP, "administrator")
        fake.say(PEOPLE["alice"], GROUP, "/case open Mrs D at home")
        answer = await fake.wait_for_sent(GROUP, "is open", timeout=60)
        first = opened.body.split("Case ", 1)[1].split(" ", 1)[0]
        second = str(answer["text"]).split("Case ", 1)[1].split(" ", 1)[0]
        assert first != second  # one sequence of references over both networks
        # Each network answers in its own room; Telegram shows the command menus the bot set.
        assert {"plan", "log", "help"} <= {
            c["command"] for c in fake.commands("fr", {"type": "all_group_chats"})
        }
        assert "caseroom is running on matrix, telegram" in bot.logs()
    finally:
        for started in team.bots:
            started.stop()
        fake.stop_thread()
