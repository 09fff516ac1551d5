import Foundation
import Testing

/// `CoroutineDump` over 100 tasks in known states (Tests/DumpProbe, `hundred`): each is listed
/// with the state it waits in and a frame of the probe's own function that put it there.
@Suite struct DumpTests {
    @Test func listsAHundredTasksWithTheirStatesAndOwnFrames() throws {
        let run = try runBounded(try builtExample("dump_probe"), arguments: ["hundred"], timeout: 60)
        try #require(!run.timedOut && run.status == 0 && run.output.contains("dump done"), "\(run.output)")
        let entries = dumpEntries(in: run.output)
        var sockets: [String: Int32] = [:]
        for line in run.output.split(separator: "\n") where line.hasPrefix("socket ") {
            let parts = line.split(separator: " ")
            if parts.count == 3, let fd = Int32(parts[2].dropFirst(3)) { sockets[String(parts[1])] = fd }
        }
        var lockStates = Set<String>()
        for index in 0..<25 {
            let sleeper = try #require(entries["probe-sleeper-\(index)"], "\(run.output)")
            #expect(sleeper.state.hasPrefix("sleeping, wakes in "), "\(sleeper.state)")
            #expect(sleeper.frames.contains { $0.contains("dumpProbeSleeper") }, "\(sleeper.frames)")

            let socket = try #require(entries["probe-socket-\(index)"], "\(run.output)")
            let fd = try #require(sockets["\(index)"])
            #expect(socket.state.hasPrefix("waiting for fd \(fd) to be readable (in read)"), "\(socket.state)")
            #expect(socket.frames.contains { $0.contains("dumpProbeSocketReader") }, "\(socket.frames)")

            let joiner = try #require(entries["probe-joiner-\(index)"], "\(run.output)")
            #expect(joiner.state.hasPrefix("joining task #\(socket.id),"), "\(joiner.state) (reader is #\(socket.id))")
            #expect(joiner.frames.contains { $0.contains("dumpProbeJoiner") }, "\(joiner.frames)")

            let locker = try #require(entries["probe-locker-\(index)"], "\(run.output)")
            #expect(locker.state.hasPrefix("parked on lock 0x"), "\(locker.state)")
            #expect(locker.frames.contains { $0.contains("dumpProbeLocker") }, "\(locker.frames)")
            lockStates.insert(String(locker.state.prefix { $0 != "," }))
        }
        // Every locker waits on the one mutex: one address.
        #expect(lockStates.count == 1, "\(lockStates)")
        #expect(entries.count == 100, "\(entries.keys.sorted())")
    }
}

/// One task of a dump: `task #ID "name": state` and its frame lines.
private struct DumpEntry {
    var id: UInt64
    var state: String
    var frames: [String]
}

/// The tasks of a `CoroutineDump.dump` output, by name.
private func dumpEntries(in output: String) -> [String: DumpEntry] {
    var entries: [String: DumpEntry] = [:]
    var current: String?
    for line in output.split(separator: "\n") {
        if line.hasPrefix("task #") {
            let quoted = line.split(separator: "\"", maxSplits: 2, omittingEmptySubsequences: false)
            guard quoted.count == 3, let id = UInt64(quoted[0].dropFirst("task #".count).prefix { $0.isNumber }) else {
                current = nil
                continue
            }
            let name = String(quoted[1])
            entries[name] = DumpEntry(id: id, state: String(quoted[2].dropFirst(2)), frames: [])
            current = name
        } else if line.hasPrefix("    "), let name = current {
            entries[name]?.frames.append(String(line))
        } else {
            current = nil
        }
    }
    return entries
}
