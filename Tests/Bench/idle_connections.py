# Opens N keep-alive connections to a server (one request each, then idle) and reports the server's RSS.
# Usage: idle_connections.py HOST PORT N SERVER_PID RSS_BEFORE_KB
import resource, socket, sys, time

host, port, n, pid, before = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

def rss_kb():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1])

request = b"GET /health HTTP/1.1\r\nHost: bench\r\n\r\n"
conns = []
for i in range(n):
    s = socket.create_connection((host, port))
    s.sendall(request)
    conns.append(s)
    if len(conns) % 500 == 0:          # read the answers in batches so the server never blocks on us
        for c in conns[-500:]:
            if not c.recv(4096):
                sys.exit("connection closed early")
for c in conns[len(conns) - len(conns) % 500:]:
    c.recv(4096)
time.sleep(1)
after = rss_kb()
print(f"idle keep-alive connections: {len(conns)}")
print(f"  server RSS before: {before / 1024:.1f} MB, with them open: {after / 1024:.1f} MB "
      f"({(after - before) * 1024 / len(conns):.0f} bytes per connection)")
for c in conns:
    c.close()
