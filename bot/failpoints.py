"""Crash injection for the fault tests: CASEROOM_FAILPOINTS="outbox.after_request=0.1,..." makes the
process kill itself (SIGKILL, no cleanup) at those points with those probabilities. Unset, nothing happens."""

from __future__ import annotations

import logging
import os
import random
import signal
from collections.abc import Callable

from bot.delivery.outbox import no_failpoint

log = logging.getLogger(__name__)
VARIABLE = "CASEROOM_FAILPOINTS"


def from_environment() -> Callable[[str], None]:
    spec = os.environ.get(VARIABLE, "").strip()
    if not spec:
        return no_failpoint
    odds = {name.strip(): float(p) for name, p in (part.split("=") for part in spec.split(","))}
    chance = random.Random()
    log.warning("fault injection is on: %s", spec)

    def failpoint(name: str) -> None:
        if chance.random() < odds.get(name, 0.0):
            log.warning("failpoint %s: killing the process", name)
            os.kill(os.getpid(), signal.SIGKILL)

    return failpoint
