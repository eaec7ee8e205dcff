"""The booking state graph and the clock staff actions follow, checked as pure functions
(hypothesis for sequences of actions and for every instant around a booking)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booklnk.booking.lifecycle import (
    BLOCKING,
    INITIAL,
    STAFF_ACTIONS,
    TERMINAL,
    TRANSITIONS,
    UNDONE_BY,
    Action,
    InvalidTransition,
    StaffClock,
    TooEarly,
    TooLate,
    blocks,
    next_status,
    sources,
)
from booklnk.booking.models import BookingStatus as S

START = datetime(2026, 12, 10, 10, 0, tzinfo=UTC)
END = START + timedelta(minutes=45)
CLOCK = StaffClock(timedelta(minutes=30), timedelta(minutes=15), timedelta(hours=24))
# Where confirmed may come from: a hold (paid, or confirmed by staff), a lapsed hold's late
# money, or an undone check-in or no-show.
CONFIRMED_FROM = {S.HELD, S.EXPIRED, S.CHECKED_IN, S.NO_SHOW}


@given(st.sampled_from(sorted(INITIAL)), st.lists(st.sampled_from(list(Action)), max_size=16))
def test_any_action_sequence_stays_on_the_graph(first: S, actions: list[Action]) -> None:
    status, path = first, [first]
    for action in actions:
        if (status, action) not in TRANSITIONS:
            with pytest.raises(InvalidTransition):
                next_status(status, action)
            continue
        status = next_status(status, action)
        path.append(status)
    # Never back to held, never out of a terminal status, confirmed only from where it may.
    assert S.HELD not in path[1:]
    for before, after in itertools.pairwise(path):
        assert before not in TERMINAL
        if after is S.CONFIRMED:
            assert before in CONFIRMED_FROM


def test_every_status_is_reachable_and_what_blocks_time() -> None:
    assert set(TRANSITIONS.values()) | INITIAL == set(S)
    assert not any(status in TERMINAL for status, _ in TRANSITIONS)
    # A no-show keeps the time it was given: the chair was the customer's.
    assert {status for status in S if blocks(status)} == set(BLOCKING) == set(S) - {S.CANCELLED, S.EXPIRED}
    assert sources(Action.CANCEL) == {S.HELD, S.CONFIRMED}
    assert sources(Action.RECONFIRM) == {S.EXPIRED}
    # An undo goes back where the action it undoes came from.
    for undo, undone in UNDONE_BY.items():
        (after,) = {next_status(status, undone) for status in sources(undone)}
        assert {status for status, act in TRANSITIONS if act is undo} == {after}
        assert next_status(after, undo) in sources(undone)


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (S.CANCELLED, Action.CONFIRM),
        (S.EXPIRED, Action.CONFIRM),
        (S.CONFIRMED, Action.COMPLETE),
        (S.HELD, Action.CHECK_IN),
        (S.NO_SHOW, Action.CANCEL),
        (S.COMPLETED, Action.UNDO_CHECK_IN),
        (S.CONFIRMED, Action.UNDO_NO_SHOW),
    ],
)
def test_off_graph_moves_are_invalid_transition(status: S, action: Action) -> None:
    with pytest.raises(InvalidTransition) as refused:
        next_status(status, action)
    assert refused.value.code == "invalid_transition"


MINUTE = st.integers(min_value=-3 * 24 * 60, max_value=3 * 24 * 60)


@given(MINUTE)
def test_check_in_opens_before_the_start_and_closes_at_the_end(offset: int) -> None:
    now = START + timedelta(minutes=offset)
    opens = START - CLOCK.check_in_opens
    if now < opens:
        with pytest.raises(TooEarly) as early:
            CLOCK.check(Action.CHECK_IN, starts_at=START, ends_at=END, now=now)
        assert early.value.extra == {"rule": "check_in_opens_minutes", "earliest": opens.isoformat()}
    elif now > END:
        with pytest.raises(TooLate) as late:
            CLOCK.check(Action.CHECK_IN, starts_at=START, ends_at=END, now=now)
        assert late.value.extra["latest"] == END.isoformat()
    else:
        CLOCK.check(Action.CHECK_IN, starts_at=START, ends_at=END, now=now)


@given(MINUTE, st.sampled_from([Action.COMPLETE, Action.NO_SHOW]))
def test_complete_after_the_start_and_no_show_after_the_grace(offset: int, action: Action) -> None:
    now = START + timedelta(minutes=offset)
    earliest = START if action is Action.COMPLETE else START + CLOCK.no_show_grace
    if now < earliest:
        with pytest.raises(TooEarly) as early:
            CLOCK.check(action, starts_at=START, ends_at=END, now=now)
        assert early.value.code == "too_early"
        assert early.value.extra["earliest"] == earliest.isoformat()
    else:
        CLOCK.check(action, starts_at=START, ends_at=END, now=now)


@given(st.integers(min_value=0, max_value=3 * 24 * 60), st.sampled_from(sorted(UNDONE_BY)))
def test_an_undo_only_within_its_window(minutes_after: int, undo: Action) -> None:
    done_at = START + timedelta(minutes=20)
    now = done_at + timedelta(minutes=minutes_after)
    if now > done_at + CLOCK.undo_window:
        with pytest.raises(TooLate) as late:
            CLOCK.check(undo, starts_at=START, ends_at=END, now=now, undone_at=done_at)
        assert late.value.extra["rule"] == "undo_window_minutes"
    else:
        CLOCK.check(undo, starts_at=START, ends_at=END, now=now, undone_at=done_at)


def test_staff_actions_are_exactly_the_clocked_ones_and_confirm() -> None:
    assert {Action.CHECK_IN, Action.COMPLETE, Action.NO_SHOW, *UNDONE_BY} | {Action.CONFIRM} == STAFF_ACTIONS
