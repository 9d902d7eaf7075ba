"""Reliable provisional responses and PRACK (RFC 3262), per dialog and so per fork.

A reliable 1xx carries ``Require: 100rel`` and an RSeq. Each early dialog (each To tag of
a forked INVITE) numbers its reliable 1xx on its own: the first RSeq of a transaction is
any value in 1..2**31-1, each later one exactly one higher (RFC 3262 3, 4; erratum 4600).
Everything here is a pure function of a dialog's :class:`Reliable` record and a message.
"""

from __future__ import annotations

import enum
import random

import attrs

from ._errors import LocalProtocolError, NoSuchTransaction, RemoteProtocolError
from ._message import Request, Response
from ._values import RAck

#: RFC 3262 3: the first RSeq of a transaction is between 1 and 2**31 - 1 ...
FIRST_RSEQ_MAX = 2**31 - 1
#: ... and later ones count up to 2**32 - 1 without wrapping (RFC 3262 3, 7.1)
RSEQ_MAX = 2**32 - 1


@attrs.define(eq=False, weakref_slot=False)
class Reliable:
    """The reliable-1xx sequence of one INVITE transaction in one dialog.

    Each side numbers its own CSeq, so the record says which way its 1xx travel: an RSeq
    space belongs to one transaction of one direction (RFC 3262 3, erratum 4600).
    """

    sent: bool
    """True when we send the reliable 1xx (we are the UAS of the INVITE)."""
    cseq: int
    """CSeq number of the INVITE the 1xx answer."""
    rseq: int
    """RSeq of the last reliable 1xx sent (UAS) or accepted in order (UAC)."""
    first: int
    """RSeq of the first reliable 1xx of the transaction (below it nothing was seen)."""
    unacked: bool = False
    """UAS: that 1xx has not been PRACKed yet."""
    prack_cseq: int | None = None
    """UAS: CSeq of the PRACK that acknowledged it (its retransmissions are not new)."""


class Arrival(enum.Enum):
    """What a received reliable 1xx is to its dialog (RFC 3262 4)."""

    NEW = "new"
    """The first of its transaction, or the previous RSeq plus one: PRACK it and apply it."""
    RETRANSMISSION = "retransmission"
    """An RSeq already seen: neither PRACKed again nor applied."""
    STALE = "stale"
    """For an INVITE that has had its final response: not applied."""
    OUT_OF_ORDER = "out of order"
    """An RSeq beyond the next (a reliable 1xx in between is missing), or below the first
    of the transaction; not applied."""


def is_reliable(response: Response) -> bool:
    """A 101-199 response sent reliably: ``Require: 100rel`` and an RSeq (RFC 3262 7.1)."""
    return (
        100 < response.status_code < 200
        and response.rseq is not None
        and "100rel" in (t.lower() for t in response.require)
    )


def classify(record: Reliable | None, response: Response) -> Arrival:
    """RFC 3262 4: "If the UAC receives another reliable provisional response to the same
    request, and its RSeq value is not one higher than the value of the sequence number,
    that response MUST NOT be acknowledged with a PRACK, and MUST NOT be processed"."""
    rseq = response.rseq
    assert rseq is not None
    if not _same(record, False, response.cseq.number):
        return Arrival.NEW
    assert record is not None
    if rseq == record.rseq + 1:
        return Arrival.NEW
    if record.first <= rseq <= record.rseq:
        return Arrival.RETRANSMISSION
    return Arrival.OUT_OF_ORDER  # a gap, or one from before the first we accepted


def check_send(record: Reliable | None, response: Response) -> None:
    """RFC 3262 3: the UAS numbers its reliable 1xx one by one and "MUST NOT send a second
    reliable provisional response until the first is acknowledged"."""
    rseq = response.rseq
    assert rseq is not None
    if not _same(record, True, response.cseq.number):
        if not 1 <= rseq <= FIRST_RSEQ_MAX:
            raise LocalProtocolError(
                f"RSeq {rseq} outside 1..2**31-1 for the first reliable 1xx (RFC 3262 3)"
            )
        return
    assert record is not None
    if rseq == record.rseq:
        return  # a retransmission of the last
    if record.unacked:
        raise LocalProtocolError(
            f"reliable {response.status_code} with RSeq {rseq} while RSeq {record.rseq} is "
            "not yet PRACKed: only one may be unacknowledged (RFC 3262 3)"
        )
    if rseq != record.rseq + 1:
        raise LocalProtocolError(
            f"RSeq {rseq} after {record.rseq}: each reliable 1xx takes the next (RFC 3262 3)"
        )


def next_rseq(record: Reliable | None, cseq: int, rng: random.Random) -> int:
    """The RSeq for the next reliable 1xx to the INVITE with CSeq ``cseq``."""
    if not _same(record, True, cseq):
        return rng.randint(1, FIRST_RSEQ_MAX)
    assert record is not None
    if record.rseq >= RSEQ_MAX:
        raise LocalProtocolError("RSeq would pass 2**32-1 (RFC 3262 3: it never wraps)")
    return record.rseq + 1


def match_prack(record: Reliable | None, prack: Request, remote_seq: int | None) -> bool:
    """Whether ``prack`` acknowledges the unacknowledged reliable 1xx (True), or is a
    retransmission of the PRACK that already did (False); raises :class:`NoSuchTransaction`
    (481, RFC 3262 3) when it matches neither."""
    rack = prack.rack
    if rack is None:
        raise RemoteProtocolError("PRACK without an RAck header (RFC 3262 7.2)", status_hint=400)
    if record is not None and record.sent and rack == RAck(record.rseq, record.cseq, "INVITE"):
        if record.unacked:
            return True
        if record.prack_cseq == prack.cseq.number == remote_seq:
            return False
    raise NoSuchTransaction(
        f"PRACK (RAck {rack.rseq} {rack.cseq} {rack.method}) matches no unacknowledged "
        "reliable provisional response (RFC 3262 3: answer 481)"
    )


def rack_for(response: Response) -> str:
    """The RAck value that acknowledges ``response`` (RFC 3262 7.2): RSeq, CSeq, method."""
    if not is_reliable(response):
        raise LocalProtocolError(
            f"a {response.status_code} without Require: 100rel and RSeq is not PRACKed (RFC 3262 4)"
        )
    return f"{response.rseq} {response.cseq.number} {response.cseq.method}"


def _same(record: Reliable | None, sent: bool, cseq: int) -> bool:
    """Whether ``record`` is the sequence of this transaction in this direction."""
    return record is not None and record.sent is sent and record.cseq == cseq
