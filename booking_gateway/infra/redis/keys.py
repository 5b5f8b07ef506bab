"""Redis key and channel names, in one place so the lock, the publisher and the subscriber agree.

Everything about one resource shares the hash tag ``{<tenant>:<resource>}``: the lock's zset sits
in one Redis Cluster slot per resource, and the channel carries the same tag so a sharded
(SPUBLISH) variant needs no renaming.

Every key the gateway writes expires by itself or is deleted when its use ends, so Redis holds
only what is in use: a lock zset expires with its longest-lived entry and vanishes with its
last one (``lua/acquire.lua``, ``extend.lua``, ``release.lua``); a tenant's rate bucket expires
when it would be full again (``lua/rate_limit.lua``); a persisted query and a tenant's
registration counter expire after BOOKING_PERSISTED_QUERY_TTL_S (``lua/register_document.lua``).
Availability changes are PUBLISHed, not stored.
"""

from __future__ import annotations

import re
from uuid import UUID

_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")


def hash_tag(tenant_id: UUID, resource_id: UUID) -> str:
    return f"{{{tenant_id}:{resource_id}}}"


def lock_key(prefix: str, tenant_id: UUID, resource_id: UUID) -> str:
    """The zset of live lock entries of one resource."""
    return f"{prefix}:lock:{hash_tag(tenant_id, resource_id)}"


def channel_for(prefix: str, tenant_id: UUID, resource_id: UUID) -> str:
    """The pub/sub channel announcing availability changes of one resource."""
    return f"{prefix}:avail:{hash_tag(tenant_id, resource_id)}"


def channel_pattern(prefix: str) -> str:
    """A PSUBSCRIBE pattern matching every availability channel of the deployment ``prefix``."""
    escaped = _GLOB_SPECIAL.sub(r"\\\1", prefix)
    return f"{escaped}:avail:*"


def persisted_document_key(prefix: str, tenant_id: UUID, sha256: str) -> str:
    """The text of one automatic persisted query (APQ) of a tenant; expires by itself."""
    return f"{prefix}:pq:{{{tenant_id}}}:{sha256}"


def persisted_quota_key(prefix: str, tenant_id: UUID) -> str:
    """How many documents a tenant registered in the current quota period; expires by itself."""
    return f"{prefix}:pq-quota:{{{tenant_id}}}"
