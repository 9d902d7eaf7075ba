"""Builders for the messages a dialog layer sends, with RFC-correct wire format."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ._errors import LocalProtocolError, ParseError
from ._grammar import is_token
from ._headers import Headers
from ._message import HANDLERS, Request, Response, _Fields
from ._uri import URI
from ._values import CSeq, NameAddr, Via

#: RFC 3261 21 reason phrases (and those of the extensions a dialog layer meets)
REASONS = {
    100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 182: "Queued",
    183: "Session Progress", 199: "Early Dialog Terminated", 200: "OK", 202: "Accepted",
    204: "No Notification", 300: "Multiple Choices", 301: "Moved Permanently",
    302: "Moved Temporarily", 305: "Use Proxy", 380: "Alternative Service", 400: "Bad Request",
    401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    406: "Not Acceptable", 407: "Proxy Authentication Required", 408: "Request Timeout",
    410: "Gone", 413: "Request Entity Too Large", 414: "Request-URI Too Long",
    415: "Unsupported Media Type", 416: "Unsupported URI Scheme", 420: "Bad Extension",
    421: "Extension Required", 423: "Interval Too Brief", 480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist", 482: "Loop Detected", 483: "Too Many Hops",
    484: "Address Incomplete", 485: "Ambiguous", 486: "Busy Here", 487: "Request Terminated",
    488: "Not Acceptable Here", 489: "Bad Event", 491: "Request Pending",
    493: "Undecipherable", 500: "Server Internal Error", 501: "Not Implemented",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Server Time-out",
    505: "Version Not Supported", 513: "Message Too Large", 600: "Busy Everywhere",
    603: "Decline", 604: "Does Not Exist Anywhere", 606: "Not Acceptable",
}  # fmt: skip

HeaderItems = Iterable[tuple[str, str]]


def _many(value: object) -> list[str]:
    if value is None or value == ():  # nothing given ("" is given, and refused later)
        return []
    if type(value) is str:
        return [value]
    if isinstance(value, str | NameAddr | Via | URI):
        return [str(value)]
    assert isinstance(value, Iterable)
    return [str(v) for v in value]


def _tail(
    headers: HeaderItems, body: bytes, content_type: str | None, *, length: bool = True
) -> list[tuple[str, str]]:
    out = list(headers)
    if (
        body
        and content_type is None
        and not any(n.lower() in ("content-type", "c") for n, _ in out)
    ):
        raise LocalProtocolError("a body needs a Content-Type (RFC 3261 7.4.1)")
    if content_type is not None:
        out.append(("Content-Type", content_type))
    if length:
        out.append(("Content-Length", str(len(body))))
    return out


def build_request(
    method: str,
    uri: URI | str,
    *,
    call_id: str,
    from_: NameAddr | str,
    to: NameAddr | str,
    cseq: int,
    via: Via | str | Sequence[Via | str],
    contact: NameAddr | str | Sequence[NameAddr | str] = (),
    route: Sequence[NameAddr | str] = (),
    max_forwards: int = 70,
    headers: HeaderItems = (),
    body: bytes = b"",
    content_type: str | None = None,
) -> Request:
    """Build a request from its parts (RFC 3261 8.1.1): Content-Length computed, CRLF ends.

    Raises :class:`ParseError` when a part is malformed, like any other message.
    """
    items: list[tuple[str, str]] = [("Via", v) for v in _many(via)]
    items.append(("Max-Forwards", str(max_forwards)))
    items += [("Route", r) for r in _many(route)]
    items += [("From", str(from_)), ("To", str(to)), ("Call-ID", call_id)]
    items.append(("CSeq", str(CSeq(cseq, method))))
    items += [("Contact", c) for c in _many(contact)]
    items += _tail(headers, body, content_type)
    return Request(method, uri if isinstance(uri, URI) else URI.parse(uri), Headers(items), body)


def build_response(
    request: Request,
    status_code: int,
    reason: str | None = None,
    *,
    to_tag: str | None = None,
    contact: NameAddr | str | Sequence[NameAddr | str] = (),
    headers: HeaderItems = (),
    body: bytes = b"",
    content_type: str | None = None,
) -> Response:
    """Build the response to ``request`` (RFC 3261 8.2.6.2).

    Via, From, Call-ID and CSeq are copied; To is copied and gets ``to_tag`` unless it
    already has one. Record-Route is copied into 101-299 responses, which are the ones that
    can establish a dialog (RFC 3261 12.1.1).
    """
    to = request.to
    add_tag: str | None = None  # a tag to add to the request's To, as written
    if to_tag is not None:
        if not is_token(to_tag):  # RFC 3261 19.3: tag = token
            raise LocalProtocolError(f"To tag {to_tag!r} is not a token (RFC 3261 19.3)")
        if to.tag is None:
            to = to.with_tag(to_tag)
            add_tag = to_tag
        elif to.tag != to_tag:
            raise LocalProtocolError(
                f"request already has To tag {to.tag!r}; cannot answer with {to_tag!r}"
            )
    if not 100 <= status_code <= 699:
        raise LocalProtocolError(f"status code {status_code} outside 100-699")
    dialog_forming = 100 < status_code < 300
    items = _copied(request, add_tag, record_route=dialog_forming)
    added = [("Contact", c) for c in _many(contact)]
    if headers or body or content_type is not None:
        added += _tail(headers, body, content_type, length=False)
    fields = _Fields()
    fields.via, fields.from_, fields.to = request.via, request.from_, to
    fields.call_id, fields.cseq = request.call_id, request.cseq
    if dialog_forming:
        fields.record_route = request.record_route
    extra = Headers(added).items() if added else ()  # validated and canonical
    index = 0
    try:
        for index, (name, value) in enumerate(extra):  # noqa: B007 (used below)
            handler = HANDLERS.get(name)
            if handler is not None:
                handler(fields, value)
    except ParseError as err:
        raise ParseError(err.reason, f"header {extra[index][0]!r}") from None
    if fields.content_length is not None:  # as build_request says: ours is computed
        raise ParseError("Content-Length appears more than once", "header 'Content-Length'")
    fields.content_length = length = len(body)
    phrase = REASONS.get(status_code, "") if reason is None else reason
    headers_ = Headers._trusted((*items, *extra, ("Content-Length", str(length))), None)
    return Response._trusted(status_code, phrase, headers_, body, fields)


#: headers a response copies from its request (RFC 3261 8.2.6.2), besides Via
_COPIED = frozenset({"From", "To", "Call-ID", "CSeq"})


def _copied(request: Request, to_tag: str | None, *, record_route: bool) -> list[tuple[str, str]]:
    """The header lines a response copies from ``request``, as the request wrote them: it was
    validated when it was made, so only what the response adds needs parsing."""
    found = request._fields.copied  # a request is often answered several times (1xx, 2xx)
    if found is None:
        vias: list[tuple[str, str]] = []
        routes: list[tuple[str, str]] = []
        copied: dict[str, str] = {}
        for name, value in request.headers.items():
            if name == "Via":
                vias.append((name, value))
            elif name == "Record-Route":
                routes.append((name, value))
            elif name in _COPIED:
                copied[name] = value
        request._fields.copied = found = (vias, routes, copied)
    vias, routes, copied = found
    items = vias + routes if record_route else vias[:]
    items += [
        ("From", copied["From"]),
        ("To", copied["To"] if to_tag is None else f"{copied['To']};tag={to_tag}"),
        ("Call-ID", copied["Call-ID"]),
        ("CSeq", copied["CSeq"]),
    ]
    return items
