"""How a message finds its dialog, and the checks on what we may send (pure functions)."""

from __future__ import annotations

from ._dialog import Dialog
from ._dialogset import SetKey
from ._errors import LocalProtocolError
from ._machine import State
from ._message import Request, Response
from ._state import DialogId

Message = Request | Response
_new = tuple.__new__  # a NamedTuple from a ready tuple, without its Python-level __new__
#: transports that make a hop secure (RFC 3261 26.2; RFC 7118 for WSS)
_SECURE_TRANSPORTS = frozenset({"TLS", "WSS", "TLS-SCTP"})
_SECURE_OF = {  # the transports as usually written, answered without upper()
    name: name.upper() in _SECURE_TRANSPORTS
    for name in ("UDP", "TCP", "TLS", "SCTP", "WS", "WSS", "udp", "tcp", "tls", "ws", "wss")
}


def dialog_id(message: Message, sent: bool) -> DialogId:
    """The id of the dialog a message belongs to, from our side (RFC 3261 12.2.1.1,
    12.2.2): for a request we send or a response we receive, From carries our tag."""
    ours, theirs = (message.from_, message.to) if sent == isinstance(message, Request) else (
        message.to, message.from_,
    )  # fmt: skip
    return _new(DialogId, (message.call_id, ours.tag or "", theirs.tag or ""))


def set_key(message: Message, *, caller: bool) -> SetKey:
    return _new(SetKey, (message.call_id, message.from_.tag or "", message.cseq.number, caller))


def tag_in_set(dialog: Dialog) -> str:
    state = dialog.dialog_state
    return state.remote_tag if dialog.caller else state.local_tag


def tls_of(message: Message, tls: bool | None) -> bool:
    if tls is not None:
        return tls
    via = message.via
    if not via:
        return False
    transport = via[0].transport
    secure = _SECURE_OF.get(transport)
    return transport.upper() in _SECURE_TRANSPORTS if secure is None else secure


def check_bye_allowed(dialog: Dialog) -> None:
    """RFC 3261 15: "The callee's UA MUST NOT send a BYE on a confirmed dialog until it has
    received an ACK for its 2xx response or until the server transaction times out", and
    only the caller may send BYE on an early dialog."""
    if dialog.caller:
        return
    if dialog.state is State.EARLY:
        raise LocalProtocolError(
            f"the callee may not send BYE on early dialog {dialog.id} (RFC 3261 15)"
        )
    if dialog.awaiting_ack is not None and dialog.awaiting_ack == dialog.invite_cseq:
        raise LocalProtocolError(
            f"the callee may not send BYE on dialog {dialog.id} before the ACK for its 2xx "
            "arrives or 64*T1 passes (RFC 3261 15)"
        )


def check_may_send(dialog: Dialog, number: int, method: str) -> None:
    """RFC 3261 14.1: no new INVITE while an INVITE transaction is in progress in either
    direction (a retransmission of ours is not a new one)."""
    if method != "INVITE":
        return
    for pending, whose in ((dialog.local_pending, "our"), (dialog.remote_pending, "the peer's")):
        if pending is not None and pending[1] == "INVITE" and pending != (number, method):
            raise LocalProtocolError(
                f"re-INVITE while {whose} INVITE {pending[0]} is in progress in dialog "
                f"{dialog.id} (RFC 3261 14.1)"
            )
