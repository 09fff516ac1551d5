import CCoroutineCore
import Glibc
import Synchronization
import Testing
@testable import CoroutineCore

/// libc's own epoll_wait (its struct does not import into Swift), looked up in libc itself
/// so that an interposing hook library could never answer instead.
private let libcEpollWait = unsafeBitCast(
    dlsym(dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD), "epoll_wait"),
    to: (@convention(c) (Int32, UnsafeMutableRawPointer?, Int32, Int32) -> Int32).self)

/// The size of struct epoll_event: packed to 12 bytes on x86_64, 16 elsewhere.
#if arch(x86_64)
private let epollEventSize = 12
#else
private let epollEventSize = 16
#endif

/// What an epoll_wait showed its caller: result, errno, the events it reported (mask, and
/// whether the data names the watched socket; descriptor numbers differ between runs) and
/// whether it left the rest of the buffer alone.
struct EpollObservation: Equatable {
    let result: Int32
    let error: Int32
    let events: [(mask: UInt32, namesWatchedSocket: Bool)]
    let restUntouched: Bool

    static func == (a: EpollObservation, b: EpollObservation) -> Bool {
        a.result == b.result && a.error == b.error && a.restUntouched == b.restUntouched
            && a.events.map(\.mask) == b.events.map(\.mask)
            && a.events.map(\.namesWatchedSocket) == b.events.map(\.namesWatchedSocket)
    }
}

/// One epoll_wait input, set up afresh for each implementation.
struct EpollCase: Sendable, CustomStringConvertible {
    let name: String
    let timeout: Int32
    let maxEvents: Int32
    let passesBuffer: Bool
    /// Prepares sockets and an epoll instance watching `pair.left`; returns the descriptor to wait on.
    let prepare: @Sendable (SocketPair, Int32) -> Int32

    var description: String { name }

    typealias EpollWait = (Int32, UnsafeMutableRawPointer?, Int32, Int32) -> Int32

    func observe(_ epollWait: EpollWait) throws -> EpollObservation {
        let pair = try SocketPair()
        let epoll = oc_epoll_create()
        try #require(epoll >= 0 && oc_epoll_watch(epoll, pair.left) == 0)
        defer { close(epoll) }
        let target = prepare(pair, epoll)
        var buffer = [UInt8](repeating: 0xAB, count: epollEventSize * 4)
        errno = Observation.untouchedErrno
        let result = buffer.withUnsafeMutableBytes { bytes in
            epollWait(target, passesBuffer ? bytes.baseAddress : nil, maxEvents, timeout)
        }
        let error = errno
        let reported = Int(max(result, 0))
        let events = (0..<reported).map { index in
            buffer.withUnsafeBytes { bytes in
                (mask: bytes.loadUnaligned(fromByteOffset: index * epollEventSize, as: UInt32.self),
                 namesWatchedSocket: bytes.loadUnaligned(fromByteOffset: index * epollEventSize + 4, as: Int32.self) == pair.left)
            }
        }
        let restUntouched = buffer[(reported * epollEventSize)...].allSatisfy { $0 == 0xAB }
        return EpollObservation(result: result, error: error, events: events, restUntouched: restUntouched)
    }

    static let all: [EpollCase] = [
        EpollCase(name: "ready", timeout: 1_000, maxEvents: 4, passesBuffer: true) { pair, epoll in
            pair.write("x", to: pair.right)
            return epoll
        },
        EpollCase(name: "not ready until the timeout", timeout: 20, maxEvents: 4, passesBuffer: true) { pair, epoll in
            var drained = [UInt8](repeating: 0, count: 64)
            // Consume the initial writability edge, so that nothing is pending.
            _ = oc_sys_epoll_wait(epoll, &drained, 4, 0)
            _ = pair
            return epoll
        },
        EpollCase(name: "negative descriptor", timeout: 20, maxEvents: 4, passesBuffer: true) { _, _ in -1 },
        EpollCase(name: "not an epoll descriptor", timeout: 20, maxEvents: 4, passesBuffer: true) { pair, _ in pair.right },
        EpollCase(name: "no room for events", timeout: 20, maxEvents: 0, passesBuffer: true) { _, epoll in epoll },
        EpollCase(name: "missing buffer while ready", timeout: 1_000, maxEvents: 4, passesBuffer: false) { pair, epoll in
            pair.write("x", to: pair.right)
            return epoll
        },
    ]
}

@Suite struct EpollWaitTests {
    @Test(arguments: EpollCase.all)
    func behavesLikeLibcOnAPlainThread(_ epollCase: EpollCase) throws {
        #expect(try epollCase.observe(Syscall.epoll_wait) == epollCase.observe(libcEpollWait))
    }

    @Test(arguments: EpollCase.all)
    func behavesLikeLibcInACoroutine(_ epollCase: EpollCase) throws {
        let expected = try epollCase.observe(libcEpollWait)
        #expect(try runInCoroutine { try epollCase.observe(Syscall.epoll_wait) } == expected)
    }

    @Test func aCoroutineInItsOwnEpollLetsOthersRun() throws {
        let scheduler = try Scheduler()
        let pair = try SocketPair()
        let epoll = oc_epoll_create()
        try #require(epoll >= 0)
        defer { close(epoll) }
        // Level-triggered interest in readability only, as a user's loop would register it.
        try #require(oc_epoll_add_wakeup(epoll, pair.left) == 0)
        let log = Mutex<[String]>([])
        scheduler.submit {
            var buffer = [UInt8](repeating: 0, count: epollEventSize * 4)
            let result = Syscall.epoll_wait(epoll, &buffer, 4, -1)
            log.withLock { $0.append("epoll_wait returned \(result)") }
        }
        scheduler.submitLateWriter("x", to: pair) { log.withLock { $0.append("writer runs") } }
        scheduler.run(until: .now + .seconds(5))
        #expect(log.withLock { $0 } == ["writer runs", "epoll_wait returned 1"])
    }
}
