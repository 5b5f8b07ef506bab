"""booking-gateway: books time windows on resources for many tenants, never double-booking."""
