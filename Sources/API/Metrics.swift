// Request counters and latency histograms for GET /metrics, fed by `HTTPServer.onRequest` (Prometheus text 0.0.4).
import Synchronization
import HTTP

/// Thread-safe; `record` runs on every answered request from the loop threads, so it only bumps counters.
public final class Metrics: Sendable {
    /// Upper bounds in seconds. Long-polls land in the top buckets, by design (they are held up to 60 s).
    static let buckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
    static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"]

    struct Series: Hashable { var route: String; var method: String }
    struct Counter: Hashable { var series: Series; var status: Int }
    struct Histogram { var counts: [Int]; var sum: Double; var count: Int }
    struct Gauge { var name: String; var help: String; var type: String; var read: @Sendable () -> Int }

    struct State {
        var requests: [Counter: Int] = [:]
        var latency: [Series: Histogram] = [:]
        var gauges: [Gauge] = []
    }

    private let state = Mutex(State())

    public init() {}

    /// Counts one answered request under its route pattern (`unmatched` for 404s and malformed requests), so
    /// label values stay few whatever paths clients send.
    public func record(_ record: RequestRecord) {
        let method = Metrics.knownMethods.contains(record.method) ? record.method : "OTHER"
        let series = Series(route: record.route ?? "unmatched", method: method)
        let bucket = Metrics.buckets.firstIndex { record.duration <= $0 } ?? Metrics.buckets.count
        state.withLock { s in
            s.requests[Counter(series: series, status: record.status), default: 0] += 1
            // Mutated in place (the `default:` subscript's modify accessor): copying the histogram out and back
            // would copy its counts array on every request, under the lock both loops share.
            Metrics.add(record.duration, bucket: bucket, to: &s.latency[series, default: Metrics.emptyHistogram])
        }
    }

    static let emptyHistogram = Histogram(counts: Array(repeating: 0, count: buckets.count + 1), sum: 0, count: 0)

    private static func add(_ duration: Double, bucket: Int, to h: inout Histogram) {
        h.counts[bucket] += 1
        h.sum += duration
        h.count += 1
    }

    /// A value read at scrape time (parked polls, open connections); `type` "counter" for totals kept elsewhere
    /// (messages stored, counted by the domain).
    public func addGauge(_ name: String, help: String, type: String = "gauge", _ read: @escaping @Sendable () -> Int) {
        state.withLock { s in
            s.gauges.removeAll { $0.name == name }
            s.gauges.append(Gauge(name: name, help: help, type: type, read: read))
        }
    }

    /// The exposition text; series sorted so scrapes are stable.
    public func render() -> String {
        let s = state.withLock { $0 }
        var out = "# HELP konnect_http_requests_total HTTP requests answered, by route pattern, method and status.\n"
        out += "# TYPE konnect_http_requests_total counter\n"
        for (key, n) in s.requests.sorted(by: { ($0.key.series.route, $0.key.series.method, $0.key.status) < ($1.key.series.route, $1.key.series.method, $1.key.status) }) {
            out += "konnect_http_requests_total{route=\(label(key.series.route)),method=\(label(key.series.method)),status=\"\(key.status)\"} \(n)\n"
        }
        out += "# HELP konnect_http_request_duration_seconds Time from request head parsed to response queued.\n"
        out += "# TYPE konnect_http_request_duration_seconds histogram\n"
        for (series, h) in s.latency.sorted(by: { ($0.key.route, $0.key.method) < ($1.key.route, $1.key.method) }) {
            let labels = "route=\(label(series.route)),method=\(label(series.method))"
            var cumulative = 0
            for (i, bound) in Metrics.buckets.enumerated() {
                cumulative += h.counts[i]
                out += "konnect_http_request_duration_seconds_bucket{\(labels),le=\"\(bound)\"} \(cumulative)\n"
            }
            out += "konnect_http_request_duration_seconds_bucket{\(labels),le=\"+Inf\"} \(h.count)\n"
            out += "konnect_http_request_duration_seconds_sum{\(labels)} \(h.sum)\n"
            out += "konnect_http_request_duration_seconds_count{\(labels)} \(h.count)\n"
        }
        for gauge in s.gauges {
            out += "# HELP \(gauge.name) \(gauge.help)\n# TYPE \(gauge.name) \(gauge.type)\n\(gauge.name) \(gauge.read())\n"
        }
        return out
    }

    /// A quoted label value (exposition format: backslash, double quote and newline are escaped).
    private func label(_ value: String) -> String {
        var out = "\""
        for c in value.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }
}
