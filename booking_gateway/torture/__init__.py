"""``booking-gateway torture``: prove the promise the way Jepsen does.

A run starts its own scratch database, its own Valkey/Redis behind a fault-injecting TCP proxy
and N gateway processes, drives M clients that book, cancel and reschedule hot windows while
faults are injected on a schedule, records every attempt (invocation and outcome) to a JSON-lines
history, replays the operations whose outcome stayed unknown, and hands the history and the final
database state to a pure checker of DESIGN.md's invariants.

The checker (:mod:`booking_gateway.torture.checker`) imports nothing but the standard library and
:mod:`booking_gateway.torture.model`, so it can be tested on synthetic histories and re-run on a
saved run (``booking-gateway torture check DIR``).
"""
