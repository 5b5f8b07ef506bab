"""The schema as SQLAlchemy Core tables; migrations create it, queries read it from here."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSTZRANGE, UUID

metadata = MetaData()

tenants = Table(
    "tenants", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

api_keys = Table(
    "api_keys", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("key_hash", LargeBinary, nullable=False, unique=True),
    Column("hint", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("revoked_at", DateTime(timezone=True)),
)

resources = Table(
    "resources", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), ForeignKey("tenants.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("time_zone", Text, nullable=False),
    # grows with every committed change to the resource's bookings (Availability.version)
    Column("availability_version", BigInteger, nullable=False, server_default="0"),
    # the client's rules document (JSON; NULL: never set) and its version (0: never set)
    Column("rules", JSONB),
    Column("rules_version", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

bookings = Table(
    "bookings", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), ForeignKey("tenants.id"), nullable=False),
    Column("resource_id", UUID(as_uuid=True), ForeignKey("resources.id"), nullable=False),
    Column("during", TSTZRANGE, nullable=False),
    # during widened by the resource's buffers at booking time; the exclusion constraint's column
    Column("blocked", TSTZRANGE, nullable=False),
    Column("status", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("reference", Text),
    Column("note", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    #: a hold's end, on the database's clock; kept after it is confirmed, released or expired
    Column("expires_at", DateTime(timezone=True)),
)

idempotency_records = Table(
    "idempotency_records", metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    Column("mutation", Text, primary_key=True),
    Column("client_mutation_id", Text, primary_key=True),
    Column("request_hash", LargeBinary, nullable=False),
    Column("kind", Text, nullable=False),
    Column("object_id", UUID(as_uuid=True)),
    Column("conflicts", ARRAY(TSTZRANGE)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
