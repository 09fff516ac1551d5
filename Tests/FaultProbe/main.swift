// A probe for the fault-injection tests (Tests/IntegrationTests/FaultInjectionTests.swift):
// faults that kill or limit a whole process (SIGPIPE, RLIMIT_NOFILE, RLIMIT_AS), so each runs
// in a process of its own. Every result is printed, and flushed, as soon as it is known, so
// that a test still sees what came before a signal that kills the probe.
//
//   fault_probe mid-write libc|task write|send default|ignore tcp|unix|shutdown
//       Writes 32 MiB with one blocking call to a peer that reads nothing, and ends the
//       connection 100 ms after the peer got its first bytes: `tcp`, the TCP peer resets it
//       (SO_LINGER {1, 0}, then close); `unix`, the peer of a Unix socket pair closes;
//       `shutdown`, another thread shuts the writer's own TCP socket down both ways. Then
//       makes three more calls.
//       Each prints `call=partial`, `call=all` or `call=-1/ERRNO`; `survived` ends the run.
//       `libc` calls libc's own write/send on the main thread, `task` the process's (the hook
//       library's) in a task; `send` passes MSG_NOSIGNAL; `ignore` sets SIGPIPE to SIG_IGN.
//   fault_probe emfile
//       A server task whose accept meets RLIMIT_NOFILE: prints `libc_accept=-1/ERRNO` (libc's
//       accept on the main thread), `task_accept=-1/ERRNO` (the task's first accept), then
//       frees descriptors and prints `served=N` (connections the task echoed) and `echoed=N`
//       (of the 3 waiting clients, those that got their byte back).
//   fault_probe stacks
//       Spawns a task while RLIMIT_AS leaves no room for a new stack slab: prints `spawn=`
//       and `join=` (the value, or the error), then `after=` for a task spawned once the limit
//       is lifted, and `unfinished=` from the runtime's stop report.
import CoroutineCore
import DescriptorScenarios
import Foundation
import Glibc
import OpenCoroutine
import ProbeSupport
import Synchronization

/// A result as the probe prints it: a transfer's (`all` or `partial` of `expected` bytes) or
/// another call's (`ok`), or `-1/ERRNO`.
func describe(_ result: Int, expected: Int? = nil) -> String {
    guard result >= 0 else { return "-1/\(errno)" }
    guard let expected else { return "ok" }
    return result == expected ? "all" : "partial"
}

/// A connected TCP pair on loopback, made with libc: (client, server side).
func tcpPair() throws -> (Int32, Int32) {
    let libc = DescriptorCalls.libc
    let (listener, address) = try libc.listener()
    defer { _ = libc.close(listener) }
    let client = libc.socket(AF_INET, streamSocket, 0)
    guard libc.connect(client, to: address) == 0 else { throw ScenarioError(operation: "connect", code: errno) }
    let server = libc.accept(listener, nil, nil)
    guard server >= 0 else { throw ScenarioError(operation: "accept", code: errno) }
    return (client, server)
}

