"""Slack's side of Socket Mode on loopback: WebSocket links, hello, envelopes, acks, disconnects.

`apps.connections.open` (answered by the SlackSandbox with the app-level token) hands out a
one-time `ws://127.0.0.1:PORT/link/?ticket=...` URL here. Over each link the server says `hello`,
sends envelopes `{envelope_id, type, payload, accepts_response_payload}` as Slack does for slash
commands (`slash_commands`), clicks and form submissions (`interactive`) and events
(`events_api`), records the app's acks `{envelope_id, payload?}` with their payloads, answers
pings, and sends `disconnect` (refresh_requested, warning, link_disabled) when a test asks. Every
step lands in one ordered log, so a test can tell what happened before what without a clock.

The WebSocket protocol (RFC 6455) is written here on the standard library: unmasked frames from
the server, masked frames from the client, text/ping/pong/close, no extensions.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import logging
import socket
import struct
import threading
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, BinaryIO, NamedTuple, Self
from urllib.parse import parse_qs, urlsplit

logger = logging.getLogger(__name__)

DEFAULT_APP_TOKEN = "xapp-1-A0COLLECTBOT-sandbox"
APP_ID = "A0COLLECTBOT"
LINK_PATH = "/link/"
ENVELOPE_KINDS = ("slash_commands", "interactive", "events_api")
DISCONNECT_REASONS = ("refresh_requested", "warning", "link_disabled")
# Slack's envelopes are a few kilobytes; nothing the app sends back comes near this.
MAX_FRAME_BYTES = 1024 * 1024
RETIRING_PING_INTERVAL = 0.2
_WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class SocketEvent(NamedTuple):
    """One step on the wire, in the order the server saw it."""

    seq: int
    what: str  # connected, hello, envelope, ack, disconnect, closing, closed, refused
    link: int
    envelope_id: str | None = None
    detail: str = ""


class Ack(NamedTuple):
    """The app's acknowledgement of one envelope: its payload (None when empty) and the link."""

    envelope_id: str
    payload: dict[str, Any] | None
    link: int
    seq: int


