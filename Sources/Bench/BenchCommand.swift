// `konnect bench`: load generator and delivery verifier for a running Konnect server (options, usage, dispatch).
import CLI
import Foundation
import Transport

/// Flags of `konnect bench`, with each scenario's defaults.
struct BenchOptions {
    var scenario = ""
    var server = "http://127.0.0.1:8080"
    var clients = 64
    var duration = 10.0
    var subscribers = 1000
    var posts = 20
    var rounds = 10
    var rooms = 1
    var readers = 50
    var wait = 30
    var users = 4
    var seed = 500
    var loops = BenchLoops.defaultCount
    var postTimeout = 10.0
    var perProcess: Int? = nil
    var serverPID: Int? = nil
    var json = false
    var plant: PlantedFault? = nil
    // --worker mode (internal)
    var worker = false
    var workerRoom = ""
    var workerTokens: [String] = []
    var workerAfter = 0
    var kind = FollowerKind.messages
    var followersFile: String? = nil
    var feedAfter = 0
    var last = 0
    var checkSeqs = ""

    static let valueFlags: Set<String> = ["server", "clients", "duration", "subscribers", "posts", "rooms", "readers", "wait",
                                          "users", "messages", "loops", "post-timeout", "per-process", "server-pid",
                                          "plant-fault", "room", "tokens", "after", "last", "rounds", "kind",
                                          "followers-file", "feed-after"]

    init(_ raw: [String]) throws {
        let a = try Arguments(raw, valueFlags: BenchOptions.valueFlags, switchFlags: ["help", "json", "worker"])
        worker = a.has("worker")
        json = a.has("json")
        scenario = a.positional.first ?? ""
        if scenario == "check" { checkSeqs = a.positional.count > 1 ? a.positional[1] : "" }
        let allowed = scenario == "check" ? 2 : 1
        if a.positional.count > allowed { throw UsageError("unexpected argument '\(a.positional[allowed])'") }
        server = a.string("server", server)
        if scenario == "mixed" { clients = 16; rooms = 4 }
        if scenario == "feed" || scenario == "feed-stream" { rooms = 100 }
        clients = try a.int("clients", clients, range: 1...19_000)
        duration = try a.seconds("duration", duration)
        subscribers = try a.int("subscribers", subscribers, range: 1...100_000)
        posts = try a.int("posts", posts, range: 1...100_000)
        rooms = try a.int("rooms", rooms, range: 1...1_000)
        readers = try a.int("readers", readers, range: 0...19_000)
        wait = try a.int("wait", wait, range: 1...60)
        users = try a.int("users", users, range: 1...100)
        seed = try a.int("messages", seed, range: 50...1_000_000)
        loops = try a.int("loops", loops, range: 1...64)
        postTimeout = try a.seconds("post-timeout", postTimeout)
        if a.values["per-process"] != nil { perProcess = try a.int("per-process", 0, range: 1...18_000) }
        if a.values["server-pid"] != nil { serverPID = try a.int("server-pid", 0, range: 1...Int(Int32.max)) }
        if let text = a.values["plant-fault"] {
            guard let fault = PlantedFault(rawValue: text) else { throw UsageError("--plant-fault is duplicate, gap, lost or extra") }
            plant = fault
        }
        workerRoom = a.string("room", "")
        workerTokens = a.string("tokens", "").split(separator: ",").map(String.init)
        workerAfter = try a.int("after", 0)
        rounds = try a.int("rounds", rounds, range: 1...100_000)
        if let text = a.values["kind"] {
            guard let k = FollowerKind(rawValue: text) else { throw UsageError("--kind is messages, feed or stream") }
            kind = k
        }
        followersFile = a.values["followers-file"]
        feedAfter = try a.int("feed-after", 0)
        last = try a.int("last", 0)
        if a.has("help") { scenario = "help" }
    }
}

