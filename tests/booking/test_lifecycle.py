"""The booking state graph, checked as a state machine with hypothesis."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booklnk.booking.lifecycle import BLOCKING, FINAL, TRANSITIONS, Action, InvalidTransition, next_status
from booklnk.booking.models import BookingStatus as S

REACHABLE_FROM_HELD = {S.HELD, S.CONFIRMED, S.CHECKED_IN, S.COMPLETED, S.CANCELLED, S.EXPIRED, S.NO_SHOW}


@given(st.lists(st.sampled_from(list(Action)), max_size=12))
def test_any_action_sequence_stays_on_the_graph(actions: list[Action]) -> None:
    status, path = S.HELD, [S.HELD]
    for action in actions:
        if (status, action) not in TRANSITIONS:
            with pytest.raises(InvalidTransition):
                next_status(status, action)
            continue
        status = next_status(status, action)
        path.append(status)
    # Never back to held, never out of a final status, confirmed only ever from held.
    assert S.HELD not in path[1:]
    for before, after in itertools.pairwise(path):
        assert before not in FINAL
        if after is S.CONFIRMED:
            assert before is S.HELD


def test_every_status_is_reachable_and_finals_are_terminal() -> None:
    assert set(TRANSITIONS.values()) | {S.HELD} == REACHABLE_FROM_HELD
    assert not any(status in FINAL for status, _ in TRANSITIONS)
    assert S.CANCELLED not in BLOCKING
    assert S.EXPIRED not in BLOCKING


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (S.CANCELLED, Action.CONFIRM),
        (S.EXPIRED, Action.CONFIRM),
        (S.CONFIRMED, Action.COMPLETE),
        (S.HELD, Action.CHECK_IN),
    ],
)
def test_off_graph_moves_are_invalid_transition(status: S, action: Action) -> None:
    with pytest.raises(InvalidTransition) as refused:
        next_status(status, action)
    assert refused.value.code == "invalid_transition"
