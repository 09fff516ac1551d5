import CoroutineCore
import DescriptorScenarios
import Foundation
import Glibc
import OpenCoroutine
import Synchronization
import Testing

/// Signals the storm's handler ran, on any thread.
private let stormSignalsHandled = Atomic<Int>(0)

/// The storm's signal: no library of the process uses it.
private let stormSignal = SIGUSR2

/// A plain thread that sends `stormSignal` every 100 µs to each target thread, with a
/// handler installed with or without SA_RESTART; both are undone by `stop`.
private final class SignalStorm {
    /// What the storm's thread shares with the test.
    private final class Shared: Sendable {
        let targets = Mutex<[pthread_t]>([])
        let running = Atomic<Bool>(true)
        let stopped = Atomic<Bool>(false)
    }

    private let shared = Shared()
    private let previousAction: sigaction
    private let previousMask: sigset_t

    /// Installs the handler and unblocks the signal on the calling thread, so that threads it
    /// starts from now on (the runtime's) inherit a mask that lets the storm in.
    init(restart: Bool) {
        // A global's first use runs its initializer, which a signal handler must not.
        _ = stormSignalsHandled.load(ordering: .relaxed)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in stormSignalsHandled.add(1, ordering: .relaxed) }
        action.sa_flags = restart ? SA_RESTART : 0
        sigemptyset(&action.sa_mask)
        var previous = sigaction()
        sigaction(stormSignal, &action, &previous)
        previousAction = previous
        var storm = sigset_t()
        sigemptyset(&storm)
        sigaddset(&storm, stormSignal)
        var mask = sigset_t()
        pthread_sigmask(SIG_UNBLOCK, &storm, &mask)
        previousMask = mask
        Thread.detachNewThread { [shared] in
            while shared.running.load(ordering: .acquiring) {
                shared.targets.withLock { $0.forEach { _ = pthread_kill($0, stormSignal) } }
                usleep(100)
            }
            shared.stopped.store(true, ordering: .releasing)
        }
    }

    func add(_ thread: pthread_t) { shared.targets.withLock { $0.append(thread) } }

    /// Stops signalling `thread` (before it exits: a signal to an ended thread is undefined).
    func remove(_ thread: pthread_t) { shared.targets.withLock { $0.removeAll { pthread_equal($0, thread) != 0 } } }

    /// Runs `body` on the calling thread while the storm hits it.
    func hitting<Result>(_ body: () -> Result) -> Result {
        add(pthread_self())
        defer { remove(pthread_self()) }
        return body()
    }

    /// Ends the storm, then restores the handler and the calling thread's mask.
    func stop() {
        shared.running.store(false, ordering: .releasing)
        while !shared.stopped.load(ordering: .acquiring) { usleep(1_000) }
        var action = previousAction
        sigaction(stormSignal, &action, nil)
        var mask = previousMask
        pthread_sigmask(SIG_SETMASK, &mask, nil)
    }
}

/// The scheduler threads of `runtime`, seen by batches of tasks that each hold their thread
/// for 2 ms (so that the others are left to idle threads, which each spawn from here wakes)
/// until every thread ran one.
private func schedulerThreads(of runtime: CoroutineRuntime) throws -> [pthread_t] {
    let seen = Mutex<[pthread_t]>([])
    let count = runtime.configuration?.threads ?? 0
    let deadline = ContinuousClock.now + .seconds(10)
    while seen.withLock({ $0.count }) < count, ContinuousClock.now < deadline {
        let tasks = try (0..<8).map { _ in
            try runtime.spawn {
                seen.withLock { threads in
                    if !threads.contains(where: { pthread_equal($0, pthread_self()) != 0 }) { threads.append(pthread_self()) }
                }
                let end = ContinuousClock.now + .milliseconds(2)
                while ContinuousClock.now < end {}
            }
        }
        for task in tasks { try task.join(timeout: .seconds(5)) }
    }
    try #require(seen.withLock { $0.count } == count, "tasks ran on only some of the scheduler threads")
    return seen.withLock { $0 }
}

/// `count` pseudo-random bytes (a linear congruential generator's top bits): no short period,
/// so a lost, doubled or misplaced chunk of a stream cut from them shows.
private func patternBytes(_ count: Int) -> [UInt8] {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 56)
    }
}

/// libc's names as the process resolves them: the hook library's.
private let exported = DescriptorCalls(symbolsIn: .global)

