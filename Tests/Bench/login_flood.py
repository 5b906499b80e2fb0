#!/usr/bin/env python3
"""Issue 13 #4: a login flood must not stall real logins, /health or posting.

Starts `konnect serve` (release build unless --bin), registers a real user, then for --seconds:
  - the flood, from 127.0.0.2: --connections connections, each keeping --pipeline logins in flight (pipelined),
    half with a name no account can have ("no such user!"), half with well-formed unknown names;
  - the measured client, from 127.0.0.1: a real login, GET /health and a POST /messages in turn, each timed.
Prints the flood's answers by status and the measured latencies (p50/p99/max), then stops the server it started.
Usage: python3 Tests/Bench/login_flood.py [--seconds 20] [--connections 200] [--pipeline 16] [--bin PATH]
"""
import argparse, http.client, json, os, re, selectors, signal, socket, statistics, subprocess, sys, tempfile, threading, time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def start_server(binary, work):
    log = open(os.path.join(work, "serve.log"), "w+")
    proc = subprocess.Popen([binary, "serve", "--port", "0", "--db", os.path.join(work, "flood.db"), "--log-level", "warn",
                             "--post-rate", "0"], stderr=log, stdout=subprocess.DEVNULL)
    for _ in range(300):
        log.seek(0)
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", log.read())
        if m:
            return proc, int(m.group(1))
        time.sleep(0.1)
    proc.kill()
    sys.exit("server did not start")


def request(port, method, path, body=None, token=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    t = time.monotonic()
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data, time.monotonic() - t


def flood(port, connections, pipeline, stop, counts):
    sel = selectors.DefaultSelector()
    n = 0
    def login_bytes():
        nonlocal n
        n += 1
        name = "no such user!" if n % 2 else "ghost%d" % n
        body = json.dumps({"username": name, "password": "not the password"}).encode()
        return b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    for _ in range(connections):
        s = socket.socket()
        s.bind(("127.0.0.2", 0))
        s.connect(("127.0.0.1", port))
        s.setblocking(False)
        s.sendall(b"".join(login_bytes() for _ in range(pipeline)))
        sel.register(s, selectors.EVENT_READ, bytearray())
    while not stop.is_set():
        for key, _ in sel.select(timeout=0.2):
            s, buf = key.fileobj, key.data
            try:
                chunk = s.recv(65536)
            except BlockingIOError:
                continue
            if not chunk:
                sel.unregister(s); s.close(); continue
            buf += chunk
            answered = 0
            while True:
                m = re.match(rb"HTTP/1\.1 (\d+)[^\r]*\r\n(.*?)\r\n\r\n", bytes(buf[:4096]), re.S)
                if not m:
                    break
                length = int((re.search(rb"(?i)content-length: *(\d+)", m.group(2)) or [0, b"0"])[1])
                end = m.end() + length
                if len(buf) < end:
                    break
                counts[m.group(1).decode()] = counts.get(m.group(1).decode(), 0) + 1
                del buf[:end]
                answered += 1
            if answered:
                try:
                    s.sendall(b"".join(login_bytes() for _ in range(answered)))   # keep `pipeline` in flight
                except OSError:
                    sel.unregister(s); s.close()
    for key in list(sel.get_map().values()):
        key.fileobj.close()


def summary(name, samples):
    if not samples:
        return "%-14s no samples" % name
    ms = sorted(x * 1000 for x in samples)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return "%-14s n=%-5d p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms" % (name, len(ms), statistics.median(ms), p99, ms[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--connections", type=int, default=200)
    ap.add_argument("--pipeline", type=int, default=16)
    ap.add_argument("--bin", default=os.path.join(REPO, ".build/release/konnect"))
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="konnect-flood-")
    proc, port = start_server(a.bin, work)
    try:
        request(port, "POST", "/register", {"username": "real", "password": "correct horse"})
        status, data, _ = request(port, "POST", "/login", {"username": "real", "password": "correct horse"})
        token = json.loads(data)["token"]
        stop, counts = threading.Event(), {}
        flooder = threading.Thread(target=flood, args=(port, a.connections, a.pipeline, stop, counts))
        flooder.start()
        time.sleep(1)                              # let the flood fill whatever it can
        logins, health, posts, failures = [], [], [], {}
        deadline = time.monotonic() + a.seconds
        while time.monotonic() < deadline:
            for name, samples, args in (("login", logins, ("POST", "/login", {"username": "real", "password": "correct horse"})),
                                        ("health", health, ("GET", "/health")),
                                        ("post", posts, ("POST", "/messages", {"text": "during the flood"}, token))):
                status, _, elapsed = request(port, *args)
                samples.append(elapsed)
                if status >= 300:
                    failures[(name, status)] = failures.get((name, status), 0) + 1
            time.sleep(0.05)
        stop.set()
        flooder.join()
        print("flood from 127.0.0.2: %d connections x %d pipelined logins for %.0f s; answers by status: %s"
              % (a.connections, a.pipeline, a.seconds, dict(sorted(counts.items()))))
        for name, samples in (("real login", logins), ("GET /health", health), ("POST /messages", posts)):
            print(summary(name, samples))
        print("measured requests that failed:", failures or "none")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
