"""The booking domain: pure Python, no I/O, no framework.

Everything here can be tested without a server. Adapters in ``infra`` implement
the ports declared in :mod:`booking_gateway.domain.ports`.
"""
