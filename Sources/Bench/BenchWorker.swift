// `konnect bench` past one process's open-file cap: subscriber shards in child processes, results over a pipe.
import CLI
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
            let shard: LocalShard
            if let path = options.followersFile {
                let assignments = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
                    let parts = line.split(separator: " ")
                    return FollowerAssignment(room: String(parts[0]), token: String(parts.count > 1 ? parts[1] : ""))
                }
                shard = LocalShard(loops: loops, kind: options.kind, assignments: assignments, after: options.workerAfter,
                                   feedAfter: options.feedAfter, wait: options.wait, plant: options.plant)
            } else {
                shard = LocalShard(loops: loops, room: options.workerRoom, tokens: options.workerTokens,
                                   after: options.workerAfter, count: options.subscribers, wait: options.wait,
                                   plant: options.plant)
            }
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
