"""The persisted-query protocol's rules, the APQ policy with a recording store, and both
trusted-documents manifest formats."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from booking_gateway.infra.redis.persisted_queries import Registration
from booking_gateway.web.admission import Request, operation_request
from booking_gateway.web.persisted import AutomaticPersistedQueries, PersistedQueriesOff, Problem, requested_hash
from booking_gateway.web.trusted_documents import ManifestError, TrustedDocuments, load_manifest, parse_manifest

QUERY = "{ resources { edges { node { id } } } }"
HASH = hashlib.sha256(QUERY.encode()).hexdigest()
TENANT = uuid4()


class RecordingStore:
    def __init__(self, answer: Registration = Registration.STORED) -> None:
        self.documents: dict[tuple[UUID, str], str] = {}
        self.gets: list[str] = []
        self.answer = answer

    async def get(self, tenant_id: UUID, sha256: str) -> str | None:
        self.gets.append(sha256)
        return self.documents.get((tenant_id, sha256))

    async def register(self, tenant_id: UUID, sha256: str, text: str) -> Registration:
        if self.answer is Registration.STORED:
            self.documents[(tenant_id, sha256)] = text
        return self.answer


def ext(sha256: object = HASH, version: object = 1) -> dict[str, object]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha256}}


def test_the_hash_comes_from_extensions_as_an_object_and_never_from_json_text() -> None:
    assert requested_hash(None) is None
    assert requested_hash({"other": 1}) is None
    assert requested_hash(ext()) == HASH
    # a GET request's parameter is parsed by web/get_requests.py; text here is a body's mistake
    assert requested_hash(json.dumps(ext())) == Problem(400, "BAD_REQUEST", "'extensions' must be a JSON object")


@pytest.mark.parametrize(("extensions", "names"), [
    ("not json", "'extensions'"),
    ([1], "'extensions'"),
    ({"persistedQuery": "x"}, "'extensions.persistedQuery'"),
    (ext(version=2), "'extensions.persistedQuery.version'"),
    (ext(sha256=""), "'extensions.persistedQuery.sha256Hash'"),
    (ext(sha256=7), "'extensions.persistedQuery.sha256Hash'"),
    (ext(sha256="a" * 129), "'extensions.persistedQuery.sha256Hash'"),
])
def test_a_malformed_persisted_query_names_the_field(extensions: object, names: str) -> None:
    problem = requested_hash(extensions)
    assert isinstance(problem, Problem)
    assert problem.status == 400
    assert names in problem.message


def test_a_hash_only_request_has_an_empty_query_and_a_text_only_one_no_hash() -> None:
    assert operation_request({"extensions": ext()}, "the body") == Request("", None, None, HASH)
    assert operation_request({"query": None, "extensions": ext()}, "the body") == Request("", None, None, HASH)
    assert operation_request({"query": QUERY}, "the body") == Request(QUERY, None, None)
    assert operation_request({"extensions": {}}, "the body") == "the body has no 'query' string"
    assert "'extensions.persistedQuery.version'" in str(operation_request({"extensions": ext(version=0)}, "b"))


async def test_apq_not_found_then_registered_then_served_from_the_lru() -> None:
    store = RecordingStore()
    apq = AutomaticPersistedQueries(store)
    missing = await apq.text(TENANT, "", HASH)
    assert missing == Problem(200, "PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")
    assert await apq.text(TENANT, QUERY, HASH) == QUERY
    await apq.admitted(TENANT, QUERY, HASH)
    assert store.documents == {(TENANT, HASH): QUERY}
    store.gets.clear()
    assert await apq.text(TENANT, "", HASH) == QUERY
    assert store.gets == []  # the process's LRU answered
    assert isinstance(await apq.text(uuid4(), "", HASH), Problem)  # another tenant: not its document


async def test_apq_refuses_a_text_that_is_not_its_hash() -> None:
    problem = await AutomaticPersistedQueries(RecordingStore()).text(TENANT, QUERY + " ", HASH)
    assert isinstance(problem, Problem)
    assert (problem.status, problem.code) == (400, "PERSISTED_QUERY_HASH_MISMATCH")


async def test_the_lru_is_bounded_and_falls_back_to_the_store() -> None:
    store = RecordingStore()
    apq = AutomaticPersistedQueries(store, lru_size=2)
    texts = [f"{{ r{i}: resources {{ edges {{ cursor }} }} }}" for i in range(3)]
    for text in texts:
        await apq.admitted(TENANT, text, hashlib.sha256(text.encode()).hexdigest())
    store.gets.clear()
    for text in reversed(texts):
        assert await apq.text(TENANT, "", hashlib.sha256(text.encode()).hexdigest()) == text
    assert store.gets == [hashlib.sha256(texts[0].encode()).hexdigest()]  # the oldest had left the LRU


async def test_a_document_over_quota_is_not_remembered(caplog: pytest.LogCaptureFixture) -> None:
    store = RecordingStore(Registration.OVER_QUOTA)
    apq = AutomaticPersistedQueries(store)
    await apq.admitted(TENANT, QUERY, HASH)
    assert isinstance(await apq.text(TENANT, "", HASH), Problem)
    assert "over quota" in caplog.text
    assert "BOOKING_PERSISTED_QUERY_QUOTA" in caplog.text


async def test_with_persisted_queries_off_clients_are_told_to_stop_hashing() -> None:
    off = PersistedQueriesOff()
    assert await off.text(TENANT, "", HASH) == Problem(200, "PERSISTED_QUERY_NOT_SUPPORTED",
                                                       "PersistedQueryNotSupported")
    assert await off.text(TENANT, QUERY, HASH) == QUERY


def test_both_manifest_formats_load(tmp_path: Path) -> None:
    apollo = tmp_path / "apollo.json"
    apollo.write_text(json.dumps({"format": "apollo-persisted-query-manifest", "version": 1, "operations": [
        {"id": HASH, "name": "R", "type": "query", "body": QUERY}]}))
    codegen = tmp_path / "persisted-documents.json"
    codegen.write_text(json.dumps({HASH: QUERY}))
    assert load_manifest(apollo) == load_manifest(codegen) == {HASH: QUERY}


@pytest.mark.parametrize(("raw", "says"), [
    ([], "expected a JSON object"),
    ({"format": "other", "version": 1, "operations": []}, "'format' must be"),
    ({"format": "apollo-persisted-query-manifest", "version": 2, "operations": []}, "'version' must be 1"),
    ({"format": "apollo-persisted-query-manifest", "version": 1}, "'operations' must be a list"),
    ({"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id": "a", "type": "query"}]},
     "operations[0].body"),
    ({"format": "apollo-persisted-query-manifest", "version": 1, "operations": [
        {"id": "a", "type": "fragment", "body": "x"}]}, "operations[0].type"),
    ({HASH: 3}, f"the document of {HASH!r}"),
])
def test_a_malformed_manifest_says_what_and_where(raw: object, says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        parse_manifest(raw)


@pytest.mark.parametrize(("content", "says"), [
    (None, "cannot read the file"), ("{not json", "not a JSON file"), ("{}", "lists no documents")])
def test_a_manifest_error_names_the_file(tmp_path: Path, content: str | None, says: str) -> None:
    path = tmp_path / "manifest.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ManifestError) as raised:
        load_manifest(path)
    assert str(raised.value).startswith(f"BOOKING_TRUSTED_DOCUMENTS={path}: ")
    assert says in str(raised.value)


async def test_trusted_documents_accept_listed_ids_and_texts_only() -> None:
    trusted = TrustedDocuments({"custom-id": QUERY})
    assert await trusted.text(TENANT, "", "custom-id") == QUERY
    assert await trusted.text(TENANT, QUERY, None) == QUERY
    assert await trusted.text(TENANT, QUERY, "custom-id") == QUERY
    unlisted = await trusted.text(TENANT, "", HASH)
    assert isinstance(unlisted, Problem)
    assert unlisted.code == "PERSISTED_QUERY_NOT_IN_LIST"
    text = await trusted.text(TENANT, "{ __typename }", None)
    assert isinstance(text, Problem)
    assert text.code == "TRUSTED_DOCUMENT_REQUIRED"
    swapped = await trusted.text(TENANT, "{ __typename }", "custom-id")
    assert isinstance(swapped, Problem)
    assert swapped.code == "PERSISTED_QUERY_HASH_MISMATCH"
    by_hash = TrustedDocuments({HASH: QUERY})
    assert await by_hash.text(TENANT, "{resources{edges{node{id}}}}", None) != "{resources{edges{node{id}}}}"
