"""Multi-step dialogs as transport-free state machines; their state lives in the database."""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.context import DialogFlow
from conversations.intake import Intake
from conversations.plan_review import PlanReview
from conversations.welcome import Welcome


def all_dialogs() -> Mapping[str, DialogFlow]:
    flows: list[DialogFlow] = [Intake(), PlanReview(), Welcome()]
    return {flow.name: flow for flow in flows}
