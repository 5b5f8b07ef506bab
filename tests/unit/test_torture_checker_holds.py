"""The holds rules of the torture checker (invariant 6) on synthetic histories, each holding and
each catching its lie; times are seconds of the run, ttlSeconds 3, the skew 1 s."""

from __future__ import annotations

import itertools

from booking_gateway.torture.checker import Invariant
from booking_gateway.torture.model import Answer, Attempt, BookingState, Kind, Request, Span
from tests.unit.test_torture_checker import ROOM, attempt, book, ok, refused, state, violations, w

H, B = "hold-h", "booking-b"
_ops = itertools.count(10_000)


def hold(window: Span, at: tuple[float, float], answer: Answer | None, ttl: int = 3) -> Attempt:
    op = next(_ops)
    return attempt(Request(Kind.HOLD, f"hold-{op}", resource=ROOM, window=window, ttl=ttl), at, answer,
                   op=op)


def change(kind: Kind, booking: str, at: tuple[float, float], answer: Answer | None,
           expected: int | None = 1) -> Attempt:
    op = next(_ops)
    return attempt(Request(kind, f"{kind}-{op}", booking=booking, expected_version=expected), at,
                   answer, op=op)


def held(window: Span, version: int = 1, status: str = "HELD") -> BookingState:
    return state(H, window, version, status)


def test_a_booking_after_the_hold_expired_is_fine() -> None:
    win = w(9, 10)
    attempts = [hold(win, (0.0, 0.1), ok(held(win))),
                book(w(9.5, 11), (1.0, 1.1), refused("SLOT_UNAVAILABLE", win)),
                book(w(9.5, 11), (3.5, 3.6), ok(state(B, w(9.5, 11))))]
    final = [held(win, status="EXPIRED"), state(B, w(9.5, 11))]
    assert violations(attempts, final) == {}


def test_a_booking_over_a_live_hold_is_caught() -> None:
    win = w(9, 10)
    attempts = [hold(win, (0.0, 0.1), ok(held(win))),
                book(w(9.5, 11), (0.5, 0.7), ok(state(B, w(9.5, 11))))]
    final = [held(win, status="EXPIRED"), state(B, w(9.5, 11))]
    assert violations(attempts, final) == {Invariant.HOLDS: ["blocked"]}


def test_a_booking_after_the_hold_was_released_is_fine() -> None:
    win = w(9, 10)
    attempts = [hold(win, (0.0, 0.1), ok(held(win))),
                change(Kind.RELEASE, H, (0.3, 0.4), ok(held(win, 2, "RELEASED"))),
                book(w(9.5, 11), (0.5, 0.7), ok(state(B, w(9.5, 11))))]
    final = [held(win, 2, "RELEASED"), state(B, w(9.5, 11))]
    assert violations(attempts, final) == {}


def test_a_refusal_by_a_hold_long_expired_is_caught() -> None:
    win = w(9, 10)
    attempts = [hold(win, (0.0, 0.1), ok(held(win))),
                book(w(9.5, 11), (4.5, 4.6), refused("SLOT_UNAVAILABLE", win))]
    final = [held(win, status="EXPIRED")]
    assert violations(attempts, final) == {Invariant.HOLDS: ["outlived"]}


def test_confirm_in_time_keeps_the_window_blocked() -> None:
    win = w(9, 10)
    attempts = [hold(win, (0.0, 0.1), ok(held(win))),
                change(Kind.CONFIRM, H, (0.5, 0.6), ok(held(win, 2, "CONFIRMED"))),
                book(w(9.5, 11), (6.0, 6.1), refused("SLOT_UNAVAILABLE", win))]
    final = [held(win, 2, "CONFIRMED")]
    assert violations(attempts, final) == {}


def test_hold_expired_while_the_hold_was_live_is_caught() -> None:
    win = w(9, 10)
    attempts = [hold(win, (0.0, 0.1), ok(held(win))),
                change(Kind.CONFIRM, H, (0.5, 0.6), refused("HOLD_EXPIRED", w(9.5, 11)))]
    final = [held(win, status="EXPIRED")]
    found = violations(attempts, final)
    assert found[Invariant.HOLDS] == ["expired-early"]


def test_confirm_after_expiry_racing_a_booking_is_consistent_either_way() -> None:
    win = w(9, 10)
    lost = [hold(win, (0.0, 0.1), ok(held(win))),
            book(win, (3.3, 3.4), ok(state(B, win))),
            change(Kind.CONFIRM, H, (3.3, 3.5), refused("HOLD_EXPIRED", win))]
    assert violations(lost, [held(win, status="EXPIRED"), state(B, win)]) == {}
    won = [hold(win, (0.0, 0.1), ok(held(win))),
           change(Kind.CONFIRM, H, (3.3, 3.4), ok(held(win, 2, "CONFIRMED"))),
           book(win, (3.3, 3.5), refused("SLOT_UNAVAILABLE", win))]
    assert violations(won, [held(win, 2, "CONFIRMED")]) == {}


def test_both_winning_the_race_is_a_double_booking() -> None:
    win = w(9, 10)
    both = [hold(win, (0.0, 0.1), ok(held(win))),
            change(Kind.CONFIRM, H, (3.3, 3.4), ok(held(win, 2, "CONFIRMED"))),
            book(win, (3.3, 3.5), ok(state(B, win)))]
    found = violations(both, [held(win, 2, "CONFIRMED"), state(B, win)])
    assert found == {Invariant.NO_OVERLAP: ["overlap"]}


def test_a_hold_that_expired_is_not_a_rolled_back_or_unexplained_change() -> None:
    win = w(9, 10)
    attempts = [hold(win, (0.0, 0.1), ok(held(win))),
                change(Kind.RELEASE, H, (5.0, 5.1), ok(held(win, 1, "EXPIRED")), expected=None)]
    assert violations(attempts, [held(win, status="EXPIRED")]) == {}
    confirmed_unasked = violations(attempts[:1], [held(win, 2, "CONFIRMED")])
    assert confirmed_unasked == {Invariant.DURABLE: ["unexplained", "unexplained"]}