class ProtocolError(Exception):
    """The client broke the WebSocket protocol; the link is closed with `code`."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code


def accept_key(key: str) -> str:
    """Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455 section 4.2.2)."""
    digest = hashlib.sha1((key + _WEBSOCKET_GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """One final, unmasked frame (a server never masks)."""
    head = bytes([0x80 | opcode])
    length = len(payload)
    if length < 126:
        head += bytes([length])
    elif length < 1 << 16:
        head += bytes([126]) + struct.pack("!H", length)
    else:
        head += bytes([127]) + struct.pack("!Q", length)
    return head + payload


def _read_exactly(stream: BinaryIO, count: int) -> bytes:
    data = stream.read(count)
    if data is None or len(data) != count:
        raise EOFError("connection closed mid-frame")
    return data


def read_frame(stream: BinaryIO) -> tuple[bool, int, bytes]:
    """(fin, opcode, unmasked payload) of the next client frame; EOFError when the peer left."""
    first, second = _read_exactly(stream, 2)
    if first & 0x70:
        raise ProtocolError(1002, "reserved bits set (no extension was negotiated)")
    if not second & 0x80:
        raise ProtocolError(1002, "client frame not masked")
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", _read_exactly(stream, 2))
    elif length == 127:
        (length,) = struct.unpack("!Q", _read_exactly(stream, 8))
    if length > MAX_FRAME_BYTES:
        raise ProtocolError(1009, f"frame of {length} bytes")
    mask = _read_exactly(stream, 4)
    masked = _read_exactly(stream, length)
    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(masked))
    return bool(first & 0x80), first & 0x0F, payload


@dataclass
class _Link:
    """One WebSocket connection from the app."""

    id: int
    sock: socket.socket
    send_lock: threading.Lock = field(default_factory=threading.Lock)
    greeted: bool = False  # hello sent: envelopes may follow
    retiring: bool = False  # told to disconnect: no new envelope goes here
    open: bool = True
    close_sent: bool = False

    def send(self, opcode: int, payload: bytes) -> None:
        with self.send_lock:
            if opcode == OP_CLOSE:
                if self.close_sent:
                    return
                self.close_sent = True
            self.sock.sendall(encode_frame(opcode, payload))

    def send_json(self, message: dict[str, Any]) -> None:
        self.send(OP_TEXT, json.dumps(message).encode("utf-8"))


class SocketModeServer:
    """Slack's Socket Mode endpoint on 127.0.0.1 (random port); use as a context manager."""

    def __init__(self, app_token: str = DEFAULT_APP_TOKEN) -> None:
        self.app_token = app_token
        self._lock = threading.Condition()
        self._events: list[SocketEvent] = []
        self._acks: dict[str, Ack] = {}
        self._links: dict[int, _Link] = {}
        self._threads: list[threading.Thread] = []
        self._tickets: set[str] = set()
        self._ids = itertools.count(1)
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        """Listen on a free loopback port and accept links in a background thread."""
        if self._listener is not None:
            raise RuntimeError("socket mode server already started")
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._acceptor = threading.Thread(
            target=self._accept_forever, name="socket-mode-accept", daemon=True
        )
        self._acceptor.start()
        return self

    def stop(self) -> None:
        """Close every link and the listening socket; wait for their threads."""
        listener, self._listener = self._listener, None
        if listener is None:
            return
        # shutdown() wakes the accept() blocked in the other thread; close() alone would not.
        _shutdown(listener)
        listener.close()
        if self._acceptor is not None:
            self._acceptor.join(5)
        with self._lock:
            links = list(self._links.values())
            threads = list(self._threads)
        for link in links:
            _shutdown(link.sock)
        for thread in threads:
            thread.join(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._listener is None:
            raise RuntimeError("socket mode server not started")
        return int(self._listener.getsockname()[1])

    def open_url(self) -> str:
        """A one-time WebSocket URL (what apps.connections.open answers)."""
        ticket = f"T{next(self._ids):06d}"
        with self._lock:
            self._tickets.add(ticket)
        return f"ws://127.0.0.1:{self.port}{LINK_PATH}?ticket={ticket}&app_id={APP_ID}"

    # --- what a test does as Slack ---------------------------------------------------------

    def send(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool = True,
        retry_attempt: int | None = None,
        retry_reason: str | None = None,
        timeout: float = 10,
    ) -> str:
        """Send one envelope on the newest link not told to disconnect; its envelope_id."""
        if kind not in ENVELOPE_KINDS:
            raise ValueError(f"unknown envelope type {kind!r}")
        envelope_id = f"{next(self._ids):08d}-5e1f-4c4b-9d4e-sandbox"
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if kind == "events_api":
            envelope["retry_attempt"] = retry_attempt or 0
            envelope["retry_reason"] = retry_reason or ""
        link = self.wait_link(timeout=timeout)
        # Logged before the bytes leave, so the ack can never come first in the log.
        self._log("envelope", link.id, envelope_id, kind)
        link.send_json(envelope)
        return envelope_id

    def wait_ack(self, envelope_id: str, timeout: float = 10) -> Ack:
        """The app's ack of an envelope, waiting up to `timeout` s (TimeoutError if none)."""
        with self._lock:
            if not self._lock.wait_for(lambda: envelope_id in self._acks, timeout=timeout):
                raise TimeoutError(f"envelope {envelope_id} not acknowledged in {timeout} s")
            return self._acks[envelope_id]

    def request(self, kind: str, payload: dict[str, Any], **options: Any) -> Ack:
        """Send one envelope and wait for its ack."""
        timeout = options.pop("timeout", 10)
        return self.wait_ack(self.send(kind, payload, timeout=timeout, **options), timeout)

    def disconnect(self, reason: str = "refresh_requested") -> int:
        """Tell the newest link to go away (it keeps working until the app closes it); its id."""
        if reason not in DISCONNECT_REASONS:
            raise ValueError(f"unknown disconnect reason {reason!r}")
        link = self.wait_link()
        with self._lock:
            link.retiring = True
        self._log("disconnect", link.id, detail=reason)
        link.send_json(
            {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-sandbox"}}
        )
        self._keep_pinging(link)
        return link.id

    def close_link(self, code: int = 1001, reason: str = "going away") -> int:
        """Close the newest link from Slack's side with a close frame; its id."""
        link = self.wait_link()
        with self._lock:
            link.retiring = True
        self._log("closing", link.id, detail=f"{code} {reason}")
        link.send(OP_CLOSE, struct.pack("!H", code) + reason.encode("utf-8"))
        return link.id

    def wait_link(self, timeout: float = 10, *, count: int = 0) -> _Link:
        """The newest open link not told to disconnect (after `count` links in all have opened)."""
        def ready() -> _Link | None:
            if len(self._links) < count:
                return None
            usable = [
                k for k in self._links.values() if k.open and k.greeted and not k.retiring
            ]
            return max(usable, key=lambda k: k.id) if usable else None

        with self._lock:
            if not self._lock.wait_for(lambda: ready() is not None, timeout=timeout):
                raise TimeoutError(f"no usable Socket Mode link after {timeout} s")
            found = ready()
            assert found is not None
            return found

    def wait_closed(self, link_id: int, timeout: float = 10) -> None:
        """Wait until a link has closed."""
        with self._lock:
            if not self._lock.wait_for(
                lambda: link_id in self._links and not self._links[link_id].open, timeout=timeout
            ):
                raise TimeoutError(f"link {link_id} still open after {timeout} s")

    @property
    def events(self) -> list[SocketEvent]:
        """Everything seen on the wire so far, in order."""
        with self._lock:
            return list(self._events)

    def acks(self) -> list[Ack]:
        """Every ack received, in order."""
        with self._lock:
            return sorted(self._acks.values(), key=lambda a: a.seq)

    def open_links(self) -> list[int]:
        """Ids of the links open now."""
        with self._lock:
            return [k.id for k in self._links.values() if k.open]

    # --- the wire ---------------------------------------------------------------------------

    def _keep_pinging(self, link: _Link) -> None:
        """Ping a retiring link a few times a second until it closes, as Slack pings its links.

        slack_sdk's built-in client closes its old link only between two reads of it; with a
        frame to read it need not wait out its 3 s read timeout first.
        """
        def ping() -> None:
            while link.open and self._listener is not None:
                try:
                    link.send(OP_PING, b"retiring")
                except OSError:
                    return
                with self._lock:
                    self._lock.wait_for(lambda: not link.open, timeout=RETIRING_PING_INTERVAL)

        thread = threading.Thread(target=ping, name="socket-mode-ping", daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _log(self, what: str, link: int, envelope_id: str | None = None, detail: str = "") -> int:
        with self._lock:
            seq = len(self._events) + 1
            self._events.append(SocketEvent(seq, what, link, envelope_id, detail))
            self._lock.notify_all()
            return seq

    def _accept_forever(self) -> None:
        listener = self._listener
        assert listener is not None
        while True:
            try:
                sock, _address = listener.accept()
            except OSError:
                return  # stop() closed the listener
            # Each envelope is one small write: sent at once, not held back for the last ACK.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            thread = threading.Thread(
                target=self._serve_link, args=(sock,), name="socket-mode-link", daemon=True
            )
            with self._lock:
                self._threads.append(thread)
            thread.start()

    def _serve_link(self, sock: socket.socket) -> None:
        stream = sock.makefile("rb")
        link: _Link | None = None
        try:
            link = self._handshake(sock, stream)
            if link is not None:
                self._converse(link, stream)
        except (OSError, EOFError):
            pass  # the peer went away, or stop() cut the link
        finally:
            stream.close()
            _shutdown(sock)
            sock.close()
            if link is not None:
                with self._lock:
                    link.open = False
                self._log("closed", link.id)

    def _handshake(self, sock: socket.socket, stream: BinaryIO) -> _Link | None:
        request_line = stream.readline(8192).decode("latin-1").strip()
        headers: dict[str, str] = {}
        while (line := stream.readline(8192).decode("latin-1").strip()) != "":
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        method, _, rest = request_line.partition(" ")
        target = rest.rpartition(" ")[0]
        parts = urlsplit(target)
        ticket = (parse_qs(parts.query).get("ticket") or [""])[0]
        with self._lock:
            valid_ticket = ticket in self._tickets
            self._tickets.discard(ticket)
        key = headers.get("sec-websocket-key", "")
        problem = (
            "not a GET" if method != "GET"
            else "not the link path" if parts.path != LINK_PATH
            else "not a WebSocket upgrade" if headers.get("upgrade", "").lower() != "websocket"
            else "no Sec-WebSocket-Key" if not key
            else "unknown or used ticket" if not valid_ticket
            else None
        )
        if problem is not None:
            self._log("refused", 0, detail=problem)
            status = "401 Unauthorized" if problem.endswith("ticket") else "400 Bad Request"
            sock.sendall(f"HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n".encode("ascii"))
            return None
        sock.sendall(
            (
                "HTTP/1.1 101 Switching Protocols\r\n"
                "Upgrade: websocket\r\n"
                "Connection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n"
            ).encode("ascii")
        )
        with self._lock:
            link = _Link(id=len(self._links) + 1, sock=sock)
            self._links[link.id] = link
            count = sum(1 for k in self._links.values() if k.open)
        self._log("connected", link.id, detail=ticket)
        link.send_json(
            {
                "type": "hello",
                "num_connections": count,
                "debug_info": {"host": "applink-sandbox", "approximate_connection_time": 18060},
                "connection_info": {"app_id": APP_ID},
            }
        )
        self._log("hello", link.id)
        with self._lock:
            link.greeted = True
            self._lock.notify_all()
        return link

    def _converse(self, link: _Link, stream: BinaryIO) -> None:
        """Read the app's frames until it closes: acks, pings, close."""
        pending = b""
        try:
            while True:
                fin, opcode, payload = read_frame(stream)
                if opcode == OP_CLOSE:
                    link.send(OP_CLOSE, payload[:2])
                    return
                if opcode == OP_PING:
                    link.send(OP_PONG, payload)
                elif opcode in (OP_TEXT, OP_CONTINUATION):
                    pending += payload
                    if fin:
                        self._receive(link, pending)
                        pending = b""
                elif opcode != OP_PONG:
                    raise ProtocolError(1003, f"opcode {opcode} not accepted")
        except ProtocolError as exc:
            logger.warning("socket mode link %d: %s", link.id, exc)
            link.send(OP_CLOSE, struct.pack("!H", exc.code) + str(exc).encode()[:120])

    def _receive(self, link: _Link, data: bytes) -> None:
        try:
            message = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ProtocolError(1007, "a text frame that is not JSON") from None
        envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
        if not isinstance(envelope_id, str):
            raise ProtocolError(1008, "a message without an envelope_id")
        payload = message.get("payload")
        seq = self._log("ack", link.id, envelope_id)
        with self._lock:
            self._acks[envelope_id] = Ack(
                envelope_id, payload if isinstance(payload, dict) else None, link.id, seq
            )
            self._lock.notify_all()


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed or never connected

