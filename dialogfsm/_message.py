"""Request and Response: immutable messages with the dialog headers parsed once.

Headers a dialog layer reads (Via, From, To, Call-ID, CSeq, Contact, Record-Route, Route,
Max-Forwards, Content-Length, Require, Supported, RSeq, RAck, Event, Subscription-State) are
parsed and validated when the message is built, so a message that exists is well-formed.
Every other header stays text until the application parses it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NoReturn

import attrs

from ._errors import ParseError
from ._grammar import parse_uint
from ._headers import Headers
from ._uri import URI
from ._value_memos import (
    MEMO_KEY,
    cseq_memo,
    name_addr_memo,
    name_addrs,
    name_addrs_memo,
    tokens_memo,
    vias,
    vias_memo,
)
from ._values import MAX_RSEQ, CSeq, Event, NameAddr, RAck, SubscriptionState, Via, parse_tokens

SIP_VERSION = "SIP/2.0"
_WHITESPACE = re.compile(r"\s")
_new_object = object.__new__
_MAX_SEQ = 2**31


class _Fields:
    """The parsed dialog headers of one message (internal, filled once, never changed)."""

    __slots__ = (
        "call_id", "contact", "contact_wildcard", "content_length", "copied", "cseq", "event",
        "from_", "max_forwards", "rack", "record_route", "require", "route", "rseq",
        "subscription_state", "supported", "to", "via",
    )  # fmt: skip

    def __init__(self) -> None:
        self.call_id = ""
        self.from_: NameAddr | None = None
        self.to: NameAddr | None = None
        self.cseq: CSeq | None = None
        self.via: tuple[Via, ...] = ()
        self.contact: tuple[NameAddr, ...] = ()
        self.contact_wildcard = False
        self.record_route: tuple[NameAddr, ...] = ()
        self.route: tuple[NameAddr, ...] = ()
        self.max_forwards: int | None = None
        self.content_length: int | None = None
        self.require: tuple[str, ...] = ()
        self.supported: tuple[str, ...] = ()
        self.rseq: int | None = None
        self.rack: RAck | None = None
        self.event: Event | None = None
        self.subscription_state: SubscriptionState | None = None
        # a request's header lines that its responses copy (RFC 3261 8.2.6.2), found by
        # the first response built to it: (Via lines, Record-Route lines, From/To/...)
        self.copied: tuple[list[tuple[str, str]], list[tuple[str, str]], dict[str, str]] | None
        self.copied = None


def _repeated(name: str) -> NoReturn:
    # RFC 4475 3.3.8, 3.3.9: a single-valued header, repeated
    raise ParseError(f"{name} appears more than once", name)


def _call_id(f: _Fields, value: str) -> None:
    if f.call_id:
        _repeated("Call-ID")
    # RFC 3261 25.1: callid = word [ "@" word ]; no whitespace, never empty
    if not value or _WHITESPACE.search(value):
        raise ParseError(f"invalid Call-ID {value[:40]!r}", "Call-ID")
    f.call_id = value


def _from(f: _Fields, value: str) -> None:
    if f.from_ is not None:
        _repeated("From")
    f.from_ = name_addr_memo(value) if len(value) <= MEMO_KEY else NameAddr.parse(value)


def _to(f: _Fields, value: str) -> None:
    if f.to is not None:
        _repeated("To")
    f.to = name_addr_memo(value) if len(value) <= MEMO_KEY else NameAddr.parse(value)


def _cseq(f: _Fields, value: str) -> None:
    if f.cseq is not None:
        _repeated("CSeq")
    f.cseq = cseq_memo(value) if len(value) <= MEMO_KEY else CSeq.parse(value)


def _via(f: _Fields, value: str) -> None:
    f.via += vias_memo(value) if len(value) <= MEMO_KEY else vias(value)


def _contact(f: _Fields, value: str) -> None:
    if value == "*" or f.contact_wildcard:  # RFC 3261 10.2.2: '*' only alone, in a REGISTER
        if f.contact or f.contact_wildcard:
            raise ParseError("Contact '*' mixed with other Contact values", "Contact")
        f.contact_wildcard = True
        return
    f.contact += name_addrs_memo(value) if len(value) <= MEMO_KEY else name_addrs(value)


def _record_route(f: _Fields, value: str) -> None:
    f.record_route += name_addrs_memo(value) if len(value) <= MEMO_KEY else name_addrs(value)


def _route(f: _Fields, value: str) -> None:
    f.route += name_addrs_memo(value) if len(value) <= MEMO_KEY else name_addrs(value)


def _max_forwards(f: _Fields, value: str) -> None:
    if f.max_forwards is not None:
        _repeated("Max-Forwards")
    if value.isdigit() and len(value) < 4 and value.isascii() and int(value) < 256:
        f.max_forwards = int(value)  # the usual case, without the call
    else:
        f.max_forwards = parse_uint(value, "Max-Forwards", "Max-Forwards", 256)


def content_length(value: str) -> int:
    """Parse a Content-Length value (RFC 3261 20.14)."""
    return parse_uint(value, "Content-Length", "Content-Length", _MAX_SEQ)


def _content_length(f: _Fields, value: str) -> None:
    if f.content_length is not None:
        _repeated("Content-Length")
    if value.isdigit() and len(value) < 6 and value.isascii():
        f.content_length = int(value)  # the usual case, without the call
    else:
        f.content_length = content_length(value)


def _require(f: _Fields, value: str) -> None:
    f.require += (
        tokens_memo(value, "Require")
        if len(value) <= MEMO_KEY
        else (parse_tokens(value, "Require"))
    )


def _supported(f: _Fields, value: str) -> None:
    f.supported += (
        tokens_memo(value, "Supported")
        if len(value) <= MEMO_KEY
        else (parse_tokens(value, "Supported"))
    )


def _rseq(f: _Fields, value: str) -> None:
    if f.rseq is not None:
        _repeated("RSeq")
    f.rseq = parse_uint(value, "RSeq", "RSeq", MAX_RSEQ)


def _rack(f: _Fields, value: str) -> None:
    if f.rack is not None:
        _repeated("RAck")
    f.rack = RAck.parse(value)


def _event(f: _Fields, value: str) -> None:
    if f.event is not None:
        _repeated("Event")
    f.event = Event.parse(value)


def _subscription_state(f: _Fields, value: str) -> None:
    if f.subscription_state is not None:
        _repeated("Subscription-State")
    f.subscription_state = SubscriptionState.parse(value)


_Handler = Callable[[_Fields, str], None]
#: canonical header name -> the parser that adds it to a message's typed fields
HANDLERS: dict[str, _Handler] = {
    "Via": _via, "From": _from, "To": _to, "Call-ID": _call_id, "CSeq": _cseq,
    "Contact": _contact, "Record-Route": _record_route, "Route": _route,
    "Max-Forwards": _max_forwards, "Content-Length": _content_length, "Require": _require,
    "Supported": _supported, "RSeq": _rseq, "RAck": _rack, "Event": _event,
    "Subscription-State": _subscription_state,
}  # fmt: skip


def extract(headers: Headers, method: str | None) -> _Fields:
    """Parse and validate the dialog headers of a request (``method``) or response (None)."""
    fields = _Fields()
    index = 0
    try:
        for index, (name, value) in enumerate(headers.items()):  # noqa: B007 (used below)
            handler = HANDLERS.get(name)
            if handler is not None:
                handler(fields, value)
    except ParseError as err:
        raise ParseError(err.reason, headers.where(index)) from None
    return check_required(fields, method)


def check_required(fields: _Fields, method: str | None) -> _Fields:
    """RFC 3261 8.1.1: the headers every request and response carries; 8.1.1.5: CSeq method."""
    if fields.cseq is None or fields.from_ is None or fields.to is None or not fields.call_id:
        missing = [name for name, value in (("Via", fields.via), ("From", fields.from_),
                   ("To", fields.to), ("Call-ID", fields.call_id), ("CSeq", fields.cseq))
                   if not value]  # fmt: skip
        raise ParseError(f"missing required header {', '.join(missing)}", "headers")
    if not fields.via:
        raise ParseError("missing required header Via", "headers")
    if method is not None and fields.cseq.method != method:
        raise ParseError(
            f"CSeq method {fields.cseq.method!r} does not match request method {method!r}",
            "header 'CSeq'",
        )
    return fields


class _MessageFields:
    """Typed dialog headers, shared by Request and Response."""

    __slots__ = ()
    _fields: _Fields
    headers: Headers
    body: bytes

    @property
    def call_id(self) -> str:
        """Call-ID (RFC 3261 20.8)."""
        return self._fields.call_id

    @property
    def from_(self) -> NameAddr:
        """From (RFC 3261 20.20); ``from`` is a Python keyword."""
        assert self._fields.from_ is not None
        return self._fields.from_

    @property
    def to(self) -> NameAddr:
        """To (RFC 3261 20.39)."""
        assert self._fields.to is not None
        return self._fields.to

    @property
    def cseq(self) -> CSeq:
        """CSeq (RFC 3261 20.16)."""
        assert self._fields.cseq is not None
        return self._fields.cseq

    @property
    def via(self) -> tuple[Via, ...]:
        """Every Via value, topmost first (RFC 3261 20.42)."""
        return self._fields.via

    @property
    def contact(self) -> tuple[NameAddr, ...]:
        """Contact values (RFC 3261 20.10); empty for ``Contact: *``."""
        return self._fields.contact

    @property
    def contact_wildcard(self) -> bool:
        """True for ``Contact: *`` (RFC 3261 10.2.2)."""
        return self._fields.contact_wildcard

    @property
    def record_route(self) -> tuple[NameAddr, ...]:
        """Record-Route values in message order (RFC 3261 20.30)."""
        return self._fields.record_route

    @property
    def route(self) -> tuple[NameAddr, ...]:
        """Route values in message order (RFC 3261 20.34)."""
        return self._fields.route

    @property
    def max_forwards(self) -> int | None:
        """Max-Forwards (RFC 3261 20.22), when present."""
        return self._fields.max_forwards

    @property
    def content_length(self) -> int | None:
        """Content-Length as sent (RFC 3261 20.14), when present."""
        return self._fields.content_length

    @property
    def require(self) -> tuple[str, ...]:
        """Option tags of Require (RFC 3261 20.32)."""
        return self._fields.require

    @property
    def supported(self) -> tuple[str, ...]:
        """Option tags of Supported (RFC 3261 20.37)."""
        return self._fields.supported

    @property
    def rseq(self) -> int | None:
        """RSeq of a reliable provisional response (RFC 3262 7.1)."""
        return self._fields.rseq

    @property
    def rack(self) -> RAck | None:
        """RAck of a PRACK (RFC 3262 7.2)."""
        return self._fields.rack

    @property
    def event(self) -> Event | None:
        """Event (RFC 6665 8.2.1)."""
        return self._fields.event

    @property
    def subscription_state(self) -> SubscriptionState | None:
        """Subscription-State (RFC 6665 8.2.3)."""
        return self._fields.subscription_state

    def _wire(self, start_line: str) -> bytes:
        return f"{start_line}\r\n{self.headers}\r\n".encode() + self.body

    def _check_body(self) -> None:
        declared = self._fields.content_length
        if declared is not None and declared != len(self.body):
            raise ParseError(
                f"Content-Length {declared} does not match the {len(self.body)}-byte body", "body"
            )


def _bytes(value: bytes) -> bytes:
    return bytes(value)


@attrs.frozen(repr=False)
class Request(_MessageFields):
    """A SIP request (RFC 3261 7.1). Building one validates its dialog headers."""

    method: str
    uri: URI
    """The Request-URI."""
    headers: Headers
    body: bytes = attrs.field(default=b"", converter=_bytes)
    version: str = SIP_VERSION
    _fields: _Fields = attrs.field(init=False, eq=False, hash=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_fields", extract(self.headers, self.method))
        self._check_body()

    @classmethod
    def _trusted(
        cls, method: str, uri: URI, headers: Headers, body: bytes, fields: _Fields
    ) -> Request:
        """Assemble a request whose parts the parser has already validated."""
        self = _new_object(cls)
        set_method, set_uri, set_headers, set_body, set_version, set_fields = _REQUEST_SLOTS
        set_method(self, method)
        set_uri(self, uri)
        set_headers(self, headers)
        set_body(self, body)
        set_version(self, SIP_VERSION)
        set_fields(self, fields)
        return self

    @property
    def start_line(self) -> str:
        """``METHOD Request-URI SIP/2.0``."""
        return f"{self.method} {self.uri} {self.version}"

    def __bytes__(self) -> bytes:
        return self._wire(self.start_line)

    def __str__(self) -> str:
        return bytes(self).decode("utf-8", "replace")

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.uri} call_id={self.call_id!r} cseq={self.cseq}>"


@attrs.frozen(repr=False)
class Response(_MessageFields):
    """A SIP response (RFC 3261 7.2). Building one validates its dialog headers."""

    status_code: int
    reason: str
    headers: Headers
    body: bytes = attrs.field(default=b"", converter=_bytes)
    version: str = SIP_VERSION
    _fields: _Fields = attrs.field(init=False, eq=False, hash=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not 100 <= self.status_code <= 699:
            raise ParseError(f"status code {self.status_code} outside 100-699", "start line")
        object.__setattr__(self, "_fields", extract(self.headers, None))
        self._check_body()

    @classmethod
    def _trusted(
        cls, status: int, reason: str, headers: Headers, body: bytes, fields: _Fields
    ) -> Response:
        """Assemble a response whose parts the parser has already validated."""
        self = _new_object(cls)
        set_status, set_reason, set_headers, set_body, set_version, set_fields = _RESPONSE_SLOTS
        set_status(self, status)
        set_reason(self, reason)
        set_headers(self, headers)
        set_body(self, body)
        set_version(self, SIP_VERSION)
        set_fields(self, fields)
        return self

    @property
    def method(self) -> str:
        """The method of the request this answers (from CSeq)."""
        return self.cseq.method

    @property
    def start_line(self) -> str:
        """``SIP/2.0 CODE Reason``."""
        return f"{self.version} {self.status_code} {self.reason}"

    def __bytes__(self) -> bytes:
        return self._wire(self.start_line)

    def __str__(self) -> str:
        return bytes(self).decode("utf-8", "replace")

    def __repr__(self) -> str:
        return (
            f"<Response {self.status_code} {self.reason} call_id={self.call_id!r} cseq={self.cseq}>"
        )


def _slot_setters(cls: type, *names: str) -> tuple[Callable[[object, object], None], ...]:
    """The setters of a frozen slotted class's slots: calling a slot's own ``__set__`` skips
    the attribute lookup of ``object.__setattr__`` (a parsed message is filled in half the
    time)."""
    return tuple(cls.__dict__[name].__set__ for name in names)


_REQUEST_SLOTS = _slot_setters(Request, "method", "uri", "headers", "body", "version", "_fields")
_RESPONSE_SLOTS = _slot_setters(
    Response, "status_code", "reason", "headers", "body", "version", "_fields"
)

Message = Request | Response