/// What a call returned, as the tests compare it: the result, and errno when it failed.
private func outcome(_ result: Int) -> String {
    result < 0 ? "-1/\(errno)" : "\(result)"
}

/// Waits up to 5 s until the runtime's coroutines entered `count` more waits in the syscall
/// layer than `base`.
private func awaitSyscallWaits(_ runtime: CoroutineRuntime, above base: UInt64, count: UInt64) {
    let deadline = ContinuousClock.now + .seconds(5)
    while (runtime.counters?.syscallWaits ?? 0) < base + count, ContinuousClock.now < deadline { usleep(1_000) }
}

/// Runs the built `fault_probe` with `arguments`: its exit status (the signal's number when a
/// signal killed it) and the lines it printed.
private func probe(_ arguments: [String]) throws -> (status: Int32, lines: [String]) {
    let (status, output) = try BackgroundExample("fault_probe", arguments: arguments).finish(timeout: 20)
    return (status, output.split(separator: "\n").map(String.init))
}

/// What a flood of non-blocking calls on one socket pair saw.
private struct Flood: Equatable, Sendable {
    /// How the socket is non-blocking: SOCK_NONBLOCK, O_NONBLOCK (set after a blocking
    /// exchange) or MSG_DONTWAIT (on a blocking socket).
    let mode: String
    /// The distinct outcomes of 10,000 reads of the empty socket.
    let reads: Set<String>
    /// The bytes the socket took before its first refusal.
    let accepted: Int
    /// The distinct outcomes of 10,000 writes to the full socket.
    let writes: Set<String>

    /// A flood in each mode, through `calls`.
    static func run(_ calls: DescriptorCalls) throws -> [Flood] {
        try ["SOCK_NONBLOCK", "O_NONBLOCK", "MSG_DONTWAIT"].map { mode in
            var fds: [Int32] = [-1, -1]
            let type = streamSocket | (mode == "SOCK_NONBLOCK" ? Int32(SOCK_NONBLOCK.rawValue) : 0)
            guard calls.socketpair(AF_UNIX, type, 0, &fds) == 0 else { throw ScenarioError(operation: "socketpair", code: errno) }
            defer { _ = calls.close(fds[0]); _ = calls.close(fds[1]) }
            if mode == "O_NONBLOCK" {
                calls.write(fds[1], "x")
                guard calls.read(fds[0]) == (1, "x"), calls.fcntl(fds[0], F_SETFL, Int(O_NONBLOCK)) == 0 else {
                    throw ScenarioError(operation: "a blocking exchange, then F_SETFL", code: errno)
                }
            }
            let flags = mode == "MSG_DONTWAIT" ? Int32(MSG_DONTWAIT) : 0
            var buffer = [UInt8](repeating: 7, count: 4_096)
            let reads = Set((0..<10_000).map { _ in outcome(calls.recv(fds[0], &buffer, buffer.count, flags)) })
            var accepted = 0
            while case let result = calls.send(fds[0], buffer, buffer.count, flags), result > 0 {
                accepted += result
            }
            let writes = Set((0..<10_000).map { _ in outcome(calls.send(fds[0], buffer, buffer.count, flags)) })
            return Flood(mode: mode, reads: reads, accepted: accepted, writes: writes)
        }
    }
}

/// A connection ended in the middle of a large write (`tcp`: the peer resets it; `unix`: a
/// Unix socket's peer closes; `shutdown`: another thread shuts the writer's TCP socket down
/// both ways), written one way: the call and SIGPIPE's disposition.
struct MidWriteEnding: Sendable, CustomStringConvertible {
    /// How the connection ends: `tcp`, `unix` or `shutdown`.
    let connection: String
    let call: String
    let disposition: String

    var description: String { "\(call), \(connection), SIGPIPE \(disposition)" }

    /// Whether libc's process dies of SIGPIPE.
    var killed: Bool { call == "write" && disposition == "default" }

    /// What libc's calls print: the partial count, then the reset's pending ECONNRESET, then
    /// EPIPE, which raises SIGPIPE (deadly at its default unless MSG_NOSIGNAL).
    var libcLines: [String] {
        let reset = connection == "tcp" ? ["call=-1/\(ECONNRESET)"] : []
        return ["call=partial"] + reset + (killed ? [] : Array(repeating: "call=-1/\(EPIPE)", count: 3 - reset.count) + ["survived"])
    }

