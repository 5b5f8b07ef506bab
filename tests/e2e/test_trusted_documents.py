"""``serve`` with a malformed trusted-documents manifest stops at once, naming the file and the problem."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.servers import cli, free_port


def test_serve_refuses_a_malformed_manifest(gateway_env: dict[str, str], tmp_path: Path) -> None:
    manifest = tmp_path / "persisted-documents.json"
    manifest.write_text('{"abc": 42}')
    out = cli("serve", "--port", str(free_port()), env={**gateway_env, "BOOKING_TRUSTED_DOCUMENTS": str(manifest)},
              check=False, timeout=30)
    assert out.returncode == 2
    assert f"error: BOOKING_TRUSTED_DOCUMENTS={manifest}: the document of 'abc' must be a non-empty string" \
        in out.stderr
