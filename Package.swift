// swift-tools-version:6.0
import PackageDescription

// Module graph (a module imports only what is below it):
//   task (executable) → Shell → Runner → {TaskCore, Sandbox} → AgentHooks
//   Shell → CLineEdit (libedit shim), SpriteSandbox → {Sandbox, Sprites}
//   Sprites (knows nothing of tasks) → CCurl (libcurl shim), WSClient
//   sprite-sim (executable) → SpriteSim (Hummingbird server) → Processes (the process launcher, a leaf)
//   Sandbox, Runner, Shell → Processes
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "task",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "task", targets: ["task"]),
        .executable(name: "sprite-sim", targets: ["sprite-sim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.27.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
    ],
    targets: [
        // C shims for variadic / macro-heavy C APIs.
        .target(
            name: "CLineEdit",
            linkerSettings: [.linkedLibrary("edit")]
        ),
        // libcurl is dlopen'ed on first use (see ccurl.h), so it is not linked.
        .target(
            name: "CCurl",
            linkerSettings: [.linkedLibrary("dl")]
        ),

        // The Claude Code hook contract: hook-line parsing, summaries, settings, hook script.
        .target(name: "AgentHooks", swiftSettings: strict),

        // Models, status machine, SQLite store.
        .target(
            name: "TaskCore",
            dependencies: [
                "AgentHooks",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),

        // The process launcher (posix_spawn, pipes pumped with poll): a leaf.
        .target(name: "Processes", swiftSettings: strict),

        // Where agents run: the Sandbox protocol, the local sandbox, tmux, hook-log tailing.
        .target(name: "Sandbox", dependencies: ["AgentHooks", "Processes"], swiftSettings: strict),

        // Ties tasks to sandboxes: launch, ingestion, status changes, queue.
        .target(name: "Runner", dependencies: ["TaskCore", "Sandbox", "AgentHooks", "Processes"], swiftSettings: strict),

        // Sprites API client: REST over libcurl, exec over WebSocket.
        .target(
            name: "Sprites",
            dependencies: [
                "CCurl",
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),

        // The Sandbox protocol on a sprite: exec, filesystem, streams, TTY; provisioning.
        .target(name: "SpriteSandbox", dependencies: ["Sandbox", "Sprites", "AgentHooks"], swiftSettings: strict),

        // The local Sprites-compatible server.
        .target(
            name: "SpriteSim",
            dependencies: [
                "Processes",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),

        // The shell: commands, line editor, completion, rendering.
        .target(
            name: "Shell",
            dependencies: [
                "TaskCore", "Runner", "Sandbox", "Sprites", "SpriteSandbox", "CLineEdit", "AgentHooks", "Processes",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),

        .executableTarget(name: "task", dependencies: ["Shell"], swiftSettings: strict),
        .executableTarget(
            name: "sprite-sim",
            dependencies: [
                "SpriteSim",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),

        // scripts/bench-sprites: the Sprites client's figures, from a release build.
        .executableTarget(name: "sprites-bench", dependencies: ["Sprites"], swiftSettings: strict),

        .testTarget(name: "AgentHooksTests", dependencies: ["AgentHooks"], swiftSettings: strict),
        .testTarget(
            name: "TaskCoreTests",
            dependencies: ["TaskCore", "AgentHooks", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict
        ),
        .testTarget(name: "SandboxTests", dependencies: ["Sandbox", "AgentHooks"], swiftSettings: strict),
        .testTarget(name: "ShellTests", dependencies: ["Shell", "TaskCore"], swiftSettings: strict),
        .testTarget(name: "RunnerTests", dependencies: ["Runner", "Sandbox", "TaskCore"], swiftSettings: strict),
        .testTarget(name: "SpritesTests", dependencies: ["Sprites", "SpriteSim", "SpriteSandbox", "Sandbox", "AgentHooks"], swiftSettings: strict),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["TaskCore", "Sandbox", "AgentHooks", "Processes"],
            swiftSettings: strict
        ),
    ]
)
