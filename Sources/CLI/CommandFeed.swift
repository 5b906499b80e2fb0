// `konnect listen` without a room: follows GET /events (every room), resuming from a position kept per server.
import Client
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Delivers each event of the caller's feed exactly once, in pos order, across errors, restarts of the server and
/// of this command: every poll asks for `after` = the `next` of the last page, and that position is saved (after
/// the page is printed, with Ctrl-C held off in between) so the next run starts there.
final class FeedFollower {
    private(set) var next: Int64
    private let makeClient: () throws -> KonnectClient
    private var backoff = Backoff()

    init(after: Int64, makeClient: @escaping () throws -> KonnectClient) {
        self.next = after
        self.makeClient = makeClient
    }

    /// Polls until `shouldStop`; transient failures are retried with backoff (reported once per outage), others end it.
    func run(wait: Int = 30, shouldStop: () -> Bool, onStatus: (String) -> Void, onPage: ([APIEvent], Int64) -> Void) throws {
        let client = try makeClient()
        var outage = false
        while !shouldStop() {
            do {
                let page = try client.events(after: next, wait: wait, limit: 500)
                if outage {
                    onStatus("reconnected to \(client.server)")
                    outage = false
                }
                backoff.reset()
                onPage(page.events, page.next)
                next = page.next
            } catch let error as ClientError where error.isTransient {
                if !outage {
                    onStatus("\(error.description); reconnecting")
                    outage = true
                }
                client.close()
                Thread.sleep(forTimeInterval: backoff.next())
            }
        }
    }
}

/// Feed positions kept next to the credentials file (`positions.json`, 0600), per server and user.
struct FeedPositions {
    let path: String

    init(credentials: CredentialsStore) {
        path = (credentials.path as NSString).deletingLastPathComponent + "/positions.json"
    }

    private func readAll() -> [String: [String: Int64]] {
        guard let data = FileManager.default.contents(atPath: path),
              let all = try? JSONDecoder().decode([String: [String: Int64]].self, from: data) else { return [:] }
        return all
    }

    func load(server: String, user: String) -> Int64? { readAll()[server]?[user.lowercased()] }

    /// Written to a fresh file renamed into place: a crash leaves the old position or the new one, never half.
    func save(_ pos: Int64, server: String, user: String) {
        var all = readAll()
        all[server, default: [:]][user.lowercased()] = pos
        guard let data = try? JSONEncoder().encode(all) else { return }
        let directory = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o700])
        let temporary = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]),
              rename(temporary, path) == 0 else { unlink(temporary); return }
    }
}

extension ClientCommand {
    /// `listen` without a room: every room the caller belongs to, each line prefixed by the room's name.
    static func listenToFeed(_ arguments: ParsedArguments, _ context: CommandContext) throws -> Int32 {
        let client = try context.authenticatedClient(timeout: 15)
        let user = try client.me().username
        let positions = FeedPositions(credentials: context.credentials)
        let start: Int64
        switch arguments.value("from") {
        case nil:
            start = try positions.load(server: context.server, user: user) ?? client.events(after: nil).next
        case "now"?: start = try client.events(after: nil).next
        case "start"?: start = 0
        case let value?:
            guard let pos = Int64(value), pos >= 0 else { throw CommandUsageError("--from takes now, start or a position ≥ 0") }
            start = pos
        }
        client.close()
        CommandOutput.error("listening to all your rooms after position \(start); Ctrl-C to stop")
        let follower = FeedFollower(after: start) { try context.authenticatedClient(timeout: 45) }
        var held = sigset_t()
        sigemptyset(&held)
        sigaddset(&held, SIGINT)
        sigaddset(&held, SIGTERM)
        try follower.run(shouldStop: { false }, onStatus: { CommandOutput.error($0) }, onPage: { events, next in
            // Printed and saved together: Ctrl-C waits until both are done, so a restart neither repeats nor skips.
            pthread_sigmask(SIG_BLOCK, &held, nil)
            defer { pthread_sigmask(SIG_UNBLOCK, &held, nil) }
            for event in events { printEvent(event, json: context.json) }
            positions.save(next, server: context.server, user: user)
        })
        return 0
    }

    static func printEvent(_ event: APIEvent, json: Bool) {
        if json { return CommandOutput.json(event) }
        switch event.type {
        case "message":
            if let message = event.message { CommandOutput.line("[\(event.room)] " + CommandOutput.human(message)) }
        case "joined": CommandOutput.line("[\(event.room)] you joined")
        case "left": CommandOutput.line("[\(event.room)] you left")
        default: break
        }
    }
}
