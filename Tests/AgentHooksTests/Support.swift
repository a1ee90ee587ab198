import Foundation

/// Runs a command to completion (test helper), feeding `stdin`, returning status and output.
@discardableResult
func runProcess(
    _ argv: [String],
    stdin: Data = Data(),
    environment: [String: String]? = nil,
    cwd: String? = nil
) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = argv
    if let environment { process.environment = environment }
    if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    let input = Pipe(), output = Pipe(), errors = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let writer = Thread {
        input.fileHandleForWriting.write(stdin)
        try? input.fileHandleForWriting.close()
    }
    writer.start()
    let errorData = LockedData()
    let errorReader = Thread { errorData.set(errors.fileHandleForReading.readDataToEndOfFile()) }
    errorReader.start()
    let out = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    while !errorData.isSet { usleep(1000) }
    return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: errorData.value, as: UTF8.self))
}

final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private var done = false
    func set(_ value: Data) { lock.withLock { data = value; done = true } }
    var isSet: Bool { lock.withLock { done } }
    var value: Data { lock.withLock { data } }
}

/// A fresh temporary directory (removed by the caller with `removeTree`).
func makeTemporaryDirectory(_ name: String = "agenthooks") throws -> String {
    let path = NSTemporaryDirectory() + "\(name)-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func removeTree(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}

/// Texts that break naive quoting.
let nastyTexts: [String] = [
    "",
    "plain",
    "it's",
    "'",
    "''",
    "\"double\"",
    "$(touch pwned)",
    "`touch pwned`",
    "$HOME ${HOME} \\ \\\\ \\'",
    "line1\nline2\n",
    "tab\there; semi; && || | > < * ? [a] ~ # !",
    "ünïcödé ✓ 日本語 🎉",
    "-n",
    "--",
    "trailing;",
]
