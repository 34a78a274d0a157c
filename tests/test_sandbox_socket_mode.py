"""The sandbox's Socket Mode side on the wire: tickets, the handshake, frames, hello and acks."""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from bot.sandbox.socket_mode import (
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    SocketModeServer,
    accept_key,
)


@pytest.fixture
def server() -> Iterator[SocketModeServer]:
    with SocketModeServer() as running:
        yield running


def _masked(opcode: int, payload: bytes, *, mask: bool = True) -> bytes:
    key = os.urandom(4)
    head = bytes([0x80 | opcode])
    length = len(payload)
    bit = 0x80 if mask else 0
    if length < 126:
        head += bytes([bit | length])
    else:
        head += bytes([bit | 126]) + struct.pack("!H", length)
    if not mask:
        return head + payload
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def _read_frame(sock: socket.socket) -> tuple[int, bytes]:
    stream = sock.makefile("rb")
    first, second = stream.read(2)
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", stream.read(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", stream.read(8))
    return first & 0x0F, stream.read(length)


def _connect(url: str) -> tuple[socket.socket, str]:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname or "", parts.port or 80), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.hostname}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        head += sock.recv(1)
    return sock, head.decode()


def test_a_link_is_upgraded_greeted_and_its_acks_recorded(server: SocketModeServer) -> None:
    sock, head = _connect(server.open_url())
    with sock:
        assert head.startswith("HTTP/1.1 101")
        key_line = next(line for line in head.split("\r\n") if line.startswith("Sec-WebSocket"))
        assert key_line.startswith("Sec-WebSocket-Accept: ")
        opcode, hello = _read_frame(sock)
        assert opcode == OP_TEXT and json.loads(hello)["type"] == "hello"
        envelope_id = server.send("slash_commands", {"command": "/collect"})
        opcode, sent = _read_frame(sock)
        envelope = json.loads(sent)
        assert envelope == {"envelope_id": envelope_id, "type": "slash_commands",
                            "payload": {"command": "/collect"}, "accepts_response_payload": True}
        # A payload long enough for the 16-bit length form.
        errors = {"response_action": "errors", "errors": {"amount": "x" * 300}}
        sock.sendall(_masked(OP_TEXT, json.dumps(
            {"envelope_id": envelope_id, "payload": errors}).encode()))
        ack = server.wait_ack(envelope_id)
        assert ack.payload == errors
        sock.sendall(_masked(OP_PING, b"are you there"))
        assert _read_frame(sock) == (OP_PONG, b"are you there")
        sock.sendall(_masked(OP_CLOSE, struct.pack("!H", 1000)))
        assert _read_frame(sock)[0] == OP_CLOSE
    # The server answers the close frame, then records "closed" once its side of the link is
    # torn down: wait for that rather than race it.
    server.wait_closed(server.events[0].link)
    assert [e.what for e in server.events] == ["connected", "hello", "envelope", "ack", "closed"]


def test_a_ticket_opens_one_link_only(server: SocketModeServer) -> None:
    url = server.open_url()
    first, head = _connect(url)
    with first:
        assert head.startswith("HTTP/1.1 101")
        second, refused = _connect(url)
        second.close()
    assert refused.startswith("HTTP/1.1 401")
    forged, unknown = _connect(url.replace("ticket=T", "ticket=X"))
    forged.close()
    assert unknown.startswith("HTTP/1.1 401")


def test_an_unmasked_client_frame_closes_the_link_with_1002(server: SocketModeServer) -> None:
    sock, _head = _connect(server.open_url())
    with sock:
        _read_frame(sock)  # hello
        sock.sendall(_masked(OP_TEXT, b"{}", mask=False))
        opcode, payload = _read_frame(sock)
    assert opcode == OP_CLOSE
    assert struct.unpack("!H", payload[:2]) == (1002,)


def test_accept_key_matches_rfc_6455_example() -> None:
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
