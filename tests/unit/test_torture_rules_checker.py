"""Invariant 7 of the torture checker (nothing booked outside the rules) on synthetic histories."""

from __future__ import annotations

from booking_gateway.torture.checker import Invariant, check
from booking_gateway.torture.config import TORTURE_RULES
from booking_gateway.torture.model import History, Span

from .test_torture_checker import book, ok, refused, state, w


def run(*bookings: tuple[str, Span], rules: object = TORTURE_RULES,
        extra: tuple = ()) -> dict[Invariant, list[str]]:
    attempts, final = [], []
    for i, (name, window) in enumerate(bookings):
        s = state(name, window)
        attempts.append(book(window, (i, i + 0.5), ok(s)))
        final.append(s)
    history = History(tuple(attempts) + tuple(extra), tuple(final), (), rules)  # type: ignore[arg-type]
    found: dict[Invariant, list[str]] = {}
    for v in check(history).violations:
        found.setdefault(v.invariant, []).append(v.rule)
    return found


def test_bookings_inside_the_rules_and_apart_by_the_buffer_pass() -> None:
    # 2031-01-06 is a Monday; open 00:00-21:00, buffer after 5 minutes, at most 120 minutes
    assert run(("a", w(9, 10)), ("b", w(10 + 5 / 60, 12)), ("c", w(19, 21))) == {}


def test_a_booking_in_closed_hours_is_caught() -> None:
    assert run(("a", w(20.5, 21.5))) == {Invariant.RULES: ["closed"]}
    assert run(("a", w(23, 25))) == {Invariant.RULES: ["closed"]}  # across midnight


def test_a_booking_too_long_is_caught() -> None:
    assert run(("a", w(9, 11.5))) == {Invariant.RULES: ["too-long"]}


def test_bookings_closer_than_the_buffer_are_caught_even_past_a_short_one() -> None:
    assert run(("a", w(9, 10)), ("b", w(10 + 1 / 60, 11))) == {Invariant.RULES: ["buffer"]}
    # the short one inside the long one must not hide the long one from the next
    assert run(("long", w(8, 10)), ("short", w(8, 8.5)), ("next", w(10 + 2 / 60, 11))) == {
        Invariant.NO_OVERLAP: ["overlap"], Invariant.RULES: ["buffer"]}


def test_without_rules_nothing_is_checked() -> None:
    assert run(("a", w(22, 23.9)), rules=None) == {}


def test_a_slot_unavailable_for_a_buffer_conflict_is_true() -> None:
    """The conflict does not overlap the window, only the buffers do: still a true answer."""
    taken = state("a", w(9, 10))
    near = book(w(10 + 2 / 60, 11), (2, 3), refused("SLOT_UNAVAILABLE", w(9, 10)))
    assert run(("a", taken.window), extra=(near,)) == {}
    assert Invariant.TRUE_UNAVAILABLE in run(("a", taken.window), rules=None, extra=(near,))
