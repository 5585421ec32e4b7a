"""Telegram's sending limits, kept before Telegram has to enforce them with 429s: about one message per
second in a chat, 20 per minute in a group, 30 per second in all."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class SendLimits:
    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        per_chat_seconds: float = 1.0,
        per_group_minute: int = 20,
        per_second: int = 30,
    ) -> None:
        self._clock = clock
        self._per_chat = per_chat_seconds
        self._per_group = per_group_minute
        self._per_second = per_second
        self._last: dict[int, float] = {}
        self._group_sends: dict[int, deque[float]] = {}
        self._all: deque[float] = deque()
        self._paused_until = 0.0

    def wait(self, chat_id: int) -> float:
        """Seconds to wait before sending to this chat; 0 means go now, and the send is counted."""
        now = self._clock()
        group = self._group_sends.setdefault(chat_id, deque()) if chat_id < 0 else None
        while self._all and now - self._all[0] >= 1.0:
            self._all.popleft()
        while group and now - group[0] >= 60.0:
            group.popleft()
        waits = [self._paused_until - now]
        if chat_id in self._last:
            waits.append(self._last[chat_id] + self._per_chat - now)
        if group is not None and len(group) >= self._per_group:
            waits.append(group[0] + 60.0 - now)
        if len(self._all) >= self._per_second:
            waits.append(self._all[0] + 1.0 - now)
        wait = max(waits)
        if wait > 0:
            return wait
        self._last[chat_id] = now
        self._all.append(now)
        if group is not None:
            group.append(now)
        return 0.0

    def pause(self, seconds: float) -> None:
        """Telegram answered 429: nothing goes out before it said."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)
