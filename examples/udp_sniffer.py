"""Receive SIP over UDP and print the dialog fields of each message.

The socket belongs to this script; dialogfsm only sees bytes (sans-IO). Try it with SIPp:

    python examples/udp_sniffer.py --port 5070 &
    sipp -sn uac -m 1 127.0.0.1:5070

A datagram that is not valid SIP is reported with the parser's reason and where it found
the fault, and the loop goes on: one bad peer never stops the listener.
"""

from __future__ import annotations

import argparse
import socket

import dialogfsm


def describe(message: dialogfsm.Request | dialogfsm.Response) -> str:
    """One line: what the message is and the fields that identify its dialog."""
    what = (
        f"{message.method} {message.uri}"
        if isinstance(message, dialogfsm.Request)
        else f"{message.status_code} {message.reason} ({message.method})"
    )
    return (
        f"{what}  call-id={message.call_id} from-tag={message.from_.tag} "
        f"to-tag={message.to.tag} cseq={message.cseq}"
    )


def main() -> None:
    """Listen on loopback and print one line per datagram until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5070)
    parser.add_argument("--count", type=int, default=0, help="stop after N datagrams")
    args = parser.parse_args()
    received = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((args.host, args.port))
        while not args.count or received < args.count:
            data, peer = sock.recvfrom(65535)
            received += 1
            try:
                print(f"{peer[0]}:{peer[1]}  {describe(dialogfsm.parse_message(data))}")
            except dialogfsm.ParseError as err:
                print(f"{peer[0]}:{peer[1]}  not SIP: {err}")


if __name__ == "__main__":
    main()
