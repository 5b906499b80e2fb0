// `konnect bench` past one process's open-file cap: subscriber shards in child processes, results over a pipe.
import Foundation
import Glibc
import Synchronization
import Transport

/// The hidden `konnect bench --worker …` mode. Protocol, one line each way:
/// child → parent: `polling N` as subscribers start, `all SEQ` once every subscriber of the child holds SEQ,
/// and finally `result {ShardResult JSON}`; parent → child: `stop LAST` (verify up to LAST, report, exit).
enum BenchWorker {
    static func run(_ options: BenchOptions) -> Int32 {
        _ = konnectRaiseOpenFiles()
        do {
            let setup = try BenchSetup(url: options.server)
            let loops = try BenchLoops(count: options.loops, address: setup.address, host: setup.hostHeader)
            let shard = LocalShard(loops: loops, room: options.workerRoom, tokens: options.workerTokens,
                                   after: options.workerAfter, count: options.subscribers, wait: options.wait,
                                   plant: options.plant)
            let stopLine = Mutex<Int?>(nil)
            Thread.detachNewThread {
                let line = readLine() ?? "stop 0"
                let last = Int(line.split(separator: " ").last ?? "0") ?? 0
                stopLine.withLock { $0 = last }
            }
            var reportedPolling = -1
            var announced = options.workerAfter      // every seq up to here is announced or given up on
            var complete: Set<Int> = []
            while true {
                if let last = stopLine.withLock({ $0 }) {
                    let result = try shard.finish(expectedLast: last)
                    let data = try JSONEncoder().encode(result)
                    emit("result " + String(decoding: data, as: UTF8.self))
                    return 0
                }
                let polling = shard.polling
                if polling != reportedPolling {
                    reportedPolling = polling
                    emit("polling \(polling)")
                }
                // Announce newly complete seqs (a seq some subscriber never gets stays unannounced: a miss).
                let highest = Swift.max(shard.sink.highest.load(ordering: .relaxed), announced + 1)
                for seq in (announced + 1)...highest where !complete.contains(seq) && shard.allHave(seq) {
                    complete.insert(seq)
                    emit("all \(seq)")
                }
                while complete.contains(announced + 1) { announced += 1 }
                usleep(500)
            }
        } catch {
            printError("konnect bench worker: \(error)")
            return 1
        }
    }

    static func emit(_ line: String) {
        var text = line + "\n"
        text.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(1, buffer.baseAddress! + offset, buffer.count - offset)
                if n <= 0 { return }
                offset += n
            }
        }
    }
}

/// A shard in a child process (`konnect bench --worker`), driven over its stdin/stdout.
final class RemoteShard: SubscriberShard, @unchecked Sendable {
    let process = Process()
    let input = Pipe()
    let output = Pipe()
    let count: Int
    private let state = Mutex<(polling: Int, complete: Set<Int>, result: String?, ended: Bool)>((0, [], nil, false))

    init(options: BenchOptions, room: String, tokens: [String], after: Int, count: Int, plant: PlantedFault?) throws {
        self.count = count
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        var arguments = ["bench", "--worker", "--server", options.server, "--room", room, "--tokens", tokens.joined(separator: ","),
                         "--after", String(after), "--subscribers", String(count), "--wait", String(options.wait),
                         "--loops", String(options.loops)]
        if let plant { arguments += ["--plant-fault", plant.rawValue] }
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let handle = output.fileHandleForReading
        Thread.detachNewThread { [self] in readLines(handle) }
    }

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
