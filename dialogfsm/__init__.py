"""dialogfsm: SIP dialogs (RFC 3261 section 12) tracked as a state machine, sans-IO."""

from ._build import REASONS, build_request, build_response
from ._diagram import (
    DiagramError,
    PathStep,
    machine_graph,
    machine_mermaid,
    path_from_events,
    path_graph,
    path_mermaid,
    path_of,
    render,
    write_diagrams,
)
from ._dialog import Dialog, build_cancel, build_in_dialog, request_target
from ._dialogset import DialogSet, SetKey
from ._errors import (
    DialogError,
    GlareError,
    IllegalTransition,
    LocalProtocolError,
    NoSuchDialog,
    NoSuchSubscription,
    NoSuchTransaction,
    OutOfOrderError,
    ParseError,
    RemoteProtocolError,
)
from ._events import (
    DialogConfirmed,
    DialogCreated,
    DialogSetDropped,
    DialogTerminated,
    ProvisionalDiscarded,
    RetryRequest,
    SendAck,
    SendBye,
    SendPrack,
    TargetRefreshed,
    UsageCreated,
    UsageEnded,
)
from ._events import Event as DialogEvent
from ._headers import Headers
from ._ladder import Ladder, ladder
from ._ladder_draw import ladder_html, ladder_mermaid, ladder_svg
from ._machine import MACHINE, TRANSITIONS, State
from ._manager import DIALOG_CREATING, DialogManager, Extra2xx
from ._memo import clear_caches
from ._message import Message, Request, Response
from ._packets import Decoder, DecoderLimits, Payload
from ._parser import DEFAULT_LIMITS, Limits, StreamParser, parse_message
from ._pcap import CaptureError, CaptureReader, RawPacket, read_packets
from ._prack import Reliable
from ._replay import DialogRecord, Finding, Replayer, Transition, Wire
from ._results import SCHEMA_VERSION, ReplayResult, iter_replay, replay
from ._state import DialogId, DialogState
from ._subscriptions import INVITE_USAGE, Subscription, Usage
from ._uri import URI
from ._usages import RESPONSE_EFFECTS, Effect, response_effect
from ._values import CSeq, Event, NameAddr, RAck, SubscriptionState, Via

__all__ = [
    "DEFAULT_LIMITS",
    "DIALOG_CREATING",
    "INVITE_USAGE",
    "MACHINE",
    "REASONS",
    "RESPONSE_EFFECTS",
    "SCHEMA_VERSION",
    "TRANSITIONS",
    "URI",
    "CSeq",
    "CaptureError",
    "CaptureReader",
    "Decoder",
    "DecoderLimits",
    "DiagramError",
    "Dialog",
    "DialogConfirmed",
    "DialogCreated",
    "DialogError",
    "DialogEvent",
    "DialogId",
    "DialogManager",
    "DialogRecord",
    "DialogSet",
    "DialogSetDropped",
    "DialogState",
    "DialogTerminated",
    "Effect",
    "Event",
    "Extra2xx",
    "Finding",
    "GlareError",
    "Headers",
    "IllegalTransition",
    "Ladder",
    "Limits",
    "LocalProtocolError",
    "Message",
    "NameAddr",
    "NoSuchDialog",
    "NoSuchSubscription",
    "NoSuchTransaction",
    "OutOfOrderError",
    "ParseError",
    "PathStep",
    "Payload",
    "ProvisionalDiscarded",
    "RAck",
    "RawPacket",
    "Reliable",
    "RemoteProtocolError",
    "ReplayResult",
    "Replayer",
    "Request",
    "Response",
    "RetryRequest",
    "SendAck",
    "SendBye",
    "SendPrack",
    "SetKey",
    "State",
    "StreamParser",
    "Subscription",
    "SubscriptionState",
    "TargetRefreshed",
    "Transition",
    "Usage",
    "UsageCreated",
    "UsageEnded",
    "Via",
    "Wire",
    "build_cancel",
    "build_in_dialog",
    "build_request",
    "build_response",
    "clear_caches",
    "iter_replay",
    "ladder",
    "ladder_html",
    "ladder_mermaid",
    "ladder_svg",
    "machine_graph",
    "machine_mermaid",
    "parse_message",
    "path_from_events",
    "path_graph",
    "path_mermaid",
    "path_of",
    "read_packets",
    "render",
    "replay",
    "request_target",
    "response_effect",
    "write_diagrams",
]