    static let all = ["tcp", "unix", "shutdown"].flatMap { connection in
        [("write", "default"), ("write", "ignore"), ("send", "default")].map {
            MidWriteEnding(connection: connection, call: $0, disposition: $1)
        }
    }
}

extension SharedRuntimeTests {
    /// Faults a production runtime meets (resets, signal storms, floods of EAGAIN, descriptors
    /// closed or reused under waiters, descriptor and memory limits), each compared with what
    /// libc does on a plain thread in the same situation.
    @Suite struct FaultInjectionTests {
        /// A 32 MiB blocking write whose connection ends once it is under way (`MidWriteEnding`),
        /// then three more calls: each call's result and errno, and whether and when SIGPIPE
        /// kills the process, are libc's. libc returns the partial count, leaves a reset's
        /// ECONNRESET for the next call, and raises SIGPIPE with EPIPE on the call after that
        /// (not with MSG_NOSIGNAL, not under SIG_IGN).
        @Test(arguments: MidWriteEnding.all)
        func aConnectionEndingMidWriteAnswersAsLibc(_ ending: MidWriteEnding) throws {
            let arguments = [ending.call, ending.disposition, ending.connection]
            let libc = try probe(["mid-write", "libc"] + arguments)
            let task = try probe(["mid-write", "task"] + arguments)
            #expect(libc.lines == ending.libcLines, "libc")
            #expect(libc.status == (ending.killed ? SIGPIPE : 0), "libc")
            #expect(task.lines == libc.lines, "in a task")
            #expect(task.status == libc.status, "in a task")
        }

