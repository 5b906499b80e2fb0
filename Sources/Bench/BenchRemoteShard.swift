// `konnect bench` fan-out shard in a child process: started as `konnect bench --worker`, driven over its pipes.
import Foundation
import Glibc
import Synchronization

/// A shard in a child process (`konnect bench --worker`), driven over its stdin/stdout.
final class RemoteShard: SubscriberShard, @unchecked Sendable {
    let process = Process()
    let input = Pipe()
    let output = Pipe()
    let count: Int
    private var followersFile: String? = nil
    private let state = Mutex<(polling: Int, complete: Set<Int>, result: String?, ended: Bool)>((0, [], nil, false))

    init(options: BenchOptions, room: String, tokens: [String], after: Int, count: Int, plant: PlantedFault?) throws {
        self.count = count
        try start(["--room", room, "--tokens", tokens.joined(separator: ","), "--after", String(after),
                   "--subscribers", String(count)], options, plant)
    }

    /// Followers of any kind: their (room, token) pairs go in a file (10,000 tokens do not fit in an argument).
    init(options: BenchOptions, kind: FollowerKind, assignments: [FollowerAssignment], after: Int, feedAfter: Int,
         plant: PlantedFault?) throws {
        count = assignments.count
        let path = NSTemporaryDirectory() + "konnect-bench-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).followers"
        try assignments.map { "\($0.room) \($0.token)\n" }.joined().write(toFile: path, atomically: true, encoding: .utf8)
        followersFile = path
        try start(["--kind", kind.rawValue, "--followers-file", path, "--after", String(after),
                   "--feed-after", String(feedAfter)], options, plant)
    }

    /// Runs this executable as `konnect bench --worker` with the options every worker takes, then `arguments`.
    private func start(_ arguments: [String], _ options: BenchOptions, _ plant: PlantedFault?) throws {
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        process.arguments = ["bench", "--worker", "--server", options.server] + arguments
            + ["--wait", String(options.wait), "--loops", String(options.loops)]
            + (plant.map { ["--plant-fault", $0.rawValue] } ?? [])
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let handle = output.fileHandleForReading
        Thread.detachNewThread { [self] in readLines(handle) }
    }

    deinit { if let followersFile { unlink(followersFile) } }

    func readLines(_ handle: FileHandle) {
        var pending = Data()
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            pending.append(chunk)
            while let newline = pending.firstIndex(of: 10) {
                let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                pending = Data(pending[(newline + 1)...])
                state.withLock { s in
                    if line.hasPrefix("polling "), let n = Int(line.dropFirst(8)) { s.polling = n }
                    else if line.hasPrefix("all "), let seq = Int(line.dropFirst(4)) { s.complete.insert(seq) }
                    else if line.hasPrefix("result ") { s.result = String(line.dropFirst(7)) }
                }
            }
        }
        state.withLock { $0.ended = true }
    }

    var polling: Int { state.withLock { $0.polling } }
    func allHave(_ seq: Int) -> Bool { state.withLock { $0.complete.contains(seq) } }

    func finish(expectedLast: Int) throws -> ShardResult {
        input.fileHandleForWriting.write(Data("stop \(expectedLast)\n".utf8))
        _ = waitUntil(timeout: 120, poll: 0.01) { state.withLock { $0.ended } }
        process.waitUntilExit()
        guard let text = state.withLock({ $0.result }) else {
            throw BenchError("worker \(process.processIdentifier) ended (status \(process.terminationStatus)) without a result")
        }
        return try JSONDecoder().decode(ShardResult.self, from: Data(text.utf8))
    }
}
