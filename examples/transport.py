"""The example UA's transport: UDP datagrams and TCP streams in, SIP messages out.

One HOST:PORT, both transports (RFC 3261 18). Over UDP a datagram is one message; over
TCP dialogfsm's ``StreamParser`` frames the stream by Content-Length (18.3). Nothing here
knows about transactions or dialogs.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import dialogfsm
from dialogfsm import URI, NameAddr, Request, Response

Message = Request | Response
Address = tuple[str, str, int]
"""Where a message goes or came from: transport (``"UDP"`` or ``"TCP"``), host, port."""


def log(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {text}", flush=True)


class Transport:
    """UDP and TCP on one HOST:PORT; hands every message to ``on_message``.

    Responses go back where their request came from (over TCP, on its connection): on
    loopback the source address is the Via's sent-by, and it is right behind NATs too
    (RFC 3581). A TCP connection we need and do not have is opened, and kept.
    """

    def __init__(self, host: str, port: int, on_message: Callable[[Message, Address], None]):
        self.host, self.port, self.on_message = host, port, on_message
        self._udp: asyncio.DatagramTransport | None = None
        self._server: asyncio.Server | None = None
        self._tcp: dict[tuple[str, int], asyncio.StreamWriter] = {}
        self._connecting: dict[tuple[str, int], list[bytes]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._udp, _ = await loop.create_datagram_endpoint(
            lambda: _Datagrams(self), local_addr=(self.host, self.port)
        )
        self._server = await asyncio.start_server(self._accepted, self.host, self.port)

    def close(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._server is not None:
            self._server.close()
        for writer in self._tcp.values():
            writer.close()
        for task in self._tasks:
            task.cancel()

    def send(self, message: Message, dest: Address) -> None:
        data = bytes(message)
        transport, host, port = dest
        if transport == "UDP":
            assert self._udp is not None
            self._udp.sendto(data, (host, port))
        elif (writer := self._tcp.get((host, port))) is not None:
            writer.write(data)
        elif (host, port) in self._connecting:
            self._connecting[host, port].append(data)
        else:  # RFC 3261 18.1.1: open a connection to the next hop, then send
            self._connecting[host, port] = [data]
            self._spawn(self._connect(host, port))

    def received(self, data: bytes, source: Address) -> None:
        if not data.strip():
            return  # a CRLF keep-alive (RFC 5626 4.4.1)
        try:
            message = dialogfsm.parse_message(data)
        except dialogfsm.ParseError as err:
            log(f"dropped a datagram from {source[1]}:{source[2]}: {err}")
            return
        self.on_message(message, source)

    async def _connect(self, host: str, port: int) -> None:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError as err:
            log(f"TCP connection to {host}:{port} failed: {err}")
            del self._connecting[host, port]
            return
        self._tcp[host, port] = writer
        for data in self._connecting.pop((host, port)):
            writer.write(data)
        await self._read(reader, writer, ("TCP", host, port))

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, port = writer.get_extra_info("peername")[:2]
        self._tcp[host, port] = writer
        await self._read(reader, writer, ("TCP", host, port))

    async def _read(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: Address
    ) -> None:
        stream = dialogfsm.StreamParser()  # RFC 3261 18.3: framed by Content-Length
        try:
            while data := await reader.read(65536):
                for message in stream.feed(data):
                    self.on_message(message, peer)
        except (dialogfsm.ParseError, ConnectionError) as err:
            log(f"TCP connection from {peer[1]}:{peer[2]} closed: {err}")
        finally:
            self._tcp.pop((peer[1], peer[2]), None)
            writer.close()

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.transport.received(data, ("UDP", addr[0], addr[1]))


def next_hop(uri: URI, route: Sequence[NameAddr] = ()) -> Address:
    """Where a request goes: its first Route, else its Request-URI (RFC 3261 8.1.2; of RFC
    3263 only the transport parameter, the default port and a host name lookup)."""
    hop = route[0].uri if route else uri
    host = hop.maddr or hop.host
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        host = socket.gethostbyname(host)  # blocking, but a UA tutorial calls few names
    return (hop.transport or "udp").upper(), host.strip("[]"), hop.port or 5060
