"""The fast path: every use of a private Strawberry or graphql-core API, in one package.

What each module replaces and relies on: :mod:`booking_gateway.fastpath.hooks`. Off with
``BOOKING_FAST_PATH=false`` (docs/fastpath.md).
"""
