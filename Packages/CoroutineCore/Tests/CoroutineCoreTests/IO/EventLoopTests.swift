import Foundation
import Glibc
import Synchronization
import Testing
@testable import CoroutineCore

/// A connected pair of non-blocking stream sockets, closed at the end.
final class SocketPair: @unchecked Sendable {
    // @unchecked Sendable: two descriptors, used by one party each.
    let left: Int32
    let right: Int32

    init() throws {
        var fds: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        left = fds[0]
        right = fds[1]
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
    }

    deinit {
        close(left)
        close(right)
    }

    /// Reads what is there, or nil on EAGAIN.
    func read(from fd: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = Glibc.read(fd, &buffer, buffer.count)
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
    }

    func write(_ text: String, to fd: Int32) {
        _ = text.utf8CString.withUnsafeBufferPointer { Glibc.write(fd, $0.baseAddress, $0.count - 1) }
    }
}

@Suite struct EventLoopTests {
    @Test func aCoroutineWaitsForReadabilityWhileOthersRun() throws {
        let scheduler = try Scheduler()
        let pair = try SocketPair()
        let log = Mutex<[String]>([])
        scheduler.submit {
            #expect(pair.read(from: pair.left) == nil)
            let readiness = try Scheduler.waitUntilReady(pair.left, for: .readable)
            #expect(readiness == .ready)
            log.withLock { $0.append("read \(pair.read(from: pair.left) ?? "nothing")") }
        }
        scheduler.submitLateWriter("ping", to: pair) { log.withLock { $0.append("writer runs") } }
        scheduler.run(until: .now + .seconds(5))
        #expect(log.withLock { $0 } == ["writer runs", "read ping"])
    }

    @Test func waitsTimeOut() throws {
        let scheduler = try Scheduler()
        let pair = try SocketPair()
        let result = Mutex<Scheduler.Readiness?>(nil)
        let start = ContinuousClock.now
        scheduler.submit {
            let readiness = try Scheduler.waitUntilReady(pair.left, for: .readable, deadline: .now + .milliseconds(30))
            result.withLock { $0 = readiness }
        }
        scheduler.run(until: .now + .seconds(5))
        #expect(result.withLock { $0 } == .timedOut)
        #expect(ContinuousClock.now - start >= .milliseconds(30))
        // The timed-out wait no longer counts, so run(until:) returned as soon as all was done.
        #expect(ContinuousClock.now - start < .seconds(2))
        #expect(!scheduler.eventLoop.hasWaiters)
    }

    @Test func closingADescriptorEndsItsWaitsAsClosed() throws {
        let scheduler = try Scheduler()
        var fds: [Int32] = [0, 0]
        try #require(Syscall.socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        let (waited, peer) = (fds[0], fds[1])
        defer { _ = Syscall.close(peer) }
        let result = Mutex<Scheduler.Readiness?>(nil)
        scheduler.submit {
            let readiness = try Scheduler.waitUntilReady(waited, for: .readable)
            result.withLock { $0 = readiness }
        }
        scheduler.submit {
            try Scheduler.sleep(for: .milliseconds(5))
            _ = Syscall.close(waited)
        }
        scheduler.run(until: .now + .seconds(5))
        #expect(result.withLock { $0 } == .closed)
        #expect(scheduler.eventLoop.registeredCount == 0)
    }

    @Test func timersOfWaitsThatEndedOtherwiseDoNotPileUp() throws {
        // Reads with a one-hour timeout whose data comes at once: each leaves a timer that
        // nobody waits for, and the scheduler must not keep them all for an hour.
        let scheduler = try Scheduler()
        let pair = try SocketPair()
        let waits = 10_000
        scheduler.submit {
            for _ in 0..<waits {
                scheduler.submit { pair.write("x", to: pair.right) }
                guard try Scheduler.waitUntilReady(pair.left, for: .readable, deadline: .now + .seconds(3_600)) == .ready else {
                    Issue.record("a wait did not end ready")
                    return
                }
                _ = pair.read(from: pair.left)
            }
        }
        let start = ContinuousClock.now
        scheduler.run(until: .now + .seconds(30))
        #expect(ContinuousClock.now - start < .seconds(20), "run(until:) waited for timers nobody waits for")
        #expect(scheduler.queuedTimerCount < 2_048)
        #expect(!scheduler.hasTimers)
    }

    @Test func writabilityIsReportedAtOnce() throws {
        let scheduler = try Scheduler()
        let pair = try SocketPair()
        let result = Mutex<Scheduler.Readiness?>(nil)
        scheduler.submit {
            let readiness = try Scheduler.waitUntilReady(pair.left, for: .writable, deadline: .now + .seconds(5))
            result.withLock { $0 = readiness }
        }
        scheduler.run(until: .now + .seconds(5))
        #expect(result.withLock { $0 } == .ready)
    }

    @Test func aRegularFileIsWaitedForByTheKernel() throws {
        // epoll refuses regular files; poll(2) reports them ready, as they always are.
        let scheduler = try Scheduler()
        let file = open("/proc/self/stat", O_RDONLY)
        defer { close(file) }
        let result = Mutex<Scheduler.Readiness?>(nil)
        scheduler.submit {
            let readiness = try Scheduler.waitUntilReady(file, for: .readable)
            result.withLock { $0 = readiness }
        }
        scheduler.run(until: .now + .seconds(5))
        #expect(result.withLock { $0 } == .ready)
        #expect(scheduler.eventLoop.registeredCount == 0)
    }

    @Test func plainThreadsWaitInPoll() throws {
        let pair = try SocketPair()
        #expect(try Scheduler.waitUntilReady(pair.left, for: .readable, deadline: .now + .milliseconds(10)) == .timedOut)
        pair.write("x", to: pair.right)
        #expect(try Scheduler.waitUntilReady(pair.left, for: .readable, deadline: .now + .seconds(5)) == .ready)
        #expect(throws: SystemError(operation: "poll", code: EBADF)) {
            try Scheduler.waitUntilReady(-1, for: .readable, deadline: .now + .seconds(1))
        }
    }

    @Test func aParkedLoopWakesForAnotherThread() throws {
        let loop = try EventLoop()
        let start = ContinuousClock.now
        let waker = Thread {
            usleep(20_000)
            loop.unpark()
        }
        waker.start()
        loop.park(timeoutNanoseconds: 10_000_000_000)
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func anUnparkBeforeTheParkIsNotLost() throws {
        let loop = try EventLoop()
        loop.unpark()
        let start = ContinuousClock.now
        loop.park(timeoutNanoseconds: 10_000_000_000)
        #expect(ContinuousClock.now - start < .seconds(1))
    }
}
