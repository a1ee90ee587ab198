/// Where a task may run: the sites of one kind of sandbox (this machine, or the sprites of the
/// pool), in the order a tie is broken, and how many agents each may hold at once.
public struct Places: Sendable, Equatable {
    /// The kind of sandbox (a task's `sandbox` column): `local`, `sprite`.
    public var sandbox: String
    /// The sites' names (a task's `site` column): `local`, or the sprites' names.
    public var sites: [String]
    /// Agents one site may hold at once.
    public var perSite: Int
    /// Why a task waits when every site is full.
    public var fullDetail: String

    public init(sandbox: String, sites: [String], perSite: Int, fullDetail: String) {
        self.sandbox = sandbox
        self.sites = sites
        self.perSite = max(1, perSite)
        self.fullDetail = fullDetail
    }
}
