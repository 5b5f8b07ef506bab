"""The Redis wire protocol every connection of the gateway speaks.

RESP2, stated rather than inherited: redis-py 8 switched its default to RESP3 (a ``HELLO 3``
handshake on every new connection), which changes the shape of some replies. Our Lua scripts,
the pub/sub reader and the script runner's raw replies are written against RESP2, which every
Redis and Valkey server speaks, so a client upgrade cannot change what they read.
"""

RESP_PROTOCOL = 2
