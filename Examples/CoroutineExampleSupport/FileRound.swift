import ExampleSupport
import OpenCoroutine

/// What file_co and file_not_co print: `tasks` tasks on 2 threads each write 1 MiB to a file
/// of their own, sync it to the disk, read it back, check it and remove it. With the hooks on,
/// the file calls go through io_uring, and the tasks' syncs wait for the disk together; with
/// them off, each call holds its thread, and the syncs wait two at a time.
public func fileRound(tasks: Int, hooks: Bool) throws {
    // Without the hooks, handoff is off too: spares would start the tasks queued behind the
    // held threads (Docs/scheduling.md), and the round shows what the hooks do.
    var config = Config(threads: 2, hooks: hooks)
    if !hooks { config.handoffAfter = nil }
    try withCoroutines(config) {
        let start = ContinuousClock.now
        let writers = try (1...tasks).map { task in
            try co { try writeAndReadBack(size: 1 << 20, tag: UInt8(truncatingIfNeeded: task)) }
        }
        let bytes = try writers.reduce(0) { $0 + (try $1.join()) }
        let elapsed = ContinuousClock.now - start
        print("\(tasks) tasks wrote, synced and read back \(bytes) bytes on 2 threads in \(elapsed.readable)")
        print(hooks ? "the syncs waited for the disk together" : "each sync held its thread: they waited two at a time")
    }
}
