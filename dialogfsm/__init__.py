"""dialogfsm: SIP dialogs (RFC 3261 section 12) tracked as a state machine, sans-IO."""

from ._build import REASONS, build_request, build_response
from ._errors import (
    DialogError,
    LocalProtocolError,
    ParseError,
    RemoteProtocolError,
)
from ._headers import Headers
from ._message import Message, Request, Response
from ._parser import DEFAULT_LIMITS, Limits, StreamParser, parse_message
from ._uri import URI
from ._values import CSeq, Event, NameAddr, RAck, SubscriptionState, Via

__all__ = [
    "DEFAULT_LIMITS",
    "REASONS",
    "URI",
    "CSeq",
    "DialogError",
    "Event",
    "Headers",
    "Limits",
    "LocalProtocolError",
    "Message",
    "NameAddr",
    "ParseError",
    "RAck",
    "RemoteProtocolError",
    "Request",
    "Response",
    "StreamParser",
    "SubscriptionState",
    "Via",
    "build_request",
    "build_response",
    "parse_message",
]
