"""Which media type an answer is sent as, from the request's ``Accept`` header.

GraphQL over HTTP defines two: ``application/graphql-response+json`` (whose status codes tell
request errors from results: 400 when nothing was executed) and ``application/json`` (200 for
every well-formed GraphQL answer, as legacy clients expect). A client that names neither, not
even by ``*/*`` or ``application/*``, gets 406. No header, or an empty one, means
``application/json``. Between equal q-values, a type named outright beats a wildcard; both named
outright, graphql-response+json wins (the spec's preference); both matched by a wildcard only,
application/json does (a client that names neither may be a legacy one).
"""

from __future__ import annotations

from enum import StrEnum


class MediaType(StrEnum):
    GRAPHQL_RESPONSE = "application/graphql-response+json"
    JSON = "application/json"

    @property
    def header(self) -> bytes:
        """The Content-Type of the answer (JSON is UTF-8 by definition: no charset parameter)."""
        return self.value.encode()


#: Said in a 406 answer.
ACCEPTABLE = f"{MediaType.GRAPHQL_RESPONSE.value} or {MediaType.JSON.value}"


def negotiate(accept: bytes | None) -> MediaType | None:
    """The media type to answer with, or None when ``accept`` allows neither (406)."""
    if not accept or not accept.strip():
        return MediaType.JSON
    if accept == b"application/json":  # the usual headers: no parsing
        return MediaType.JSON
    if accept == b"application/graphql-response+json":
        return MediaType.GRAPHQL_RESPONSE
    best: tuple[float, int, int] | None = None
    chosen: MediaType | None = None
    for media_range in accept.decode("latin-1").split(","):
        name, q = _parse(media_range)
        for media in MediaType:
            specificity = _specificity(name, media)
            if specificity < 0 or q <= 0:
                continue
            preferred = (media is MediaType.GRAPHQL_RESPONSE) == (specificity == 2)
            key = (q, specificity, int(preferred))
            if best is None or key > best:
                best, chosen = key, media
    return chosen


def _parse(media_range: str) -> tuple[str, float]:
    """``type/subtype`` (lower case) and its q-value (1 unless given; 0 if it is not a number)."""
    name, *params = (part.strip() for part in media_range.split(";"))
    q = 1.0
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "q":
            try:
                q = min(1.0, float(value.strip()))
            except ValueError:
                q = 0.0
    return name.lower(), q


def _specificity(name: str, media: MediaType) -> int:
    """How closely ``name`` matches ``media``: 2 exactly, 1 by ``type/*``, 0 by ``*/*``; -1 not at all."""
    if name == media.value:
        return 2
    if name == "application/*":
        return 1
    if name == "*/*":
        return 0
    return -1
