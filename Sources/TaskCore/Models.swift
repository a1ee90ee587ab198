/// A task as stored: what to do, where, and how far it got.
public struct TaskRecord: Sendable, Equatable {
    public var id: Int64
    public var title: String
    public var prompt: String
    public var status: TaskStatus
    public var statusDetail: String?
    public var projectID: Int64?
    public var projectName: String?
    public var createdAt: Double
    public var updatedAt: Double
    public var startedAt: Double?
    public var finishedAt: Double?
    public var sandbox: String?
    public var worktreePath: String?
    public var branch: String?
    public var sessionID: String?
    public var paneID: String?
    public var exitCode: Int?
    public var permissionMode: String?
    /// The site it runs (or ran, or is placed) on: `local`, or the name of its sprite.
    public var site: String?

    public init(
        id: Int64, title: String, prompt: String, status: TaskStatus, statusDetail: String? = nil,
        projectID: Int64? = nil, projectName: String? = nil, createdAt: Double, updatedAt: Double,
        startedAt: Double? = nil, finishedAt: Double? = nil, sandbox: String? = nil,
        worktreePath: String? = nil, branch: String? = nil, sessionID: String? = nil,
        paneID: String? = nil, exitCode: Int? = nil, permissionMode: String? = nil, site: String? = nil
    ) {
        self.id = id
        self.title = title
        self.prompt = prompt
        self.status = status
        self.statusDetail = statusDetail
        self.projectID = projectID
        self.projectName = projectName
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.sandbox = sandbox
        self.worktreePath = worktreePath
        self.branch = branch
        self.sessionID = sessionID
        self.paneID = paneID
        self.exitCode = exitCode
        self.permissionMode = permissionMode
        self.site = site
    }
}

/// A named folder that tasks run in (a git repository gets a worktree per task).
public struct ProjectRecord: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var path: String
    public var createdAt: Double
    public var taskCount: Int

    public init(id: Int64, name: String, path: String, createdAt: Double, taskCount: Int = 0) {
        self.id = id
        self.name = name
        self.path = path
        self.createdAt = createdAt
        self.taskCount = taskCount
    }
}

/// One line typed at the shell, with what became of it.
public struct HistoryEntry: Sendable, Equatable {
    public var id: Int64
    public var line: String
    public var exitStatus: Int?
    public var createdAt: Double

    public init(id: Int64, line: String, exitStatus: Int?, createdAt: Double) {
        self.id = id
        self.line = line
        self.exitStatus = exitStatus
        self.createdAt = createdAt
    }
}

/// A line of a task's log (system messages, feedback, errors).
public struct TaskLogEntry: Sendable, Equatable {
    public var id: Int64
    public var taskID: Int64
    public var kind: String
    public var message: String
    public var createdAt: Double

    public init(id: Int64, taskID: Int64, kind: String, message: String, createdAt: Double) {
        self.id = id
        self.taskID = taskID
        self.kind = kind
        self.message = message
        self.createdAt = createdAt
    }
}
