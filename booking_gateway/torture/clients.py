"""The clients: each performs one operation after another, as an impatient frontend would.

An operation is one clientMutationId. Its attempts go to random gateways; after a timeout, a lost
connection, a server error or CONTENDED the client retries with the same clientMutationId, and on
purpose it sometimes double-clicks (two identical requests at once, to two gateways). Every
attempt is recorded with the client's monotonic time before sending and after the answer.

Outcomes: ``ok`` (a booking, no error), ``fail`` (an error as data, HTTP 429, or the connection
could not even be opened so nothing was sent), ``unknown`` (anything else: timeout, reset, 5xx, GraphQL
errors: the request may or may not have taken effect).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from booking_gateway.torture.history import Recorder
from booking_gateway.torture.model import Kind, Outcome, Phase, classify
from booking_gateway.torture.workload import Race, Workload

_FIELDS = """
clientMutationId replayed
booking { id start end status version resource { id } }
error {
  __typename code message
  ... on SlotUnavailable { conflicts { start end } }
  ... on HoldExpired { conflicts { start end } }
  ... on Contended { retryAfterMs }
  ... on VersionConflict { currentVersion }
}"""

DOCUMENTS = {
    Kind.BOOK: f"mutation($input: BookSlotInput!) {{ m: bookSlot(input: $input) {{ {_FIELDS} }} }}",
    Kind.CANCEL: f"mutation($input: CancelBookingInput!) {{ m: cancelBooking(input: $input) {{ {_FIELDS} }} }}",
    Kind.RESCHEDULE: (f"mutation($input: RescheduleBookingInput!) "
                      f"{{ m: rescheduleBooking(input: $input) {{ {_FIELDS} }} }}"),
    Kind.HOLD: f"mutation($input: HoldSlotInput!) {{ m: holdSlot(input: $input) {{ {_FIELDS} }} }}",
    Kind.CONFIRM: (f"mutation($input: ConfirmBookingInput!) "
                   f"{{ m: confirmBooking(input: $input) {{ {_FIELDS} }} }}"),
    Kind.RELEASE: f"mutation($input: ReleaseHoldInput!) {{ m: releaseHold(input: $input) {{ {_FIELDS} }} }}",
}

#: Connecting failed: the request was never sent, so it certainly did nothing.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class ClientSettings:
    attempts: int = 6
    double_click: float = 0.15
    #: after an unknown outcome, how often the client gives up (closes the tab): the operation
    #: stays unknown until the replay after the run resolves it
    give_up: float = 0.25
    retry_pause_s: float = 0.1
    max_contended_pause_s: float = 0.5


@dataclass
class Sent:
    outcome: Outcome
    payload: dict[str, Any] | None


class Endpoint:
    """Where attempts go: the gateways' URLs and the API key; counts attempts in flight per gateway
    so that faults can strike a gateway while it is busy."""

    def __init__(self, http: httpx.AsyncClient, key: str, urls: dict[str, str]) -> None:
        self.http = http
        self.key = key
        self.urls = urls
        self.in_flight = dict.fromkeys(urls, 0)

    async def post(self, gateway: str, kind: Kind, data: dict[str, Any]) -> tuple[Outcome, Any, str | None]:
        """(outcome, payload or None, note)."""
        self.in_flight[gateway] += 1
        try:
            response = await self.http.post(
                f"{self.urls[gateway]}/graphql", json={"query": DOCUMENTS[kind], "variables": {"input": data}},
                headers={"Authorization": f"Bearer {self.key}"})
        except _NOT_SENT as err:
            return Outcome.FAIL, None, f"not sent: {type(err).__name__}"
        except httpx.TimeoutException as err:
            return Outcome.UNKNOWN, None, f"timeout: {type(err).__name__}"
        except httpx.TransportError as err:
            return Outcome.UNKNOWN, None, f"transport: {type(err).__name__}"
        finally:
            self.in_flight[gateway] -= 1
        if response.status_code == 429:  # the rate limiter answers before anything is executed
            return Outcome.FAIL, None, "rate limited: http 429"
        if response.status_code != 200:
            return Outcome.UNKNOWN, None, f"http {response.status_code}"
        try:
            body = response.json()
        except ValueError:
            return Outcome.UNKNOWN, None, "unparsable response"
        payload = (body.get("data") or {}).get("m")
        if body.get("errors") or payload is None:
            message = str((body.get("errors") or [{}])[0].get("message", ""))[:200]
            return Outcome.UNKNOWN, None, f"graphql error: {message}"
        return classify(payload), payload, None


class Operations:
    """Performs operations and records every attempt; shared by all clients of a run."""

    def __init__(self, endpoint: Endpoint, recorder: Recorder, workload: Workload,
                 clock: Callable[[], float], settings: ClientSettings) -> None:
        self.endpoint = endpoint
        self.recorder = recorder
        self.workload = workload
        self.clock = clock
        self.settings = settings
        self._op_ids = itertools.count(1)
        self._run_tag = secrets.token_hex(3)
        self.seqs: dict[int, itertools.count[int]] = {}
        #: set when the run ends: operations stop retrying
        self.stopping = False
        self.stampede: Race | None = None

    def new_op(self, kind: Kind, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        op = next(self._op_ids)
        self.seqs[op] = itertools.count(1)
        return op, {"clientMutationId": f"{kind.value}-{self._run_tag}-{op}", **data}

    async def attempt(self, op: int, kind: Kind, data: dict[str, Any], gateway: str, client: int,
                      phase: Phase = Phase.RUN, clicks: int = 1) -> Sent:
        seq = next(self.seqs.setdefault(op, itertools.count(1)))
        invoked = self.clock()
        outcome, payload, note = await self.endpoint.post(gateway, kind, data)
        completed = self.clock()
        self.recorder.write({
            "type": "attempt", "op": op, "seq": seq, "client": client, "kind": kind.value,
            "gateway": gateway, "phase": phase.value, "input": data, "invoked": round(invoked, 6),
            "completed": round(completed, 6), "outcome": outcome.value, "answer": payload, "note": note,
            "clicks": clicks})
        if payload is not None:
            if payload.get("booking"):
                self.workload.learn(payload["booking"])
                if (kind is Kind.HOLD and not payload.get("replayed")
                        and payload["booking"]["status"] == "HELD"):
                    self.workload.held(payload["booking"], int(data["ttlSeconds"]), self.clock())
            elif (current := (payload.get("error") or {}).get("currentVersion")) is not None:
                self.workload.learn_version(data.get("bookingId", ""), int(current))
        return Sent(outcome, payload)

    async def perform(self, rng: random.Random, client: int, gateways: Sequence[str]) -> None:
        """The workload's next operation, or this client's part in the stampede announced."""
        s = self.stampede
        if s is not None and client not in s.joined and self.clock() < s.at:
            s.joined.add(client)
            await asyncio.sleep(s.at - self.clock())
            await self._perform(rng, client, gateways, Kind.BOOK, self.workload.race_booking(rng, s))
            return
        planned = self.workload.next(rng, self.clock())
        await asyncio.gather(*(self._perform(rng, client, gateways, kind, data) for kind, data in planned))

    async def stampedes(self, rng: random.Random, every_s: float, lead_s: float) -> None:
        """Announce a stampede every ``every_s`` seconds, to start ``lead_s`` later (until cancelled)."""
        while True:
            await asyncio.sleep(every_s)
            self.stampede = self.workload.new_race(rng, self.clock() + lead_s)

    async def _perform(self, rng: random.Random, client: int, gateways: Sequence[str], kind: Kind,
                       data: dict[str, Any]) -> None:
        """One operation, with retries until a definite answer or the attempts run out."""
        op, data = self.new_op(kind, data)
        for _ in range(self.settings.attempts):
            twins = 2 if rng.random() < self.settings.double_click else 1
            # a double click goes to two gateways when there are two (a load balancer's doing)
            targets = (rng.sample(list(gateways), 2) if twins == 2 and len(gateways) > 1
                       else [rng.choice(list(gateways))] * twins)
            sent = await asyncio.gather(*(self.attempt(op, kind, data, g, client, clicks=twins)
                                          for g in targets))
            pause = self._retry_pause(sent)
            if pause is None or self.stopping:
                return
            if all(s.outcome is Outcome.UNKNOWN for s in sent) and rng.random() < self.settings.give_up:
                return  # unknown for now: the replay after the run resolves it
            await asyncio.sleep(pause * (0.5 + rng.random()))

    def _retry_pause(self, sent: Sequence[Sent]) -> float | None:
        """None when an answer was definite (acknowledged or refused, CONTENDED aside)."""
        contended = []
        for s in sent:
            error = (s.payload or {}).get("error")
            if s.outcome is Outcome.OK or (error and error["code"] != "CONTENDED"):
                return None
            if error:
                contended.append(int(error.get("retryAfterMs") or 50) / 1000)
        if contended:
            return min(max(contended), self.settings.max_contended_pause_s)
        return self.settings.retry_pause_s
