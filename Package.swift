// swift-tools-version:6.0
// Konnect: a group chat server that speaks plain HTTP. No package dependencies: toolchain + OS C libraries only.
import PackageDescription

let package = Package(
    name: "Konnect",
    products: [
        .executable(name: "konnect", targets: ["konnect"]),
    ],
    targets: [
        // Thin C shims: epoll, eventfd, timerfd, accept4 are not exported by Glibc's Swift module.
        .target(name: "CLinux"),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto"),
        .systemLibrary(name: "CPostgres", path: "Sources/CPostgres"),   // libpq (Debian libpq-dev)
        .systemLibrary(name: "CTLS", path: "Sources/CTLS"),          // OpenSSL libssl (HTTPS)

        .target(name: "Transport", dependencies: ["CLinux", "CTLS"]),
        .target(name: "HTTP", dependencies: ["Transport", "CTLS"]),
        .target(name: "Chat", dependencies: ["CCrypto"]),
        .target(name: "Store", dependencies: ["Chat", "CSQLite", "CPostgres"]),
        .target(name: "API", dependencies: ["HTTP", "Chat"]),
        .target(name: "Client", dependencies: ["HTTP"]),
        .target(name: "CLI", dependencies: ["Client", "HTTP"]),                    // the client commands, flag parsing
        .target(name: "Bench", dependencies: ["CLI", "HTTP", "Transport"]),         // `konnect bench`
        .executableTarget(name: "konnect", dependencies: ["API", "Store", "HTTP", "Chat", "Transport", "CLI", "Bench"]),

        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "Transport"]),
        .testTarget(name: "ChatTests", dependencies: ["Chat", "Store", "CPostgres"]),
        .testTarget(name: "APITests", dependencies: ["API", "Store", "HTTP", "Chat", "CPostgres"]),
        .testTarget(name: "CLITests", dependencies: ["HTTP", "Client", "CLI"]),
    ]
)
