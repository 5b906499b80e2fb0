#!/usr/bin/env python3
"""Hostile clients against a running konnect (issue 13 items 1-3), loopback only; stdlib only.

Usage: hostile.py PORT PID [scenario ...]   scenarios: neverread slowbody slowbody-auth slowloris (default: all)
Seeds 200 messages of ~24 KB of JSON each (U+2028 is written as \\u2028) so GET /messages?limit=200 is a
~4.8 MB page, then per scenario prints the server's RSS before, at its peak while the clients are connected, and
each second after they leave until it is back within 8 MB of where it started (or 30 s).
  neverread  200 clients, receive buffer 4 KiB, 16 pipelined GET /messages?limit=200 each, never read (hold 10 s)
  slowbody   3,000 clients: POST /messages, Content-Length 65536, no token, 65,535 bytes sent, then nothing (12 s)
  slowbody-auth  the same with a valid token (the body cannot be refused at the head)
  slowloris  3,000 clients sending a request head one header line every 2 s, never finishing it (12 s)
"""
import json, os, resource, socket, sys, time

HOST = "127.0.0.1"


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def request(port, method, path, body=None, token=None):
    s = socket.create_connection((HOST, port))
    data = json.dumps(body).encode() if body is not None else b""
    head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {len(data)}\r\n"
    if body is not None:
        head += "Content-Type: application/json\r\n"
    if token:
        head += f"Authorization: Bearer {token}\r\n"
    s.sendall(head.encode() + b"\r\n" + data)
    chunks = []
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        chunks.append(b)
    s.close()
    raw = b"".join(chunks)
    head, _, rest = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), rest


def seed(port):
    request(port, "POST", "/register", {"username": "hostile", "password": "hostile-pass"})
    status, body = request(port, "POST", "/login", {"username": "hostile", "password": "hostile-pass"})
    assert status == 200, (status, body)
    token = json.loads(body)["token"]
    status, body = request(port, "GET", "/messages?limit=200", token=token)
    have = len(json.loads(body)["messages"])
    text = "a" + "\u2028" * 3999
    for i in range(have, 200):
        status, _ = request(port, "POST", "/messages", {"room": "general", "text": text, "client_id": f"h{i}"}, token)
        assert status in (200, 201), status
    status, body = request(port, "GET", "/messages?limit=200", token=token)
    return token, len(body)


def open_many(n, rcvbuf=None):
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.connect((HOST, PORT))
        s.setblocking(False)
        socks.append(s)
    return socks


def send_some(s, data):
    try:
        return s.send(data)
    except (BlockingIOError, ConnectionError, OSError):
        return 0


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def hold(seconds, pid, tick=None):
    peak, fds, end = 0.0, 0, time.time() + seconds
    while time.time() < end:
        if tick:
            tick()
        peak = max(peak, rss_mb(pid))
        fds = max(fds, open_fds(pid))
        time.sleep(0.5)
    return peak, fds


def statuses(socks):
    """The status of the first answer each client got (non-blocking), e.g. {401: 3000}."""
    seen = {}
    for s in socks:
        try:
            b = s.recv(64)
            key = int(b.split()[1]) if b.startswith(b"HTTP/1.1 ") else ("closed" if b == b"" else "?")
        except BlockingIOError:
            key = "none"
        except OSError:
            key = "reset"
        seen[key] = seen.get(key, 0) + 1
    return seen


def after(pid, base):
    samples, start = [], time.time()
    while time.time() - start < 30:
        time.sleep(1)
        r = rss_mb(pid)
        samples.append(round(r, 1))
        if r <= base + 8 and time.time() - start >= 3:
            break
    return samples, time.time() - start


def scenario(name, pid, token):
    base = rss_mb(pid)
    t0 = time.time()
    if name == "neverread":
        socks = open_many(200, rcvbuf=4096)
        req = f"GET /messages?limit=200 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode() * 16
        for s in socks:
            send_some(s, req)
        peak, fds = hold(10, pid)
    elif name in ("slowbody", "slowbody-auth"):
        socks = open_many(3000)
        auth = f"Authorization: Bearer {token}\r\n".encode() if name == "slowbody-auth" else b""
        head = b"POST /messages HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n" + auth \
            + b"Content-Length: 65536\r\n\r\n"
        body = b"x" * 65535
        for s in socks:
            send_some(s, head)
        left = {s: body for s in socks}

        def tick():
            for s, rest in list(left.items()):
                n = send_some(s, rest)
                if n <= 0 or n == len(rest):
                    del left[s]
                else:
                    left[s] = rest[n:]
        peak, fds = hold(12, pid, tick)
    elif name == "slowloris":
        socks = open_many(3000)
        for s in socks:
            send_some(s, b"GET /health HTTP/1.1\r\nHost: x\r\n")
        last = [time.time()]

        def tick():
            if time.time() - last[0] >= 2:
                last[0] = time.time()
                for s in socks:
                    send_some(s, b"X-Slow: 1\r\n")
        peak, fds = hold(12, pid, tick)
    held = time.time() - t0
    answers = statuses(socks) if name != "neverread" else {}
    for s in socks:
        s.close()
    samples, back = after(pid, base)
    print(f"{name:10s} RSS before {base:6.1f} MB, peak during {peak:6.1f} MB (+{peak - base:5.1f}), "
          f"after {samples[-1]:6.1f} MB, back within 8 MB in {back:4.1f} s "
          f"(held {held:.0f} s, server fds at most {fds}, answers {answers}; per second after: {samples})", flush=True)


if __name__ == "__main__":
    PORT, PID = int(sys.argv[1]), int(sys.argv[2])
    wanted = sys.argv[3:] or ["neverread", "slowbody", "slowbody-auth", "slowloris"]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 20000), hard))
    token, page = seed(PORT)
    print(f"page GET /messages?limit=200: {page / 1e6:.1f} MB", flush=True)
    time.sleep(1)
    for name in wanted:
        scenario(name, PID, token)
        time.sleep(2)
