// Where `konnect login` keeps tokens: $XDG_CONFIG_HOME/konnect/credentials.json, mode 0600, keyed by server URL.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One server's saved login.
struct Credential: Codable, Equatable {
    var token: String
    var username: String
    var expiresAt: String?

    enum CodingKeys: String, CodingKey {
        case token, username
        case expiresAt = "expires_at"
    }
}

/// The credentials file. Tokens are secrets: the directory is created 0700 and the file is written 0600 from the
/// first byte (a fresh file renamed into place), never widened by the umask or left half-written.
struct CredentialsStore {
    let path: String

    /// `$XDG_CONFIG_HOME/konnect/credentials.json`, or `~/.config/konnect/credentials.json` (XDG Base Directory spec).
    static func defaultPath(environment: [String: String]) -> String {
        var base = environment["XDG_CONFIG_HOME"] ?? ""
        if base.isEmpty || !base.hasPrefix("/") {   // the spec says relative values are to be ignored
            base = (environment["HOME"] ?? NSHomeDirectory()) + "/.config"
        }
        return base + "/konnect/credentials.json"
    }

    private struct FileContents: Codable {
        var servers: [String: Credential] = [:]
    }

    func load(server: String) -> Credential? {
        readAll().servers[server]
    }

    func save(_ credential: Credential, server: String) throws {
        var contents = readAll()
        contents.servers[server] = credential
        try store(contents)
    }

    /// Forgets the server's login; true when there was one.
    @discardableResult
    func remove(server: String) throws -> Bool {
        var contents = readAll()
        guard contents.servers.removeValue(forKey: server) != nil else { return false }
        try store(contents)
        return true
    }

    private func readAll() -> FileContents {
        guard let data = FileManager.default.contents(atPath: path),
              let contents = try? JSONDecoder().decode(FileContents.self, from: data) else { return FileContents() }
        return contents
    }

    private func store(_ contents: FileContents) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try makeDirectory(directory)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let bytes = Array(try encoder.encode(contents)) + [UInt8(ascii: "\n")]
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CommandFailure("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        fchmod(fd, 0o600)   // O_CREAT's mode is narrowed by the umask, never widened; make it exact anyway
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                close(fd)
                unlink(temporary)
                throw CommandFailure("cannot write \(temporary): \(String(cString: strerror(errno)))")
            }
            written += n
        }
        fsync(fd)
        close(fd)
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CommandFailure("cannot replace \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// `mkdir -p` where the last level is created 0700 (the parents like ~/.config get the usual 0755).
    private func makeDirectory(_ directory: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue { return }
        let parent = (directory as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        guard mkdir(directory, 0o700) == 0 || errno == EEXIST else {
            throw CommandFailure("cannot create \(directory): \(String(cString: strerror(errno)))")
        }
        chmod(directory, 0o700)
    }
}
