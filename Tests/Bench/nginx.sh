# Sourced by the benchmark scripts: the nginx we compare against. Its own prefix and config under DIR, one worker
# per core, no access log, `return 200` with /health's body on 127.0.0.1:PORT (HTTPS with CERT and KEY). Sets nginx_pid.
# Usage: start_nginx DIR PORT [CERT KEY]
start_nginx() {
    mkdir -p "$1/nginx/logs"
    listen="listen 127.0.0.1:$2;"
    if [ -n "${3:-}" ]; then
        listen="listen 127.0.0.1:$2 ssl; ssl_certificate $3; ssl_certificate_key $4; ssl_protocols TLSv1.2 TLSv1.3;"
    fi
    cat > "$1/nginx/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $1/nginx/nginx.pid;
error_log $1/nginx/logs/error.log warn;
events { worker_connections 20000; }
http {
    access_log off;
    keepalive_requests 100000000;
    server {
        $listen
        location = /health { default_type "application/json; charset=utf-8"; return 200 '{"status":"ok"}'; }
    }
}
CONF
    nginx -p "$1/nginx" -c "$1/nginx/nginx.conf" 2>"$1/nginx/stderr" &
    nginx_pid=$!
}
