import Foundation

extension TrustConfig {
    /// A POSIX `sh` fragment that makes on a remote machine the merge ``update(file:projectPaths:apiKeySuffix:)``
    /// makes here — the same keys, under the same `<file>.lock`, written atomically keeping the
    /// file's mode — with `python3`, so a launch needs no look at the file first. It exits
    /// `rejected` when the file rejects the key (changing nothing), `unreadable` when the file is
    /// not a JSON object (saying so on stderr, changing nothing), and `unavailable` when the
    /// machine has no `python3` (the caller then reads the file and merges here). The key's
    /// suffix travels in the program text on the command's stdin, never in argv.
    public static func mergeScript(file: String, projectPaths: [String], apiKeySuffix: String?,
                                   rejected: Int32, unreadable: Int32, unavailable: Int32) -> String {
        // A JSON string is a Python string literal too (slashes left unescaped).
        func literal(_ s: String) -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes]
            return (try? encoder.encode(s)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
        }
        let paths = "[" + projectPaths.map(literal).joined(separator: ", ") + "]"
        let suffix = apiKeySuffix.map(literal) ?? "None"
        return """
            command -v python3 >/dev/null 2>&1 || exit \(unavailable)
            python3 - \(ShellQuote.quote(file)) <<'TASK_MERGE' || exit $?
            import fcntl, json, os, sys, tempfile
            path = os.path.realpath(os.path.expanduser(sys.argv[1]))
            paths, suffix = \(paths), \(suffix)
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            lock = os.open(path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(lock, fcntl.LOCK_EX)
            mode, root = 0o600, {}
            def refuse(why):
                sys.stderr.write(f"{path}: {why}\\n")
                sys.exit(\(unreadable))
            if os.path.exists(path):
                mode = os.stat(path).st_mode & 0o7777
                text = open(path, "rb").read()
                if text.strip():
                    try:
                        root = json.loads(text)
                    except ValueError:
                        refuse("is not JSON; it was left untouched")
                    if not isinstance(root, dict):
                        refuse("is not a JSON object; it was left untouched")
            before = json.dumps(root, sort_keys=True)
            if suffix is not None:
                responses = root.get("customApiKeyResponses", {})
                if not isinstance(responses, dict):
                    refuse("customApiKeyResponses is not an object; it was left untouched")
                if suffix in (responses.get("rejected") or []):
                    sys.exit(\(rejected))
                approved = responses.get("approved") or []
                if suffix not in approved:
                    approved.append(suffix)
                responses["approved"] = approved
                responses.setdefault("rejected", [])
                root["customApiKeyResponses"] = responses
            root["hasCompletedOnboarding"] = True
            root["bypassPermissionsModeAccepted"] = True
            projects = root.get("projects", {})
            if not isinstance(projects, dict):
                refuse("projects is not an object; it was left untouched")
            for p in paths:
                entry = projects.get(p, {})
                if not isinstance(entry, dict):
                    refuse(f"projects.{p} is not an object; it was left untouched")
                entry["hasTrustDialogAccepted"] = True
                entry["hasCompletedProjectOnboarding"] = True
                projects[p] = entry
            root["projects"] = projects
            if json.dumps(root, sort_keys=True) != before:
                fd, temp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".claude.json.")
                with os.fdopen(fd, "w") as out:
                    json.dump(root, out, indent=2, sort_keys=True)
                    out.write("\\n")
                os.chmod(temp, mode)
                os.replace(temp, path)
            TASK_MERGE
            """
    }
}
