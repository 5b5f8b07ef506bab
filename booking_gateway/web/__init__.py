"""The HTTP and WebSocket edge: authentication, the GraphQL view, health endpoints."""