public enum BenchCommand {
    static let usage = """
    usage: konnect bench [--server URL] SCENARIO [options] [--json]

    Drives a running Konnect server with its own users and rooms (random prefix), measures, and verifies that
    every reader got every seq of its room exactly once and in order and that every 201 is in history. A loss,
    duplicate, gap or reordering fails the run (exit 1).

    scenarios:
      post      C clients post back to back for D seconds: posts/s, latency p50/p90/p99/max
      history   C clients read pages of 50 (newest, and after= a random cursor): requests/s and latency
      fanout    N long-polls parked on one room, P posts one at a time: delay from send until each subscriber
                has it (p50/p99/max over every pair), misses, server RSS while parked (--server-pid)
      mixed     posters and long-poll readers in several rooms at once for D seconds
      feed      N followers long-polling GET /events, each a member of 1 of R rooms, one post per room per round:
                delay from send until each follower has it (p50/p90/p99/max), misses, server RSS (--server-pid);
                the same followers first long-poll GET /messages on their rooms, and the p99 ratio is printed
      feed-stream  the same with the followers on ndjson streams of GET /events (Accept: application/x-ndjson)
      check     verify a captured seq stream, no server: konnect bench check --after A --last L 1,2,3

    options:
      --server URL        the server (default http://127.0.0.1:8080; IP literals or localhost)
      --clients C         concurrent clients: posters for post/mixed, readers for history (64; mixed 16)
      --duration D        seconds of load for post, history, mixed (10)
      --subscribers N     fanout long-polls, feed followers (1000); past one process's open files, worker processes share them
                          (for 19000, start the server with --max-connections 19500: its default is 19000)
      --posts P           fanout posts (20)
      --rooms R           rooms for post (1), mixed (4), feed and feed-stream (100)
      --rounds K          feed, feed-stream: rounds of one post per room (10)
      --readers N         mixed: long-poll readers per room (50)
      --messages M        history: messages seeded before reading (500)
      --wait W            long-poll wait seconds (30)
      --post-timeout S    fanout, feed: seconds to wait for every subscriber before the next post or round (10)
      --users U           users to register and log in (4)
      --loops L           client event loops (one per core)
      --per-process N     fanout: subscribers per process before using worker processes (about 18000)
      --server-pid PID    sample the server's RSS (local servers only)
      --json              one JSON object on stdout instead of the table

    examples:
      konnect bench post --clients 64 --duration 10
      konnect bench --server http://127.0.0.1:8080 history --clients 64
      konnect bench fanout --subscribers 10000 --posts 20 --server-pid $(pgrep -n konnect)
      konnect bench mixed --rooms 8 --clients 32 --readers 100 --json
      konnect bench feed --subscribers 10000 --rooms 100 --rounds 10 --server-pid $PID
    """

    public static func run(_ raw: [String]) -> Int32 {
        let options: BenchOptions
        do { options = try BenchOptions(raw) } catch {
            printError("konnect bench: \(error)")
            printError(usage)
            return 2
        }
        if options.worker { return BenchWorker.run(options) }
        if options.scenario == "check" { return check(options) }
        _ = konnectRaiseOpenFiles()
        let result: BenchResult
        do {
            let setup = try BenchSetup(url: options.server)
            switch options.scenario {
            case "help": print(usage); return 0
            case "post": result = try BenchLoad.post(options, setup)
            case "history": result = try BenchLoad.history(options, setup)
            case "fanout": result = try BenchFanout.run(options, setup)
            case "mixed": result = try BenchMixed.run(options, setup)
            case "feed": result = try BenchFeed.run(options, setup, stream: false)
            case "feed-stream": result = try BenchFeed.run(options, setup, stream: true)
            case "": throw UsageError("a scenario is required")
            default: throw UsageError("unknown scenario '\(options.scenario)'")
            }
        } catch let error as UsageError {
            printError("konnect bench: \(error)")
            printError(usage)
            return 2
        } catch {
            printError("konnect bench: \(error)")
            return 1
        }
        print(options.json ? result.json() : result.table())
        if !result.verified { printError("konnect bench: verification FAILED: \(result.faultCount) faults") }
        return result.verified ? 0 : 1
    }

    /// `check`: the reader verifier on a comma-separated seq list (as a reader starting after `--after` would get
    /// them), expecting every seq up to `--last`. Prints each fault; exit 1 when there is one.
    static func check(_ o: BenchOptions) -> Int32 {
        var verifier = DeliveryVerifier(after: o.workerAfter)
        for item in o.checkSeqs.split(separator: ",") {
            guard let seq = Int(item.trimmingCharacters(in: .whitespaces)) else {
                printError("konnect bench check: '\(item)' is not a seq")
                return 2
            }
            verifier.receive(seq)
        }
        let faults = verifier.finish(expectedLast: o.last)
        for fault in faults { print(fault.description) }
        print(faults.isEmpty ? "verification passed" : "verification FAILED (\(faults.count) faults)")
        return faults.isEmpty ? 0 : 1
    }
}