/// The `mid-write` case: see the top of the file.
func endMidWrite(inTask: Bool, send: Bool, ignoreSIGPIPE: Bool, ending: String) throws {
    // Set either way: an ignored signal stays ignored across exec, and the test runner may
    // have ignored it.
    signal(SIGPIPE, ignoreSIGPIPE ? SIG_IGN : SIG_DFL)
    let libc = DescriptorCalls.libc
    let (client, peer) = try ending == "unix" ? libc.pair() : tcpPair()
    let writing = Atomic<Bool>(false)
    // The connection ends 100 ms after the first bytes reached the peer, however long
    // starting took: by then the write has made progress and waits for room.
    Thread.detachNewThread {
        var queued: Int32 = 0
        while !writing.load(ordering: .acquiring) || queued == 0 {
            usleep(1_000)
            _ = libc.ioctl(peer, UInt(FIONREAD), &queued)
        }
        usleep(100_000)
        switch ending {
        case "shutdown":
            _ = libc.shutdown(client, Int32(SHUT_RDWR))
        case "tcp":
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            _ = libc.setsockopt(peer, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            _ = libc.close(peer)
        default:
            _ = libc.close(peer)
        }
    }
    let writes: @Sendable (DescriptorCalls) -> Void = { calls in
        let buffer = [UInt8](repeating: 0x5A, count: 32 << 20)
        writing.store(true, ordering: .releasing)
        for _ in 0..<4 {
            let result = buffer.withUnsafeBytes { bytes in
                send ? calls.send(client, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
                    : calls.write(client, bytes.baseAddress, bytes.count)
            }
            emit("call=\(describe(result, expected: buffer.count))")
        }
    }
    if inTask {
        try withCoroutines(Config(threads: 2)) {
            try co { writes(DescriptorCalls(symbolsIn: .global)) }.join(timeout: .seconds(10))
        }
    } else {
        writes(.libc)
    }
    emit("survived")
}

/// The `emfile` case: see the top of the file.
func acceptAtTheDescriptorLimit() throws {
    let libc = DescriptorCalls.libc
    let (listener, address) = try libc.listener()
    let clients = (0..<3).map { _ in libc.socket(AF_INET, streamSocket, 0) }
    for client in clients where libc.connect(client, to: address) != 0 {
        throw ScenarioError(operation: "connect", code: errno)
    }
    try withCoroutines(Config(threads: 2)) {
        // Spare descriptors to free later, then a limit at the lowest free number: none is left.
        let spares = (0..<4).map { _ in libc.dup(0) }
        let lowestFree = libc.dup(0)
        _ = libc.close(lowestFree)
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        var lowered = limit
        lowered.rlim_cur = rlim_t(lowestFree)
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &lowered) == 0 else {
            throw ScenarioError(operation: "setrlimit", code: errno)
        }
        emit("libc_accept=\(describe(Int(libc.accept(listener, nil, nil))))")
        let refused = Atomic<Bool>(false)
        let server = try co { () -> Int in
            var served = 0
            var attempts = 0
            while served < clients.count, attempts < 1_000 {
                attempts += 1
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else {
                    if !refused.exchange(true, ordering: .acquiringAndReleasing) {
                        emit("task_accept=-1/\(errno)")
                    }
                    usleep(5_000)
                    continue
                }
                var byte: UInt8 = 0
                if read(connection, &byte, 1) == 1, write(connection, &byte, 1) == 1 { served += 1 }
                close(connection)
            }
            return served
        }
        while !refused.load(ordering: .acquiring) { usleep(1_000) }
        usleep(20_000)
        spares.forEach { _ = libc.close($0) }
        var echoed = 0
        for (index, client) in clients.enumerated() {
            var byte = UInt8(index)
            guard libc.write(client, &byte, 1) == 1 else { continue }
            if libc.read(client, &byte, 1) == 1, byte == UInt8(index) { echoed += 1 }
        }
        emit("served=\(try server.join(timeout: .seconds(10)))")
        emit("echoed=\(echoed)")
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}

/// The process's address space in use, in bytes.
func addressSpaceInUse() -> rlim_t {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmSize:") } ?? ""
    return rlim_t(line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0) * 1024
}

/// The `stacks` case: see the top of the file.
func spawnWithoutMemoryForStacks() throws {
    let runtime = CoroutineRuntime.shared
    try runtime.start(RuntimeConfiguration(threads: 1))
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_AS.rawValue), &limit)
    // Room for the allocator, none for a new 64 MiB slab of stacks.
    var lowered = limit
    lowered.rlim_cur = addressSpaceInUse() + (24 << 20)
    guard setrlimit(Int32(RLIMIT_AS.rawValue), &lowered) == 0 else {
        throw ScenarioError(operation: "setrlimit", code: errno)
    }
    do {
        let handle = try runtime.spawn { 42 }
        emit("spawn=ok")
        do {
            emit("join=\(try handle.join(timeout: .seconds(3)))")
        } catch {
            emit("join=error: \(error)")
        }
    } catch {
        emit("spawn=error: \(error)")
    }
    setrlimit(Int32(RLIMIT_AS.rawValue), &limit)
    do {
        emit("after=\(try runtime.spawn { 43 }.join(timeout: .seconds(3)))")
    } catch {
        emit("after=error: \(error)")
    }
    emit("unfinished=\(runtime.stop(timeout: .seconds(1)).unfinishedTasks)")
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "mid-write" where arguments.count == 5:
    try endMidWrite(
        inTask: arguments[1] == "task", send: arguments[2] == "send", ignoreSIGPIPE: arguments[3] == "ignore",
        ending: arguments[4])
case "emfile":
    try acceptAtTheDescriptorLimit()
case "stacks":
    try spawnWithoutMemoryForStacks()
default:
    let usage = "usage: fault_probe mid-write libc|task write|send default|ignore tcp|unix|shutdown | emfile | stacks\n"
    FileHandle.standardError.write(Data(usage.utf8))
    exit(2)
}
