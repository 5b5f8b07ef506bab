"""PostgreSQL, the durable truth: tables, migrations and the adapters of the store ports."""
