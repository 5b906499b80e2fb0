// `konnect bench` results: one value per run, printed as a readable table or as JSON (`--json`).
import Foundation

/// Everything a run measured and found. `verified` is false as soon as one fault is recorded.
struct BenchResult: Codable {
    var scenario: String
    var server: String
    var parameters: [String: String] = [:]
    var metrics: [String: Double] = [:]
    var latency: [String: LatencySummary] = [:]
    var errors: [String: Int] = [:]          // failed requests by cause (HTTP status or transport failure)
    var faults: [String] = []                // the first 50 verification faults, for people
    var faultCount = 0
    var verified: Bool { faultCount == 0 }

    init(scenario: String, server: String) {
        self.scenario = scenario
        self.server = server
    }

    /// Records faults; `tolerateExtra` history extras are expected (posts abandoned after retries may be stored).
    mutating func addFaults(_ found: [DeliveryFault], count: Int? = nil, tolerateExtra: Int = 0) {
        var tolerated = tolerateExtra
        var kept = 0
        for fault in found {
            if case .extraMessage = fault, tolerated > 0 {
                tolerated -= 1
                continue
            }
            kept += 1
            if faults.count < 50 { faults.append(fault.description) }
        }
        faultCount += count ?? kept       // `count` when `found` is only the first few of a shard's faults
    }

    enum CodingKeys: String, CodingKey { case scenario, server, parameters, metrics, latency, errors, faults, faultCount, verified }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(scenario, forKey: .scenario)
        try c.encode(server, forKey: .server)
        try c.encode(parameters, forKey: .parameters)
        try c.encode(metrics, forKey: .metrics)
        try c.encode(latency, forKey: .latency)
        try c.encode(errors, forKey: .errors)
        try c.encode(faults, forKey: .faults)
        try c.encode(faultCount, forKey: .faultCount)
        try c.encode(verified, forKey: .verified)
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        scenario = try c.decode(String.self, forKey: .scenario)
        server = try c.decode(String.self, forKey: .server)
        parameters = try c.decode([String: String].self, forKey: .parameters)
        metrics = try c.decode([String: Double].self, forKey: .metrics)
        latency = try c.decode([String: LatencySummary].self, forKey: .latency)
        errors = try c.decode([String: Int].self, forKey: .errors)
        faults = try c.decode([String].self, forKey: .faults)
        faultCount = try c.decode(Int.self, forKey: .faultCount)
    }

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }

    /// Two aligned columns: what, and how much.
    func table() -> String {
        var rows: [(String, String)] = [("scenario", scenario), ("server", server)]
        for key in parameters.keys.sorted() { rows.append((key.replacingOccurrences(of: "_", with: " "), parameters[key]!)) }
        for key in metrics.keys.sorted() { rows.append((key.replacingOccurrences(of: "_", with: " "), number(metrics[key]!))) }
        for key in latency.keys.sorted() { rows.append(("\(key) latency", latency[key]!.text)) }
        for key in errors.keys.sorted() { rows.append(("errors: \(key)", "\(errors[key]!)")) }
        rows.append(("verification", verified ? "passed" : "FAILED (\(faultCount) faults)"))
        let width = rows.map(\.0.count).max() ?? 0
        var out = rows.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }.joined(separator: "\n")
        if !faults.isEmpty { out += "\n\nfaults:\n" + faults.map { "  " + $0 }.joined(separator: "\n") }
        if faultCount > faults.count { out += "\n  … and \(faultCount - faults.count) more" }
        if errors["HTTP 429"] != nil {
            // A server with the contract's posting limit (10 a second per account) measures the limit, not itself.
            out += "\n\nthe server refused posts with 429: it limits posting per account; measure one started with"
                + " `konnect serve --post-rate 0` (Tests/Bench/compare.sh does)"
        }
        return out
    }

    func number(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e15 { return String(Int(v)) }
        return v >= 100 ? String(format: "%.0f", v) : String(format: "%.2f", v)
    }
}
