"""``python -m booking_gateway`` is the ``booking-gateway`` command."""

from booking_gateway.cli import main

main()