        /// Reads, writes, connects and sleeps in tasks while both scheduler threads get a
        /// signal every 100 µs: every byte arrives in order and no call returns EINTR, with
        /// SA_RESTART and without. A signal interrupts the thread, not the task's call, so in
        /// a task every call goes on as if restarted; on a plain thread the same calls answer
        /// as libc's: a blocking read is restarted only under SA_RESTART, and a sleep never.
        @Test(arguments: [true, false])
        func anEINTRStormReachesNoTask(restart: Bool) throws {
            let storm = SignalStorm(restart: restart)
            defer { storm.stop() }
            let handledBefore = stormSignalsHandled.load(ordering: .relaxed)
            let (listener, address) = try DescriptorCalls.libc.listener()
            defer { close(listener) }
            let managed = try DescriptorCalls.libc.pair()
            defer { close(managed.0); close(managed.1) }
            let failures = Mutex<[String]>([])
            try withSharedRuntime { runtime in
                let threads = try schedulerThreads(of: runtime)
                threads.forEach(storm.add)
                // Before the runtime stops: a signal to an ended thread is undefined.
                defer { threads.forEach(storm.remove) }
                // Stream n carries the pattern from byte n * 4,099 on, so crossed streams show too.
                let streams = 4
                let length = 1 << 20
                let pattern = patternBytes(length + streams * 4_099)
                let pairs = try (0..<streams).map { _ in try DescriptorCalls.libc.pair() }
                defer { pairs.forEach { close($0.0); close($0.1) } }
                let connects = 20
                var tasks = try (0..<streams).flatMap { stream in
                    let (reader, writer) = pairs[stream]
                    return [
                        try runtime.spawn {
                            let data = pattern[(stream * 4_099)...].prefix(length)
                            var sent = 0
                            while sent < length {
                                let result = data.dropFirst(sent).prefix(64 << 10).withUnsafeBytes {
                                    write(writer, $0.baseAddress, $0.count)
                                }
                                guard result > 0 else { return failures.withLock { $0.append("write \(outcome(result))") } }
                                sent += result
                            }
                        },
                        try runtime.spawn {
                            var buffer = [UInt8](repeating: 0, count: 48 << 10)
                            var received = 0
                            while received < length {
                                let result = buffer.withUnsafeMutableBytes { read(reader, $0.baseAddress, $0.count) }
                                guard result > 0 else { return failures.withLock { $0.append("read \(outcome(result))") } }
                                let expected = pattern[(stream * 4_099 + received)...].prefix(result)
                                let same = buffer.withUnsafeBytes { got in
                                    expected.withUnsafeBytes { memcmp(got.baseAddress!, $0.baseAddress!, result) == 0 }
                                }
                                if !same {
                                    return failures.withLock { $0.append("stream \(stream) wrong at \(received)") }
                                }
                                received += result
                            }
                        },
                    ]
                }
                tasks.append(try runtime.spawn {
                    for _ in 0..<connects {
                        let connection = accept(listener, nil, nil)
                        guard connection >= 0 else { return failures.withLock { $0.append("accept -1/\(errno)") } }
                        close(connection)
                    }
                })
                tasks += try (0..<connects).map { _ in
                    try runtime.spawn {
                        let client = socket(AF_INET, streamSocket, 0)
                        defer { close(client) }
                        if exported.connect(client, to: address) != 0 { failures.withLock { $0.append("connect -1/\(errno)") } }
                    }
                }
                tasks += try (0..<20).map { _ in
                    try runtime.spawn {
                        for _ in 0..<50 {
                            if usleep(2_000) != 0 { failures.withLock { $0.append("usleep -1/\(errno)") } }
                        }
                        var request = timespec(tv_sec: 0, tv_nsec: 20_000_000)
                        if nanosleep(&request, nil) != 0 { failures.withLock { $0.append("nanosleep -1/\(errno)") } }
                    }
                }
                // A socket the runtime now holds non-blocking, waited for in a task.
                tasks.append(try runtime.spawn {
                    var byte: UInt8 = 0
                    later(.milliseconds(50)) { _ = DescriptorCalls.libc.write(managed.1, "m") }
                    if read(managed.0, &byte, 1) != 1 { failures.withLock { $0.append("managed read -1/\(errno)") } }
                })
                for task in tasks { try task.join(timeout: .seconds(20)) }
                #expect(failures.withLock { $0 } == [])
                #expect(stormSignalsHandled.load(ordering: .relaxed) - handledBefore > 100, "the storm reached the threads")

                // The same calls on a plain thread, which the storm hits too: libc's read, the
                // runtime's read of the socket it holds non-blocking (it waits in poll(2)), and
                // libc's sleep, each waiting 50 ms for its data or deadline.
                let readLater: (DescriptorCalls, (Int32, Int32)) -> String = { calls, pair in
                    // Waited for before returning: a late write must not land in a descriptor
                    // that reuses the number once the test closed it.
                    let written = DispatchSemaphore(value: 0)
                    later(.milliseconds(50)) {
                        _ = DescriptorCalls.libc.write(pair.1, "p")
                        written.signal()
                    }
                    var byte: UInt8 = 0
                    let result = outcome(calls.read(pair.0, &byte, 1))
                    written.wait()
                    return result
                }
                let interrupted = "-1/\(EINTR)"
                let plain = try DescriptorCalls.libc.pair()
                defer { close(plain.0); close(plain.1) }
                let libcRead = storm.hitting { readLater(.libc, plain) }
                let managedRead = storm.hitting { readLater(exported, managed) }
                let libcSleep = storm.hitting { outcome(Int(WaitingCalls.libc.usleep(50_000))) }
                #expect(libcRead == (restart ? "1" : interrupted), "libc's read on a plain thread")
                #expect(managedRead == libcRead, "the runtime's read on a plain thread")
                #expect(libcSleep == interrupted, "libc's usleep on a plain thread")
            }
        }

        /// Non-blocking sockets (SOCK_NONBLOCK, O_NONBLOCK set after a blocking exchange, and
        /// MSG_DONTWAIT on a blocking socket) in a task: 10,000 reads of an empty socket and
        /// 10,000 writes to a full one answer -1/EAGAIN at once, as libc's, and the task never
        /// waits in the syscall layer.
        @Test func eagainFloodsAnswerAsLibcWithoutWaiting() throws {
            let expected = try Flood.run(.libc)
            #expect(expected.allSatisfy { $0.reads == ["-1/\(EAGAIN)"] && $0.writes == ["-1/\(EAGAIN)"] && $0.accepted > 0 })
            try withSharedRuntime { runtime in
                let waitsBefore = runtime.counters?.syscallWaits ?? 0
                let inTask = try runtime.spawn { try Flood.run(exported) }.join(timeout: .seconds(20))
                #expect(inTask == expected)
                #expect((runtime.counters?.syscallWaits ?? 0) == waitsBefore, "the task waited")
            }
        }

