import CLineEdit
import Foundation

/// libedit's native API behind a small Swift type: read a line with a prompt, history,
/// Tab completion, and printing above the prompt through `Console`.
final class LineEditor {
    enum ReadResult: Equatable {
        case line(String)
        case interrupted
        case endOfInput
    }

    private let editor: OpaquePointer
    private let console: Console
    /// Computes what Tab does for the text before the cursor.
    var complete: ((String) -> CompletionAction)?

    init?(program: String, console: Console) {
        le_setup_locale()
        guard let e = le_create(program, STDIN_FILENO, STDOUT_FILENO) else { return nil }
        editor = e
        self.console = console
        le_install_sigint()
        let drain: le_drain_fn = { ctx in
            guard let ctx else { return }
            Unmanaged<LineEditor>.fromOpaque(ctx).takeUnretainedValue().console.drain()
        }
        let complete: le_complete_fn = { ctx, _, text in
            guard let ctx, let text else { return Int32(LE_CC_NORM) }
            let me = Unmanaged<LineEditor>.fromOpaque(ctx).takeUnretainedValue()
            return me.runCompletion(String(cString: text))
        }
        le_set_callbacks(e, Unmanaged.passUnretained(self).toOpaque(), drain, complete)
        le_source_editrc(e)
    }

    deinit { le_destroy(editor) }

    func addHistory(_ line: String) { le_history_add(editor, line) }

    func read(prompt: String) -> ReadResult {
        le_set_prompt(editor, prompt)
        _ = le_take_sigint()
        console.beginEditing(wakeFD: le_wake_fd(editor))
        var status: Int32 = 0
        let p = le_gets(editor, &status)
        console.endEditing()
        guard let p else {
            return status == 1 ? .interrupted : .endOfInput
        }
        var line = String(cString: p)
        if line.hasSuffix("\n") { line.removeLast() }
        return .line(line)
    }

    var columns: Int { Int(le_columns(editor)) }

    private func runCompletion(_ text: String) -> Int32 {
        guard let action = complete?(text) else { return Int32(LE_CC_REFRESH_BEEP) }
        switch action {
        case .insert(let s):
            le_insert(editor, s)
            return Int32(LE_CC_REFRESH)
        case .list(let lines):
            Console.write([""] + lines)
            return Int32(LE_CC_REDISPLAY)
        case .none:
            return Int32(LE_CC_REFRESH_BEEP)
        }
    }
}

/// What Tab does.
enum CompletionAction: Equatable {
    /// Insert this text at the cursor.
    case insert(String)
    /// Show these candidate lines below, then redraw the prompt.
    case list([String])
    /// Nothing fits: beep.
    case none
}
