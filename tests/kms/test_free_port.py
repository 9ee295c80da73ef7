"""``free_port``: ports for servers whose port is named in configs before they start are drawn outside the
kernel's ephemeral range, so an outgoing connection of any process cannot take one between the draw and the
bind (a scenario soak beside a benchmark hit "address already in use" with ``bind(0)`` ports)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from qkd.kms.testing import _ephemeral_range, free_port


def test_ports_are_drawn_outside_the_ephemeral_range_and_are_bindable() -> None:
    low, high = _ephemeral_range()
    ports = {free_port() for _ in range(50)}
    assert len(ports) > 40                              # drawn at random, not one fixed port
    for port in ports:
        assert not low <= port <= high, (port, low, high)
    with socket.socket() as s:
        s.bind(("127.0.0.1", ports.pop()))


def test_a_port_in_use_is_never_drawn() -> None:
    held = []
    try:
        for _ in range(200):                            # hold many ports: none of them may come back
            s = socket.socket()
            s.bind(("127.0.0.1", free_port()))
            s.listen()
            held.append(s)
        taken = {s.getsockname()[1] for s in held}
        assert len(taken) == 200
        assert all(free_port() not in taken for _ in range(100))
    finally:
        for s in held:
            s.close()


async def test_an_outgoing_connection_never_lands_on_a_drawn_port() -> None:
    port = free_port()
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    target = server.sockets[0].getsockname()[1]
    try:
        for _ in range(50):                             # client ports come from the ephemeral range
            _, writer = await asyncio.open_connection("127.0.0.1", target)
            assert writer.get_extra_info("sockname")[1] != port
            writer.close()
    finally:
        server.close()
        await server.wait_closed()


def test_one_process_never_gets_the_same_port_twice() -> None:
    # the ports of a chain are all drawn before any server binds: a repeat would put two servers on one port
    ports = [free_port() for _ in range(2000)]
    assert len(set(ports)) == len(ports)


def test_ports_are_spread_over_both_spans_by_their_size() -> None:
    low, high = _ephemeral_range()
    if low <= 10_000 or high >= 65_435:
        pytest.skip(f"this kernel's ephemeral range {low}-{high} leaves one span only")
    ports = [free_port() for _ in range(1000)]
    above = sum(p > high for p in ports) / len(ports)
    share = (65535 - high) / ((low - 10_000) + (65535 - high))
    assert abs(above - share) < 0.08, (above, share)
