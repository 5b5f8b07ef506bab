"""Trusted documents: in production, run only the operations the client's build registered.

``BOOKING_TRUSTED_DOCUMENTS=/path/to/manifest.json`` names a manifest in either format a build
produces:

* Apollo's persisted-query manifest (``generate-persisted-query-manifest``):
  ``{"format": "apollo-persisted-query-manifest", "version": 1,
  "operations": [{"id", "name", "type", "body"}]}``;
* graphql-codegen's client preset ``persisted-documents.json``: ``{"<hash>": "<body>"}``.

A request runs when its ``sha256Hash`` is an id of the manifest, or when its full text is a
body of the manifest (or hashes to an id); anything else, introspection included, is refused
before it is parsed: ``PERSISTED_QUERY_NOT_IN_LIST`` for a hash the list lacks,
``TRUSTED_DOCUMENT_REQUIRED`` for a text it lacks. A malformed manifest stops the start-up
with an error naming the file and what is wrong.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID

from booking_gateway.web.persisted import Problem, mismatch, sha256_hex

APOLLO_FORMAT = "apollo-persisted-query-manifest"


class ManifestError(Exception):
    """A trusted-documents manifest that cannot be used, with the file and the problem."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"BOOKING_TRUSTED_DOCUMENTS={path}: {problem}")


def load_manifest(path: Path) -> dict[str, str]:
    """Id (hash) -> document text, from either manifest format."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ManifestError(path, f"cannot read the file ({err.strerror or err})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ManifestError(path, f"not a JSON file ({err})") from None
    try:
        documents = parse_manifest(raw)
    except ValueError as err:
        raise ManifestError(path, str(err)) from None
    if not documents:
        raise ManifestError(path, "the manifest lists no documents, so no operation could run")
    return documents


def parse_manifest(raw: Any) -> dict[str, str]:
    """Id -> text of a decoded manifest; ValueError says what is wrong and where."""
    if not isinstance(raw, dict):
        raise ValueError("expected a JSON object (an Apollo persisted-query manifest or a graphql-codegen "
                         "persisted-documents map)")
    if "format" in raw or "operations" in raw:
        return _apollo(raw)
    documents: dict[str, str] = {}
    for key, body in raw.items():
        if not isinstance(body, str) or not body.strip():
            raise ValueError(f"the document of {key!r} must be a non-empty string (graphql-codegen "
                             "persisted-documents format: {\"<hash>\": \"<document>\"})")
        documents[key] = body
    return documents


def _apollo(raw: dict[str, Any]) -> dict[str, str]:
    if raw.get("format") != APOLLO_FORMAT:
        raise ValueError(f"'format' must be {APOLLO_FORMAT!r}, not {raw.get('format')!r}")
    if raw.get("version") != 1:
        raise ValueError(f"'version' must be 1, not {raw.get('version')!r}")
    operations = raw.get("operations")
    if not isinstance(operations, list):
        raise ValueError("'operations' must be a list of {id, name, type, body}")
    documents: dict[str, str] = {}
    for index, operation in enumerate(operations):
        where = f"operations[{index}]"
        if not isinstance(operation, dict):
            raise ValueError(f"{where} must be an object with 'id', 'name', 'type' and 'body'")
        op_id, body = operation.get("id"), operation.get("body")
        if not isinstance(op_id, str) or not op_id:
            raise ValueError(f"{where}.id must be a non-empty string")
        if not isinstance(body, str) or not body.strip():
            raise ValueError(f"{where}.body must be a non-empty string (the document)")
        if operation.get("type") not in ("query", "mutation", "subscription"):
            raise ValueError(f"{where}.type must be 'query', 'mutation' or 'subscription'")
        documents[op_id] = body
    return documents


class TrustedDocuments:
    """The allowlist as admission's persisted-documents policy (nothing is registered)."""

    def __init__(self, documents: dict[str, str]) -> None:
        self._by_id = dict(documents)
        self._bodies = frozenset(documents.values())

    def __len__(self) -> int:
        return len(self._by_id)

    async def text(self, tenant_id: UUID, query: str, sha256: str | None) -> str | Problem:
        if sha256 is not None:
            body = self._by_id.get(sha256)
            if body is None:
                return Problem(400, "PERSISTED_QUERY_NOT_IN_LIST",
                               f"no trusted document has the id {sha256[:64]!r}: this gateway runs only the "
                               "documents of its manifest (BOOKING_TRUSTED_DOCUMENTS); rebuild the client's "
                               "manifest and deploy it")
            if query and query != body and sha256_hex(query) != sha256:
                return mismatch(sha256)
            return body
        if query in self._bodies or sha256_hex(query) in self._by_id:
            return query
        return Problem(400, "TRUSTED_DOCUMENT_REQUIRED",
                       "this gateway runs only trusted documents (BOOKING_TRUSTED_DOCUMENTS): send a document "
                       "of the manifest, by its id in 'extensions.persistedQuery.sha256Hash' or by its exact text")

    async def admitted(self, tenant_id: UUID, query: str, sha256: str) -> None:
        return None
