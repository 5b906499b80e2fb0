// Where the API finds its files (the web client, openapi.yaml) and the shared metrics; `konnect serve` fills these.
import Foundation

/// Settings of the API layer. `webRoot` is the folder whose files are served at `/` and `/<file>`;
/// `openAPIPath` the document served at `/openapi.yaml`.
public struct APIOptions: Sendable {
    public var webRoot: String
    public var openAPIPath: String
    public var metrics: Metrics
    public var maxBodyBytes: Int = 64 * 1024        // contract: 413 payload_too_large for a body over 64 KiB
    public var postRateLimit = PostRateLimit()      // contract "Rate limits": bursts of 50, 10 a second
    /// The longest a long-poll is held: the contract's 60 s (larger `wait` values count as this). Lower only for
    /// tools that must not be held (the schemathesis run in CI: `konnect serve --max-wait 1`).
    public var maxWait: Double = 60

    /// `webRoot` nil picks `./web` when it exists, else the repository's `web/` (found from this source file's
    /// path, so `swift run` and `swift test` work from any directory). `openapi.yaml` is looked up next to it.
    public init(webRoot: String? = nil, openAPIPath: String? = nil, metrics: Metrics = Metrics()) {
        let web = webRoot ?? APIOptions.defaultWebRoot()
        self.webRoot = web
        self.openAPIPath = openAPIPath ?? APIOptions.defaultOpenAPIPath(webRoot: web)
        self.metrics = metrics
    }

    /// The repository root: three levels above `Sources/API/APIOptions.swift`.
    public static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }

    public static func defaultWebRoot() -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: "web", isDirectory: &isDirectory), isDirectory.boolValue {
            return FileManager.default.currentDirectoryPath + "/web"
        }
        return repositoryRoot + "/web"
    }

    /// `openapi.yaml` beside the web root's folder, else at the repository root.
    public static func defaultOpenAPIPath(webRoot: String) -> String {
        let sibling = URL(fileURLWithPath: webRoot).deletingLastPathComponent().appendingPathComponent("openapi.yaml").path
        if FileManager.default.fileExists(atPath: sibling) { return sibling }
        return repositoryRoot + "/openapi.yaml"
    }
}
