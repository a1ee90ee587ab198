import Foundation
import TaskCore

/// Runs commands from a script (stdin that is not a terminal, or `-c`): no prompt, no colour,
/// stop at the first failing command and return its status.
struct ScriptRunner {
    let dispatcher: Dispatcher
    var ctx: CommandContext { dispatcher.ctx }

    /// Runs `text` as if each of its lines had been typed.
    func run(text: String) -> Int32 {
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let status = runLine(String(line), number: nil)
            if status != 0 || ctx.quitRequested { return status }
        }
        return 0
    }

    /// Reads stdin line by line as it arrives.
    func runStandardInput() -> Int32 {
        var reader = LineReader(fd: STDIN_FILENO)
        var number = 0
        while let bytes = reader.next() {
            number += 1
            guard let line = String(validating: bytes, as: UTF8.self) else {
                ctx.err.line("task: line \(number) of the input is not valid UTF-8; stopped there")
                ctx.err.flush()
                return 1
            }
            let status = runLine(line, number: number)
            if status != 0 || ctx.quitRequested { return status }
        }
        return 0
    }

    func runLine(_ line: String, number: Int?) -> Int32 {
        do {
            for words in try Tokenizer.commands(line) {
                let status = dispatcher.run(words)
                if status != 0 || ctx.quitRequested { return status }
            }
            return 0
        } catch {
            let at = number.map { "line \($0): " } ?? ""
            ctx.err.line("task: \(at)\(error)")
            ctx.err.flush()
            return 64
        }
    }
}

/// Splits a file descriptor's bytes into lines (without "\n") as they arrive.
struct LineReader {
    let fd: Int32
    var buffer: [UInt8] = []
    var eof = false

    init(fd: Int32) { self.fd = fd }

    mutating func next() -> [UInt8]? {
        while true {
            if let nl = buffer.firstIndex(of: 10) {
                let line = Array(buffer[..<nl])
                buffer.removeSubrange(...nl)
                return line
            }
            if eof {
                if buffer.isEmpty { return nil }
                defer { buffer.removeAll() }
                return buffer
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { eof = true; continue }
            buffer.append(contentsOf: chunk[..<n])
        }
    }
}
