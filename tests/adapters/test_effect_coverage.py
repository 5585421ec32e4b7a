"""Every effect the core can ask for is carried out by every adapter."""

from __future__ import annotations

import pytest

from bot.adapters.base import EffectDispatch, effect_method
from bot.adapters.console import ConsoleAdapter
from bot.adapters.matrix.adapter import MatrixAdapter
from bot.adapters.telegram.adapter import TelegramAdapter
from bot.domain.events import EFFECT_TYPES, Effect, effect_from_json, effect_to_json

ADAPTERS: list[type[EffectDispatch]] = [ConsoleAdapter, MatrixAdapter, TelegramAdapter]


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.__name__)
@pytest.mark.parametrize("effect", EFFECT_TYPES, ids=lambda e: e.kind)
def test_adapter_implements_effect(adapter: type[EffectDispatch], effect: type[Effect]) -> None:
    assert callable(getattr(adapter, effect_method(effect), None)), f"{adapter.__name__} misses {effect.kind}"


def test_effect_union_and_tuple_agree() -> None:
    assert set(Effect.__args__) == set(EFFECT_TYPES)


def test_effects_survive_the_outbox_round_trip() -> None:
    from bot.domain.events import (
        AnswerJoin,
        CreateCaseRoom,
        EraseRoom,
        GuardRoom,
        Invite,
        JoinRoom,
        Kick,
        LeaveRoom,
        LinkRoom,
        SendFile,
        SendJoinLink,
        SendMessage,
    )

    samples: list[Effect] = [
        SendMessage("hi", ("bob",), True),
        CreateCaseRoom("C-1", "n", "t", ("a",), ("a",)),
        LinkRoom("C-1", "!room"),
        Invite("bob", True),
        Kick("bob", "left"),
        JoinRoom(),
        LeaveRoom(),
        SendMessage("x", link_case_id=1, link_room_id="!r", reminder_id=3),
        SendMessage("y", ("1",), reminder_id=3, mention_names=("Bob",), buttons=(("✅ Done", "done"),)),
        LinkRoom("C-1", "-100", "C-1 · label"),
        SendJoinLink("-100", "caseroom C-1 #3", "Open {link}"),
        AnswerJoin("42", False, "https://t.me/+abc"),
        SendFile("C-1-2026-11-23.fhir.json", "application/fhir+json", "e30=", "Export of case C-1"),
        GuardRoom(read_only=True),
        EraseRoom(("$a", "$b"), ("@bob:x",)),
    ]
    assert {type(s) for s in samples} == set(EFFECT_TYPES)
    for sample in samples:
        assert effect_from_json(effect_to_json(sample)) == sample
