"""The wire: authentication, GraphiQL, health endpoints, errors before execution."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.e2e.servers import GatewayProcess, free_port, start_gateway


def test_requests_without_a_valid_key_are_refused_with_401(two_gateways: list[GatewayProcess]) -> None:
    url = f"{two_gateways[0].url}/graphql"
    missing = httpx.post(url, json={"query": "{ __typename }"})
    assert missing.status_code == 401
    assert missing.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "Bearer" in missing.headers["www-authenticate"]
    wrong = httpx.post(url, json={"query": "{ __typename }"}, headers={"Authorization": "Bearer bgk_nope"})
    assert wrong.status_code == 401
    assert "invalid or revoked" in wrong.json()["errors"][0]["message"]


def test_a_valid_key_is_served(two_gateways: list[GatewayProcess], api_key: str) -> None:
    response = httpx.post(f"{two_gateways[1].url}/graphql", json={"query": "{ __typename }"},
                          headers={"Authorization": f"Bearer {api_key}"})
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


def test_graphiql_is_served_to_browsers_in_development(two_gateways: list[GatewayProcess]) -> None:
    page = httpx.get(f"{two_gateways[0].url}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


def test_health_and_readiness(two_gateways: list[GatewayProcess]) -> None:
    assert httpx.get(f"{two_gateways[0].url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{two_gateways[0].url}/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "postgres": "ok", "redis": "ok", "rate_limit": "ok",
                            "hold_sweeper": "ok"}


def test_an_error_before_execution_is_answered_as_json_with_the_request_id(
        gateway_env: dict[str, str], logs_dir: Path) -> None:
    """PostgreSQL unreachable: the API-key lookup fails before anything executes."""
    env = {**gateway_env, "BOOKING_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere",
           "BOOKING_LOG_LEVEL": "INFO"}
    gateway = start_gateway(env, logs_dir, name="no-postgres")
    try:
        answer = httpx.post(f"{gateway.url}/graphql", json={"query": "{ __typename }"}, timeout=30,
                            headers={"Authorization": "Bearer bgk_any", "X-Request-Id": "req-nopg-1"})
    finally:
        gateway.stop()
    assert answer.status_code == 500
    assert answer.headers["x-request-id"] == "req-nopg-1"
    assert answer.json() == {"errors": [{"message": "internal error; quote request id req-nopg-1 to the operator",
                                         "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-nopg-1"}}]}
    log = gateway.log()
    assert "req-nopg-1" in log
    assert "Traceback" in log
