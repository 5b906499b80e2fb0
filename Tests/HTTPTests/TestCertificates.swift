// Test support: a throwaway CA and server certificates made with the `openssl` command at test time.
import Foundation
import XCTest

/// A directory with `ca.pem` and, per `leaf(named:…)`, `<name>.pem` + `<name>.key` signed by that CA.
struct TestCertificates {
    let directory: URL
    var caFile: String { directory.appendingPathComponent("ca.pem").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("konnect-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Konnect test CA"])
    }

    /// A server certificate for `names` (DNS names and IP addresses, as subjectAltName entries).
    @discardableResult
    func leaf(named name: String, dns: [String], ips: [String] = []) throws -> (cert: String, key: String) {
        let san = (dns.map { "DNS:\($0)" } + ips.map { "IP:\($0)" }).joined(separator: ",")
        try openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", "\(name).key", "-out", "\(name).csr", "-subj", "/CN=\(dns.first ?? name)"])
        try Data("subjectAltName=\(san)\n".utf8).write(to: directory.appendingPathComponent("\(name).ext"))
        try openssl(["x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                     "-days", "2", "-extfile", "\(name).ext", "-out", "\(name).pem"])
        return (directory.appendingPathComponent("\(name).pem").path, directory.appendingPathComponent("\(name).key").path)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    static var available: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") }

    private func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CertificateError("openssl \(arguments.first ?? "") failed") }
    }
}

struct CertificateError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
