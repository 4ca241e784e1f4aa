#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Hostile HTTP clients for serve_limits.bats, bounded in count and time.

  slow_clients.py trickle PORT N SECONDS
      N connections from 127.0.0.1, each sending a request line and then one
      header line every 3 s, never ending the headers. Prints "open K" once
      the K connections that were accepted are open, then at the end
      "closed C of K, last after T s": how many the server closed, and when.

  slow_clients.py readers PORT N SECONDS
      N connections with a small receive buffer, each sending
      "GET /metrics" and then reading 1 kB a second. Prints the status code
      each got ("200 503 ..."), once all answered or SECONDS passed.
"""
import select
import socket
import sys
import time


def connect(port, rcvbuf=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    s.setblocking(False)
    return s


def trickle(port, n, secs):
    socks, closed, last = [], set(), 0.0
    t0 = time.monotonic()
    for _ in range(n):
        try:
            s = connect(port)
            s.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            socks.append(s)
        except OSError:
            break
    print(f"open {len(socks)}", flush=True)
    next_line = t0 + 3
    while time.monotonic() - t0 < secs and len(closed) < len(socks):
        live = [s for s in socks if s not in closed]
        ready, _, _ = select.select(live, [], [], 0.2)
        for s in ready:
            try:
                if s.recv(4096):
                    continue  # an error reply: the close follows
            except OSError:
                pass
            closed.add(s)
            last = time.monotonic() - t0
        if time.monotonic() >= next_line:
            next_line += 3
            for s in live:
                try:
                    s.send(b"X-Slow: 1\r\n")
                except OSError:
                    pass
    print(f"closed {len(closed)} of {len(socks)}, last after {last:.1f} s", flush=True)
    for s in socks:
        s.close()


def readers(port, n, secs):
    socks, status = [], {}
    for _ in range(n):
        s = connect(port, rcvbuf=4096)
        s.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        socks.append(s)
    t0 = time.monotonic()
    while time.monotonic() - t0 < secs and len(status) < len(socks):
        for s in socks:
            try:
                data = s.recv(1024)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if s not in status:
                parts = data.split(b" ", 2)
                status[s] = parts[1].decode() if len(parts) > 1 else "closed"
        time.sleep(1)
    print(" ".join(status.get(s, "none") for s in socks), flush=True)
    for s in socks:
        s.close()


if __name__ == "__main__":
    mode, port, n, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    (trickle if mode == "trickle" else readers)(port, n, secs)
