import Foundation

/// Seconds since 1970, as stored in the database.
public func now() -> Double { Date().timeIntervalSince1970 }

/// Formats epoch seconds as RFC 3339 UTC with milliseconds (`2026-11-29T02:42:59.123Z`).
/// Hand-rolled because it runs once per row when listing thousands of tasks.
public func formatTimestamp(_ t: Double) -> String {
    var secs = time_t(t.rounded(.down))
    var tm = tm()
    gmtime_r(&secs, &tm)
    let ms = Int(((t - t.rounded(.down)) * 1000).rounded(.down))
    func pad(_ v: Int32, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
    return "\(pad(tm.tm_year + 1900, 4))-\(pad(tm.tm_mon + 1, 2))-\(pad(tm.tm_mday, 2))T"
        + "\(pad(tm.tm_hour, 2)):\(pad(tm.tm_min, 2)):\(pad(tm.tm_sec, 2)).\(pad(Int32(ms), 3))Z"
}

/// "3s", "5m", "2h", "4d": how long ago, for tables.
public func formatAge(_ t: Double, now current: Double = now()) -> String {
    let d = max(0, Int(current - t))
    if d < 60 { return "\(d)s" }
    if d < 3600 { return "\(d / 60)m" }
    if d < 86400 { return "\(d / 3600)h" }
    return "\(d / 86400)d"
}
