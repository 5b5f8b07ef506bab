// Runs graphql-http's server audit against AUDIT_URL with the API key AUDIT_KEY and prints one
// JSON line per audit: {id, name, status: "ok" | "warn" | "error", reason}.
// Run by tests/e2e/test_graphql_http_audit.py, which installs the pinned package first.
import { auditServer } from 'graphql-http';

const url = process.env.AUDIT_URL;
const key = process.env.AUDIT_KEY;
if (!url || !key) throw new Error('set AUDIT_URL and AUDIT_KEY');

// every audit request carries the key, as a real client would
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${key}`);
  return fetch(input, { ...init, headers });
};

for (const result of await auditServer({ url, fetchFn })) {
  const reason = result.status === 'ok' ? null : result.reason;
  console.log(JSON.stringify({ id: result.id, name: result.name, status: result.status, reason }));
}
