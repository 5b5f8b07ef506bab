"""A run's settings, with defaults sized for a laptop or a CI runner (about a minute, 2 gateways)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from booking_gateway.infra.postgres.engine import redact
from booking_gateway.torture.faults import FAULTS

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

#: The rules a ``--rules`` run sets on every resource (``ResourceRulesInput``), never changed:
#: the workload's windows (any minute, 5 to 150 minutes, around the clock) often break them.
TORTURE_RULES: dict[str, Any] = {
    "weekly": [{"day": day, "ranges": [{"start": "00:00", "end": "21:00"}]}
               for day in ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")],
    "bufferAfterMinutes": 5,
    "maxDurationMinutes": 120,
}


@dataclass(frozen=True)
class Config:
    out: Path
    admin_url: str = DEFAULT_ADMIN_URL
    duration_s: float = 60.0
    #: stop after this many attempts (0: only the duration counts)
    max_attempts: int = 0
    gateways: int = 2
    clients: int = 16
    resources: int = 3
    faults: tuple[str, ...] = FAULTS
    fault_interval_s: float = 3.0
    #: short, so that a paused gateway's locks expire under it (the pause lasts 3 TTLs)
    lock_ttl_ms: int = 1000
    lock_wait_ms: int = 1000
    request_timeout_s: float = 2.5
    double_click: float = 0.15
    #: how often the hot region of the calendar moves on
    round_s: float = 0.5
    #: every client races for one fresh window every this many seconds, gathering for lead_s
    stampede_every_s: float = 3.0
    stampede_lead_s: float = 0.3
    seed: int = 0
    keep: bool = False
    weaken: bool = False
    #: counter-proof for holds: every hold is stored already expired, so holds never block
    weaken_holds: bool = False
    #: set TORTURE_RULES on every resource and check invariant 7
    rules: bool = False
    #: counter-proof of invariant 7: gateways run with BOOKING_UNSAFE_NO_RULES=1 (implies rules)
    weaken_rules: bool = False
    progress_s: float = 5.0
    #: connections per gateway: the PostgreSQL server may be shared (max_connections)
    db_pool: int = 8
    extra_env: dict[str, str] = field(default_factory=dict)

    def gateway_env(self, database_url: str, redis_url: str) -> dict[str, str]:
        env = {
            "BOOKING_DATABASE_URL": database_url,
            "BOOKING_REDIS_URL": redis_url,
            "BOOKING_REDIS_PREFIX": "torture",
            "BOOKING_LOCK_TTL_MS": str(self.lock_ttl_ms),
            "BOOKING_LOCK_WAIT_MS": str(self.lock_wait_ms),
            "BOOKING_LOG_LEVEL": "WARNING",
            "BOOKING_ENV": "development",
            "BOOKING_DB_POOL_SIZE": str(self.db_pool),
            "BOOKING_DB_POOL_OVERFLOW": "0",
            # the run's one tenant is a load generator: the per-tenant rate limit would only refuse
            # requests before they reach the booking path under test
            "BOOKING_RATE_LIMIT_PER_S": "0",
        }
        if self.weaken:
            env["BOOKING_UNSAFE_NO_LOCK"] = "1"
        if self.weaken_rules:
            env["BOOKING_UNSAFE_NO_RULES"] = "1"
        return env | self.extra_env

    @property
    def run_rules(self) -> dict[str, Any] | None:
        return TORTURE_RULES if self.rules or self.weaken_rules else None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["out"] = str(self.out)
        data["admin_url"] = redact(self.admin_url)
        return data
