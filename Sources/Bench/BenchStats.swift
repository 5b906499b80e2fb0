// `konnect bench` numbers: latency samples per client, merged into nearest-rank percentiles.
import Foundation

/// Latency samples in nanoseconds, kept per client and merged at the end (no locks while measuring).
struct Latencies {
    private(set) var samples: [UInt64] = []

    mutating func add(_ nanos: UInt64) { samples.append(nanos) }
    mutating func merge(_ other: Latencies) { samples.append(contentsOf: other.samples) }
    mutating func merge(nanos: [UInt64]) { samples.append(contentsOf: nanos) }

    var count: Int { samples.count }

    /// Nearest-rank percentiles in milliseconds.
    func summary() -> LatencySummary {
        guard !samples.isEmpty else { return LatencySummary(count: 0, p50: 0, p90: 0, p99: 0, max: 0) }
        let sorted = samples.sorted()
        func rank(_ p: Double) -> Double {
            let i = Swift.min(sorted.count - 1, Swift.max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1))
            return Double(sorted[i]) / 1e6
        }
        return LatencySummary(count: sorted.count, p50: rank(0.50), p90: rank(0.90), p99: rank(0.99),
                              max: Double(sorted[sorted.count - 1]) / 1e6)
    }
}

/// Percentiles of one latency series, in milliseconds.
struct LatencySummary: Codable {
    var count: Int
    var p50: Double
    var p90: Double
    var p99: Double
    var max: Double

    var text: String {
        count == 0 ? "–" : "p50 \(ms(p50))  p90 \(ms(p90))  p99 \(ms(p99))  max \(ms(max))"
    }
}

/// Milliseconds with two decimals below 10, one below 100, none above.
func ms(_ value: Double) -> String {
    value < 10 ? String(format: "%.2f ms", value) : value < 100 ? String(format: "%.1f ms", value) : String(format: "%.0f ms", value)
}
