"""The torture checker on synthetic histories: each rule holding, and each rule catching its lie."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from booking_gateway.torture.checker import Invariant, check
from booking_gateway.torture.checker.ops import operations
from booking_gateway.torture.model import (
    Answer,
    Attempt,
    BookingState,
    History,
    Kind,
    Outcome,
    Phase,
    Request,
    Span,
)

ROOM = "room-1"
DAY = datetime(2031, 1, 6, tzinfo=UTC)
_ops = itertools.count(1)


def w(start: float, end: float) -> Span:
    return Span(DAY + timedelta(hours=start), DAY + timedelta(hours=end))


def state(booking: str, window: Span, version: int = 1, status: str = "CONFIRMED") -> BookingState:
    return BookingState(booking, ROOM, window, status, version)


def ok(s: BookingState, replayed: bool = False) -> Answer:
    return Answer(s, replayed)


def refused(code: str, *conflicts: Span) -> Answer:
    return Answer(None, False, code, conflicts)


def attempt(request: Request, at: tuple[float, float], answer: Answer | None, *, op: int, seq: int = 1,
            phase: Phase = Phase.RUN) -> Attempt:
    outcome = Outcome.UNKNOWN if answer is None else Outcome.OK if answer.ok else Outcome.FAIL
    return Attempt(op, seq, request, at[0], at[1], outcome, answer, phase=phase)


def book(window: Span, at: tuple[float, float], answer: Answer | None, *, cmid: str | None = None,
         op: int | None = None, seq: int = 1, phase: Phase = Phase.RUN) -> Attempt:
    op = op if op is not None else next(_ops)
    return attempt(Request(Kind.BOOK, cmid or f"book-{op}", resource=ROOM, window=window), at, answer,
                   op=op, seq=seq, phase=phase)


def cancel(booking: str, at: tuple[float, float], answer: Answer | None, *, op: int | None = None,
           seq: int = 1, phase: Phase = Phase.RUN) -> Attempt:
    op = op if op is not None else next(_ops)
    return attempt(Request(Kind.CANCEL, f"cancel-{op}", booking=booking), at, answer, op=op, seq=seq,
                   phase=phase)


def move(booking: str, window: Span, at: tuple[float, float], answer: Answer | None, *,
         op: int | None = None, seq: int = 1, expected: int | None = None) -> Attempt:
    op = op if op is not None else next(_ops)
    return attempt(Request(Kind.RESCHEDULE, f"move-{op}", booking=booking, window=window,
                           expected_version=expected), at, answer, op=op, seq=seq)


def violations(attempts: list[Attempt], final: list[BookingState]) -> dict[Invariant, list[str]]:
    result = check(History(tuple(attempts), tuple(final)))
    found: dict[Invariant, list[str]] = {}
    for v in result.violations:
        found.setdefault(v.invariant, []).append(v.rule)
    return found


A, B, C = "booking-a", "booking-b", "booking-c"


# --- a clean history ---------------------------------------------------------------------------


def test_a_consistent_history_has_no_violation() -> None:
    history = [
        book(w(9, 10), (1, 2), ok(state(A, w(9, 10)))),
        book(w(9.5, 11), (3, 4), refused("SLOT_UNAVAILABLE", w(9, 10))),
        book(w(10, 11), (3, 4), ok(state(B, w(10, 11)))),  # touching is not overlapping
        move(B, w(12, 13), (5, 6), ok(state(B, w(12, 13), 2))),
        cancel(A, (7, 8), ok(state(A, w(9, 10), 2, "CANCELLED"))),
        book(w(9, 10), (9, 10), refused("CONTENDED")),
    ]
    final = [state(A, w(9, 10), 2, "CANCELLED"), state(B, w(12, 13), 2)]
    assert violations(history, final) == {}


# --- 1 no overlap ------------------------------------------------------------------------------


def test_overlapping_confirmed_bookings_are_caught_with_the_answers_that_made_them() -> None:
    history = [book(w(9, 10), (1, 2), ok(state(A, w(9, 10)))),
               book(w(9.5, 11), (1, 2), ok(state(B, w(9.5, 11))))]
    result = check(History(tuple(history), (state(A, w(9, 10)), state(B, w(9.5, 11)))))
    assert [v.invariant for v in result.violations] == [Invariant.NO_OVERLAP]
    assert len(result.violations[0].evidence) == 2


def test_nested_overlaps_count_every_pair() -> None:
    history = [book(w(9, 12), (1, 2), ok(state(A, w(9, 12)))),
               book(w(9.5, 10), (1, 2), ok(state(B, w(9.5, 10)))),
               book(w(10.5, 11), (1, 2), ok(state(C, w(10.5, 11))))]
    final = [state(A, w(9, 12)), state(B, w(9.5, 10)), state(C, w(10.5, 11))]
    assert violations(history, final) == {Invariant.NO_OVERLAP: ["overlap", "overlap"]}


def test_a_cancelled_booking_overlaps_nothing() -> None:
    history = [book(w(9, 10), (1, 2), ok(state(A, w(9, 10)))),
               cancel(A, (3, 4), ok(state(A, w(9, 10), 2, "CANCELLED"))),
               book(w(9, 10), (5, 6), ok(state(B, w(9, 10))))]
    assert violations(history, [state(A, w(9, 10), 2, "CANCELLED"), state(B, w(9, 10))]) == {}


# --- 2 durability ------------------------------------------------------------------------------


def test_an_acknowledged_booking_missing_from_the_database_is_lost() -> None:
    assert violations([book(w(9, 10), (1, 2), ok(state(A, w(9, 10))))], []) == {Invariant.DURABLE: ["lost"]}


def test_an_acknowledged_reschedule_rolled_back_is_caught() -> None:
    history = [book(w(9, 10), (1, 2), ok(state(A, w(9, 10)))),
               move(A, w(12, 13), (3, 4), ok(state(A, w(12, 13), 2)))]
    found = violations(history, [state(A, w(9, 10), 2)])
    assert set(found[Invariant.DURABLE]) == {"rolled-back", "one-version-two-states"}


def test_an_acknowledged_cancellation_that_did_not_stick_is_caught() -> None:
    history = [book(w(9, 10), (1, 2), ok(state(A, w(9, 10)))),
               cancel(A, (3, 4), ok(state(A, w(9, 10), 2, "CANCELLED"))),
               move(A, w(12, 13), (5, 6), None)]
    found = violations(history, [state(A, w(12, 13), 3)])
    assert "uncancelled" in found[Invariant.DURABLE]


def test_a_final_window_nobody_asked_for_is_unexplained() -> None:
    history = [book(w(9, 10), (1, 2), ok(state(A, w(9, 10))))]
    found = violations(history, [state(A, w(14, 15), 2)])
    assert list(found) == [Invariant.DURABLE]
    assert set(found[Invariant.DURABLE]) == {"unexplained"}


def test_more_versions_than_changes_is_unexplained() -> None:
    history = [book(w(9, 10), (1, 2), ok(state(A, w(9, 10)))),
               move(A, w(12, 13), (3, 4), ok(state(A, w(12, 13), 2)))]
    assert violations(history, [state(A, w(12, 13), 3)]) == {Invariant.DURABLE: ["unexplained"]}


def test_a_cancel_that_failed_for_sure_cannot_explain_a_cancellation() -> None:
    history = [book(w(9, 10), (1, 2), ok(state(A, w(9, 10)))),
               cancel(A, (3, 4), refused("VERSION_CONFLICT"))]
    found = violations(history, [state(A, w(9, 10), 2, "CANCELLED")])
    assert list(found) == [Invariant.DURABLE]
    assert set(found[Invariant.DURABLE]) == {"unexplained"}


def test_an_unknown_reschedule_may_explain_the_final_state() -> None:
    history = [book(w(9, 10), (1, 2), ok(state(A, w(9, 10)))),
               move(A, w(12, 13), (3, 5.5), None, op=950),
               move(A, w(12, 13), (5.6, 6), ok(state(A, w(12, 13), 2), replayed=True), op=950, seq=2)]
    assert violations(history, [state(A, w(12, 13), 2)]) == {}


# --- 3 idempotency -----------------------------------------------------------------------------


def test_two_bookings_for_one_client_mutation_id_are_caught() -> None:
    history = [book(w(9, 10), (1, 2), ok(state(A, w(9, 10))), cmid="k", op=900),
               book(w(9, 10), (1, 2), ok(state(B, w(9, 10))), cmid="k", op=900, seq=2)]
    found = violations(history, [state(A, w(9, 10)), state(B, w(9, 10))])
    assert "two-bookings" in found[Invariant.IDEMPOTENT]
    assert "two-owners" not in found[Invariant.IDEMPOTENT]


def test_double_click_answered_once_booked_and_once_replayed_is_fine() -> None:
    history = [book(w(9, 10), (1, 2), ok(state(A, w(9, 10))), op=901),
               book(w(9, 10), (1, 2.5), ok(state(A, w(9, 10)), replayed=True), op=901, seq=2)]
    assert violations(history, [state(A, w(9, 10))]) == {}


def test_acknowledged_and_refused_for_one_key_is_two_answers() -> None:
    history = [book(w(9, 10), (1, 2), ok(state(A, w(9, 10))), op=902),
               move(A, w(12, 13), (3, 4), ok(state(A, w(12, 13), 2)), op=903),
               move(A, w(12, 13), (3, 4.5), refused("VERSION_CONFLICT"), op=903, seq=2)]
    assert violations(history, [state(A, w(12, 13), 2)]) == {Invariant.IDEMPOTENT: ["two-answers"]}


def test_contended_twin_during_the_first_answer_is_fine_after_it_is_stale() -> None:
    concurrent = [book(w(9, 10), (1, 2), ok(state(A, w(9, 10))), op=904),
                  book(w(9, 10), (1, 1.5), refused("CONTENDED"), op=904, seq=2)]
    assert violations(concurrent, [state(A, w(9, 10))]) == {}
    later = [*concurrent, book(w(9, 10), (3, 4), refused("CONTENDED"), op=904, seq=3)]
    assert violations(later, [state(A, w(9, 10))]) == {Invariant.IDEMPOTENT: ["stale-retry"]}


def test_different_conflicts_for_one_key_are_two_answers() -> None:
    history = [book(w(9, 10), (1, 2), ok(state(A, w(9, 10)))),
               book(w(11, 12), (1, 2), ok(state(B, w(11, 12)))),
               book(w(9, 12), (3, 4), refused("SLOT_UNAVAILABLE", w(9, 10)), op=905),
               book(w(9, 12), (5, 6), refused("SLOT_UNAVAILABLE", w(11, 12)), op=905, seq=2)]
    found = violations(history, [state(A, w(9, 10)), state(B, w(11, 12))])
    assert found == {Invariant.IDEMPOTENT: ["two-answers"]}


def test_a_booking_no_answer_named_is_unowned() -> None:
    history = [book(w(9, 10), (1, 2), refused("CONTENDED"))]
    assert violations(history, [state(A, w(9, 10))]) == {Invariant.IDEMPOTENT: ["unowned"]}


def test_a_first_hand_answer_for_another_window_is_not_as_asked() -> None:
    history = [book(w(9, 10), (1, 2), ok(state(A, w(9, 11))))]
    found = violations(history, [state(A, w(9, 11))])
    assert found[Invariant.IDEMPOTENT] == ["not-as-asked"]


def test_key_reused_for_identical_input_is_caught() -> None:
    history = [book(w(9, 10), (1, 2), refused("IDEMPOTENCY_KEY_REUSED"))]
    assert violations(history, []) == {Invariant.IDEMPOTENT: ["key-reused"]}


# --- 4 SLOT_UNAVAILABLE was true ---------------------------------------------------------------


def test_a_conflict_acknowledged_after_the_refusal_but_requested_before_it_is_true() -> None:
    history = [book(w(9, 10), (1, 5), ok(state(A, w(9, 10)))),
               book(w(9, 10), (2, 3), refused("SLOT_UNAVAILABLE", w(9, 10)))]
    assert violations(history, [state(A, w(9, 10))]) == {}


def test_a_conflict_nobody_ever_had_is_a_phantom() -> None:
    history = [book(w(9, 10), (1, 2), ok(state(A, w(9, 10)))),
               book(w(9, 11), (3, 4), refused("SLOT_UNAVAILABLE", w(10, 11)))]
    assert violations(history, [state(A, w(9, 10))]) == {Invariant.TRUE_UNAVAILABLE: ["phantom"]}


def test_a_conflict_cancelled_before_the_request_was_sent_is_a_phantom() -> None:
    history = [book(w(9, 10), (1, 2), ok(state(A, w(9, 10)))),
               cancel(A, (3, 4), ok(state(A, w(9, 10), 2, "CANCELLED"))),
               book(w(9, 10), (5, 6), refused("SLOT_UNAVAILABLE", w(9, 10)))]
    found = violations(history, [state(A, w(9, 10), 2, "CANCELLED")])
    assert found == {Invariant.TRUE_UNAVAILABLE: ["phantom"]}


def test_a_conflict_cancelled_while_the_request_ran_may_be_true() -> None:
    history = [book(w(9, 10), (1, 2), ok(state(A, w(9, 10)))),
               cancel(A, (3, 4), ok(state(A, w(9, 10), 2, "CANCELLED"))),
               book(w(9, 10), (3.5, 6), refused("SLOT_UNAVAILABLE", w(9, 10)))]
    assert violations(history, [state(A, w(9, 10), 2, "CANCELLED")]) == {}


def test_a_conflict_booked_only_after_the_answer_is_a_phantom() -> None:
    history = [book(w(9, 10), (1, 2), refused("SLOT_UNAVAILABLE", w(9, 10))),
               book(w(9, 10), (3, 4), ok(state(A, w(9, 10))))]
    assert violations(history, [state(A, w(9, 10))]) == {Invariant.TRUE_UNAVAILABLE: ["phantom"]}


def test_a_conflict_moved_away_before_the_request_is_a_phantom_but_its_new_window_is_true() -> None:
    history = [book(w(9, 10), (1, 2), ok(state(A, w(9, 10)))),
               move(A, w(12, 13), (3, 4), ok(state(A, w(12, 13), 2))),
               book(w(9, 10), (5, 6), refused("SLOT_UNAVAILABLE", w(9, 10))),
               book(w(12, 14), (5, 6), refused("SLOT_UNAVAILABLE", w(12, 13)))]
    found = violations(history, [state(A, w(12, 13), 2)])
    assert found == {Invariant.TRUE_UNAVAILABLE: ["phantom"]}


def test_a_reschedule_cannot_conflict_with_itself() -> None:
    history = [book(w(9, 10), (1, 2), ok(state(A, w(9, 10)))),
               move(A, w(9.5, 10.5), (3, 4), refused("SLOT_UNAVAILABLE", w(9, 10)))]
    assert violations(history, [state(A, w(9, 10))]) == {Invariant.TRUE_UNAVAILABLE: ["phantom"]}


def test_empty_and_disjoint_conflicts_are_caught() -> None:
    history = [book(w(9, 10), (1, 2), ok(state(A, w(9, 10)))),
               book(w(9, 10), (3, 4), refused("SLOT_UNAVAILABLE")),
               book(w(11, 12), (3, 4), refused("SLOT_UNAVAILABLE", w(9, 10)))]
    found = violations(history, [state(A, w(9, 10))])
    assert sorted(found[Invariant.TRUE_UNAVAILABLE]) == ["disjoint", "empty"]


def test_a_replayed_refusal_may_have_been_decided_by_the_first_attempt() -> None:
    history = [book(w(9, 10), (1, 2), ok(state(A, w(9, 10)))),
               book(w(9, 10), (3, 10), None, op=906),
               cancel(A, (4, 5), ok(state(A, w(9, 10), 2, "CANCELLED"))),
               book(w(9, 10), (11, 12), Answer(None, True, "SLOT_UNAVAILABLE", (w(9, 10),)), op=906, seq=2)]
    assert violations(history, [state(A, w(9, 10), 2, "CANCELLED")]) == {}


# --- 5 unknown outcomes resolve ----------------------------------------------------------------


def test_an_unknown_outcome_never_replayed_is_unresolved() -> None:
    history = [book(w(9, 10), (1, 3.5), None)]
    assert violations(history, []) == {Invariant.UNKNOWN_RESOLVED: ["unresolved"]}


def test_an_unknown_outcome_replayed_to_a_booking_is_resolved() -> None:
    history = [book(w(9, 10), (1, 3.5), None, op=907),
               book(w(9, 10), (20, 21), ok(state(A, w(9, 10)), replayed=True), op=907, seq=2,
                    phase=Phase.REPLAY)]
    assert violations(history, [state(A, w(9, 10))]) == {}


def test_a_replay_that_contradicts_the_first_answer_counts_against_resolution() -> None:
    history = [book(w(9, 10), (1, 2), ok(state(A, w(9, 10))), op=908),
               book(w(9, 10), (1, 3.5), None, op=908, seq=2),
               book(w(9, 10), (20, 21), refused("SLOT_UNAVAILABLE", w(9, 10)), op=908, seq=3,
                    phase=Phase.REPLAY)]
    found = violations(history, [state(A, w(9, 10))])
    assert found == {Invariant.UNKNOWN_RESOLVED: ["two-answers"]}


def test_a_replay_still_contended_leaves_the_outcome_unresolved() -> None:
    history = [book(w(9, 10), (1, 3.5), None, op=909),
               book(w(9, 10), (20, 21), refused("CONTENDED"), op=909, seq=2, phase=Phase.REPLAY)]
    assert violations(history, []) == {Invariant.UNKNOWN_RESOLVED: ["unresolved"]}


# --- what an operation may have done -----------------------------------------------------------


@pytest.mark.parametrize(("answers", "effect", "settled"), [
    ([None], True, False),
    ([None, refused("CONTENDED")], True, False),
    ([None, refused("SLOT_UNAVAILABLE", w(9, 10))], False, True),
    ([refused("CONTENDED"), refused("CONTENDED")], False, True),
    ([None, ok(state(A, w(9, 10)), replayed=True)], True, True),
])
def test_an_operation_may_have_taken_effect_unless_refused_for_good(
        answers: list[Answer | None], effect: bool, settled: bool) -> None:
    attempts = [book(w(9, 10), (i, i + 0.5), a, op=910, seq=i + 1) for i, a in enumerate(answers)]
    (op,) = operations(attempts)
    assert op.may_have_taken_effect is effect
    assert op.settled_in_run is settled


def test_a_replay_refusal_rules_an_effect_out() -> None:
    attempts = [move(A, w(9, 10), (1, 3.5), None, op=911),
                attempt(Request(Kind.RESCHEDULE, "move-911", booking=A, window=w(9, 10)), (20, 21),
                        refused("VERSION_CONFLICT"), op=911, seq=2, phase=Phase.REPLAY)]
    (op,) = operations(attempts)
    assert not op.may_have_taken_effect
    assert op.resolved
