import CCoroutineCore
import Glibc
import Synchronization
import Testing
@testable import CoroutineCore

/// What a poll showed its caller: the result, errno afterwards and every `revents`.
struct PollObservation: Equatable, CustomStringConvertible {
    let result: Int32
    let error: Int32
    let revents: [Int16]

    var description: String { "result \(result), errno \(error), revents \(revents)" }
}

/// One poll input, set up afresh for each implementation so that all see the same state.
struct PollCase: Sendable, CustomStringConvertible {
    let name: String
    let timeout: Int32
    /// Prepares sockets and returns the descriptors and events to poll (nil: a missing array).
    let prepare: @Sendable (SocketPair) -> (entries: [pollfd]?, count: nfds_t)

    var description: String { name }

    typealias Poll = (UnsafeMutablePointer<pollfd>?, nfds_t, Int32) -> Int32

    func observe(_ poll: Poll) throws -> PollObservation {
        let pair = try SocketPair()
        let (entries, count) = prepare(pair)
        errno = Observation.untouchedErrno
        guard var entries else {
            let result = poll(nil, count, timeout)
            return PollObservation(result: result, error: errno, revents: [])
        }
        let result = entries.withUnsafeMutableBufferPointer { poll($0.baseAddress, count, timeout) }
        return PollObservation(result: result, error: errno, revents: entries.map(\.revents))
    }

    static func single(_ name: String, timeout: Int32, events: Int32, setUp: @escaping @Sendable (SocketPair) -> Int32) -> PollCase {
        PollCase(name: name, timeout: timeout) { pair in
            ([pollfd(fd: setUp(pair), events: Int16(events), revents: 0)], 1)
        }
    }

    static let all: [PollCase] = [
        single("readable", timeout: 1_000, events: POLLIN) { pair in
            pair.write("x", to: pair.right)
            return pair.left
        },
        single("not ready until the timeout", timeout: 20, events: POLLIN) { $0.left },
        single("writable", timeout: -1, events: POLLOUT) { $0.left },
        single("peer shut down", timeout: 1_000, events: POLLIN | Int32(OC_POLLRDHUP)) { pair in
            shutdown(pair.right, Int32(SHUT_RDWR))
            return pair.left
        },
        single("nothing asked for", timeout: 20, events: 0) { $0.left },
        single("negative descriptor is ignored", timeout: 20, events: POLLIN) { _ in -1 },
        single("closed descriptor", timeout: 1_000, events: POLLIN) { _ in 99_999 },
        PollCase(name: "two descriptors, one ready", timeout: 1_000) { pair in
            pair.write("x", to: pair.left)
            return ([pollfd(fd: pair.left, events: Int16(POLLIN), revents: 0),
                     pollfd(fd: pair.right, events: Int16(POLLIN), revents: 0)], 2)
        },
        PollCase(name: "no descriptors", timeout: 20) { _ in ([], 0) },
        PollCase(name: "missing array", timeout: 20) { _ in (nil, 1) },
        PollCase(name: "too many descriptors", timeout: 20) { _ in (nil, 1 << 30) },
    ]
}

@Suite struct PollTests {
    @Test(arguments: PollCase.all)
    func behavesLikeLibcOnAPlainThread(_ pollCase: PollCase) throws {
        #expect(try pollCase.observe(Syscall.poll) == pollCase.observe(Glibc.poll))
    }

    @Test(arguments: PollCase.all)
    func behavesLikeLibcInACoroutine(_ pollCase: PollCase) throws {
        let expected = try pollCase.observe(Glibc.poll)
        #expect(try runInCoroutine { try pollCase.observe(Syscall.poll) } == expected)
    }

    @Test func aPollingCoroutineLetsOthersRun() throws {
        let scheduler = try Scheduler()
        let pair = try SocketPair()
        let log = Mutex<[String]>([])
        scheduler.submit {
            var entry = pollfd(fd: pair.left, events: Int16(POLLIN), revents: 0)
            let result = Syscall.poll(&entry, 1, -1)
            log.withLock { $0.append("poll returned \(result)") }
        }
        scheduler.submitLateWriter("x", to: pair) { log.withLock { $0.append("writer runs") } }
        scheduler.run(until: .now + .seconds(5))
        #expect(log.withLock { $0 } == ["writer runs", "poll returned 1"])
        #expect(!scheduler.eventLoop.hasWaiters)
    }
}

extension CoroutineRuntimeTests {
    @Test func cancellingATaskInPollEndsItWithECANCELED() throws {
        let runtime = CoroutineRuntime.shared
        try runtime.start(RuntimeConfiguration(threads: 2))
        defer { runtime.stop(timeout: .seconds(5)) }
        let pair = try SocketPair()
        let poller = try runtime.spawn { () -> (Int32, Int32) in
            var entry = pollfd(fd: pair.left, events: Int16(POLLIN), revents: 0)
            let result = Syscall.poll(&entry, 1, -1)
            return (result, errno)
        }
        usleep(50_000)
        poller.cancel()
        let (result, error) = try poller.join(timeout: .seconds(5))
        #expect(result == -1)
        #expect(error == ECANCELED)
    }
}
