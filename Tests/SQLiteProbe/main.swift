// A probe for the storage-engine tests (Tests/IntegrationTests/SQLiteTests.swift): the system's
// SQLite, unmodified, from tasks. Prints one line of `name=value` fields and exits 0.
//
//   sqlite_probe own JOURNAL THREADS TASKS ROWS
//       TASKS tasks on THREADS threads, each with its own database in journal mode JOURNAL
//       (wal, delete, memory), insert ROWS rows in one transaction, then read back their count
//       and sum and run `PRAGMA integrity_check`. Prints `correct=N elapsed_ms=N stop_ms=N`,
//       stop_ms being how long `withCoroutines` took to return after the last task ended.
//   sqlite_probe shared THREADS TASKS ROWS
//       TASKS tasks share one WAL database with a busy timeout, each inserting ROWS rows in
//       transactions of 10 (SQLite's locks through fcntl, its busy handler's sleeps). Prints
//       `correct=1 rows=N sum=N elapsed_ms=N stop_ms=N` when the totals are exact.
import CSQLite
import Foundation
import Glibc
import OpenCoroutine
import ProbeSupport
import Synchronization


/// One connection, closed when it goes away.
final class Database {
    let handle: OpaquePointer

    init(path: String, busyTimeoutMs: Int32 = 0) throws {
        var handle: OpaquePointer?
        guard sqlite3_open(path, &handle) == SQLITE_OK, let handle else {
            throw ProbeError("open \(path): \(String(cString: sqlite3_errmsg(handle)))")
        }
        self.handle = handle
        if busyTimeoutMs > 0 { sqlite3_busy_timeout(handle, busyTimeoutMs) }
    }

    deinit { sqlite3_close(handle) }

    func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(handle, sql, nil, nil, &message) == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? "unknown"
            sqlite3_free(message)
            throw ProbeError("\(sql): \(text)")
        }
    }

    /// The first column of the first row of `sql`, as text.
    func scalar(_ sql: String) throws -> String {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK else {
            throw ProbeError("prepare \(sql): \(String(cString: sqlite3_errmsg(handle)))")
        }
        defer { sqlite3_finalize(statement) }
        guard sqlite3_step(statement) == SQLITE_ROW, let text = sqlite3_column_text(statement, 0) else {
            throw ProbeError("step \(sql): \(String(cString: sqlite3_errmsg(handle)))")
        }
        return String(cString: text)
    }

    func insert(_ values: Range<Int>) throws {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, "INSERT INTO t(v, s) VALUES(?, ?)", -1, &statement, nil) == SQLITE_OK else {
            throw ProbeError("prepare insert: \(String(cString: sqlite3_errmsg(handle)))")
        }
        defer { sqlite3_finalize(statement) }
        for value in values {
            sqlite3_bind_int64(statement, 1, sqlite3_int64(value))
            // SQLITE_TRANSIENT: SQLite copies the text before the call returns.
            sqlite3_bind_text(statement, 2, "row \(value)", -1, unsafeBitCast(-1, to: sqlite3_destructor_type.self))
            guard sqlite3_step(statement) == SQLITE_DONE else {
                throw ProbeError("insert: \(String(cString: sqlite3_errmsg(handle)))")
            }
            sqlite3_reset(statement)
        }
    }
}

struct ProbeError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("oc-sqlite-\(getpid())")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }

/// Runs `tasks` tasks of `body` and prints the timing fields after `fields`.
func run(threads: Int, tasks: Int, _ body: @escaping @Sendable (Int) throws -> Bool, fields: () throws -> String) throws {
    let correct = Atomic<Int>(0)
    let start = milliseconds()
    let lastEnd = Atomic<Int>(0)
    try withCoroutines(Config(threads: threads)) {
        let handles = try (0..<tasks).map { index in
            try co(name: "sqlite-\(index)") {
                defer { lastEnd.max(milliseconds(), ordering: .relaxed) }
                do {
                    if try body(index) { correct.add(1, ordering: .relaxed) }
                } catch {
                    emit("task \(index): \(error)")
                }
            }
        }
        for handle in handles { try handle.join() }
    }
    let end = milliseconds()
    emit("correct=\(correct.load(ordering: .relaxed)) \(try fields())elapsed_ms=\(end - start) "
        + "stop_ms=\(end - lastEnd.load(ordering: .relaxed))")
}

let arguments = Array(CommandLine.arguments.dropFirst())
func number(_ index: Int) -> Int {
    guard arguments.count > index, let value = Int(arguments[index]), value > 0 else { fail("expected a count at \(index + 1)") }
    return value
}

switch arguments.first {
case "own":
    guard arguments.count > 1, ["wal", "delete", "memory"].contains(arguments[1]) else { fail("expected wal, delete or memory") }
    let journal = arguments[1]
    let rows = number(4)
    try run(threads: number(2), tasks: number(3), { index in
        let database = try Database(path: directory.appendingPathComponent("own-\(index).db").path)
        try database.execute("PRAGMA journal_mode=\(journal); CREATE TABLE t(v INTEGER, s TEXT)")
        try database.execute("BEGIN")
        try database.insert(0..<rows)
        try database.execute("COMMIT")
        let expected = rows * (rows - 1) / 2
        return try database.scalar("SELECT count(*) FROM t") == "\(rows)"
            && database.scalar("SELECT sum(v) FROM t") == "\(expected)"
            && database.scalar("PRAGMA integrity_check") == "ok"
    }, fields: { "" })
case "shared":
    let rows = number(3)
    let tasks = number(2)
    let path = directory.appendingPathComponent("shared.db").path
    let setup = try Database(path: path)
    try setup.execute("PRAGMA journal_mode=wal; CREATE TABLE t(v INTEGER, s TEXT)")
    try run(threads: number(1), tasks: tasks, { index in
        let database = try Database(path: path, busyTimeoutMs: 10_000)
        for batch in stride(from: 0, to: rows, by: 10) {
            try database.execute("BEGIN IMMEDIATE")
            try database.insert((index * rows + batch)..<(index * rows + min(batch + 10, rows)))
            try database.execute("COMMIT")
        }
        return true
    }, fields: {
        let total = tasks * rows
        let count = try setup.scalar("SELECT count(*) FROM t")
        let sum = try setup.scalar("SELECT sum(v) FROM t")
        let integrity = try setup.scalar("PRAGMA integrity_check")
        let exact = count == "\(total)" && sum == "\(total * (total - 1) / 2)" && integrity == "ok"
        return "exact=\(exact ? 1 : 0) rows=\(count) sum=\(sum) "
    })
default:
    fail("usage: sqlite_probe own JOURNAL THREADS TASKS ROWS | shared THREADS TASKS ROWS")
}