        /// 100 tasks blocked in read on one socket wake when it is closed, by a plain thread or
        /// by a task: each read ends -1/EBADF (syscalls.md: close wakes every waiter), within
        /// a second.
        @Test(arguments: ["a plain thread", "a task"])
        func closingADescriptorWakesItsHundredWaiters(closer: String) throws {
            let (reader, writer) = try DescriptorCalls.libc.pair()
            defer { close(writer) }
            try withSharedRuntime { runtime in
                let waitsBefore = runtime.counters?.syscallWaits ?? 0
                let readers = try (0..<100).map { _ in
                    try runtime.spawn { () -> String in
                        var byte: UInt8 = 0
                        return outcome(read(reader, &byte, 1))
                    }
                }
                awaitSyscallWaits(runtime, above: waitsBefore, count: 100)
                let start = ContinuousClock.now
                if closer == "a task" {
                    _ = try runtime.spawn { close(reader) }.join(timeout: .seconds(5))
                } else {
                    close(reader)
                }
                let results = try readers.map { try $0.join(timeout: .seconds(5)) }
                #expect(results == Array(repeating: "-1/\(EBADF)", count: 100))
                #expect(ContinuousClock.now - start < .seconds(1))
            }
        }

        /// 50 rounds: a task waits in read; the test closes the socket and at once gives its
        /// number to a new socket (the lowest free number, or dup2 onto it when another thread
        /// took that), whose peer writes. The old waiter ends -1/EBADF, never with the new
        /// socket's data, and the new socket's data reaches a new reader intact.
        @Test func aReusedDescriptorNumberNeverReachesTheOldWaiter() throws {
            let readText: @Sendable (Int32) -> String = { fd in
                var buffer = [UInt8](repeating: 0, count: 16)
                let count = read(fd, &buffer, buffer.count)
                return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : outcome(count)
            }
            try withSharedRuntime { runtime in
                for round in 0..<50 {
                    var fds: [Int32] = [-1, -1]
                    try #require(socketpair(AF_UNIX, streamSocket, 0, &fds) == 0)
                    let (number, oldPeer) = (fds[0], fds[1])
                    defer { close(oldPeer) }
                    let waitsBefore = runtime.counters?.syscallWaits ?? 0
                    let waiter = try runtime.spawn { readText(number) }
                    awaitSyscallWaits(runtime, above: waitsBefore, count: 1)
                    close(number)
                    try #require(socketpair(AF_UNIX, streamSocket, 0, &fds) == 0)
                    var newPeer = fds[1]
                    if fds[1] == number {
                        newPeer = fds[0]
                    } else if fds[0] != number {
                        try #require(dup2(fds[0], number) == number)
                        close(fds[0])
                    }
                    defer { close(newPeer); close(number) }
                    #expect(DescriptorCalls.libc.write(newPeer, "new \(round)") == "new \(round)".utf8.count)
                    #expect(try waiter.join(timeout: .seconds(5)) == "-1/\(EBADF)", "round \(round)")
                    #expect(try runtime.spawn { readText(number) }.join(timeout: .seconds(5)) == "new \(round)", "round \(round)")
                }
            }
        }

        /// A server task's accept meets the descriptor limit (RLIMIT_NOFILE, lowered in the
        /// probe's own process): -1/EMFILE, as libc's accept answers on a plain thread; once
        /// descriptors are freed it serves the 3 clients waiting in the backlog.
        @Test func acceptAtTheDescriptorLimitAnswersEMFILEAndServesOnceFreed() throws {
            let (status, lines) = try probe(["emfile"])
            #expect(status == 0)
            #expect(lines == ["libc_accept=-1/\(EMFILE)", "task_accept=-1/\(EMFILE)", "served=3", "echoed=3"])
        }

        /// A task spawned while the kernel refuses memory for a new slab of stacks (RLIMIT_AS
        /// lowered in the probe's own process): spawn returns, the process does not crash,
        /// and the task fails with `CoroutineError.stackAllocationFailed`, described; a task
        /// spawned once memory is back runs, and nothing is left unfinished.
        @Test func aStackTheKernelRefusesFailsItsTaskWithADescribedError() throws {
            let (status, lines) = try probe(["stacks"])
            #expect(status == 0)
            #expect(lines == ["spawn=ok", "join=error: \(CoroutineError.stackAllocationFailed(errno: ENOMEM))", "after=43", "unfinished=0"])
        }
    }
}
