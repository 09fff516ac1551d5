import Glibc
import Synchronization
import Testing
@testable import CoroutineCore

/// What a select showed its caller: result, errno, which of the pair's sockets each set
/// holds afterwards (descriptor numbers differ between runs), and the time left, in tenths
/// of a second (its microseconds differ between runs).
struct SelectObservation: Equatable {
    let result: Int32
    let error: Int32
    let sets: [[Bool]]
    let tenthsLeft: Int?
}

/// One select input, set up afresh for each implementation.
struct SelectCase: Sendable, CustomStringConvertible {
    let name: String
    let count: @Sendable (SocketPair) -> Int32
    let timeout: timeval?
    /// Per set (read, write, except): the descriptors to put in it, or nil for no set.
    let members: @Sendable (SocketPair) -> [[Int32]?]
    let setUp: @Sendable (SocketPair) -> Void

    var description: String { name }

    typealias Select = (Int32, UnsafeMutablePointer<fd_set>?, UnsafeMutablePointer<fd_set>?,
                        UnsafeMutablePointer<fd_set>?, UnsafeMutablePointer<timeval>?) -> Int32

    func observe(_ select: Select) throws -> SelectObservation {
        let pair = try SocketPair()
        setUp(pair)
        var sets = members(pair).map { $0.map(Self.set(of:)) }
        var time = timeout
        errno = Observation.untouchedErrno
        let result = Self.withSets(&sets) { read, write, except in
            if time == nil {
                return select(count(pair), read, write, except, nil)
            }
            return withUnsafeMutablePointer(to: &time!) { select(count(pair), read, write, except, $0) }
        }
        let error = errno
        let membership = sets.map { set in [pair.left, pair.right].map { Self.contains(set, $0) } }
        return SelectObservation(result: result, error: error, sets: membership,
                                 tenthsLeft: time.map { $0.tv_sec * 10 + $0.tv_usec / 100_000 })
    }

    private static func withSets(
        _ sets: inout [fd_set?],
        _ body: (UnsafeMutablePointer<fd_set>?, UnsafeMutablePointer<fd_set>?, UnsafeMutablePointer<fd_set>?) -> Int32
    ) -> Int32 {
        let pointers = sets.map { set -> UnsafeMutablePointer<fd_set>? in
            guard let set else { return nil }
            let pointer = UnsafeMutablePointer<fd_set>.allocate(capacity: 1)
            pointer.initialize(to: set)
            return pointer
        }
        defer { pointers.forEach { $0?.deallocate() } }
        let result = body(pointers[0], pointers[1], pointers[2])
        sets = pointers.map { $0?.pointee }
        return result
    }

    static func set(of descriptors: [Int32]) -> fd_set {
        var set = fd_set()
        withUnsafeMutableBytes(of: &set) { bytes in
            for fd in descriptors { bytes[Int(fd) / 8] |= 1 << UInt8(fd % 8) }
        }
        return set
    }

    static func contains(_ set: fd_set?, _ fd: Int32) -> Bool {
        guard var set else { return false }
        return withUnsafeBytes(of: &set) { $0[Int(fd) / 8] & (1 << UInt8(fd % 8)) != 0 }
    }

    static let second = timeval(tv_sec: 1, tv_usec: 0)
    static let brief = timeval(tv_sec: 0, tv_usec: 20_000)

    static let all: [SelectCase] = [
        SelectCase(name: "readable", count: { $0.left + 1 }, timeout: second,
                   members: { [[$0.left], nil, nil] }, setUp: { $0.write("x", to: $0.right) }),
        SelectCase(name: "not ready until the timeout", count: { $0.left + 1 }, timeout: brief,
                   members: { [[$0.left], nil, nil] }, setUp: { _ in }),
        SelectCase(name: "writable, no timeout", count: { max($0.left, $0.right) + 1 }, timeout: nil,
                   members: { [[$0.left], [$0.right], nil] }, setUp: { _ in }),
        SelectCase(name: "except set, nothing urgent", count: { $0.left + 1 }, timeout: brief,
                   members: { [nil, nil, [$0.left]] }, setUp: { _ in }),
        SelectCase(name: "closed descriptor", count: { _ in 1001 }, timeout: second,
                   members: { _ in [[1000], nil, nil] }, setUp: { _ in }),
        SelectCase(name: "negative count", count: { _ in -1 }, timeout: brief,
                   members: { [[$0.left], nil, nil] }, setUp: { _ in }),
        SelectCase(name: "invalid timeout", count: { $0.left + 1 }, timeout: timeval(tv_sec: 0, tv_usec: 1_000_000),
                   members: { [[$0.left], nil, nil] }, setUp: { _ in }),
        SelectCase(name: "no sets: a sleep", count: { _ in 0 }, timeout: brief,
                   members: { _ in [nil, nil, nil] }, setUp: { _ in }),
        SelectCase(name: "zero timeout", count: { $0.left + 1 }, timeout: timeval(tv_sec: 0, tv_usec: 0),
                   members: { [[$0.left], nil, nil] }, setUp: { _ in }),
    ]
}

@Suite struct SelectTests {
    @Test(arguments: SelectCase.all)
    func behavesLikeLibcOnAPlainThread(_ selectCase: SelectCase) throws {
        #expect(try selectCase.observe(Syscall.select) == selectCase.observe(Glibc.select))
    }

    @Test(arguments: SelectCase.all)
    func behavesLikeLibcInACoroutine(_ selectCase: SelectCase) throws {
        let expected = try selectCase.observe(Glibc.select)
        #expect(try runInCoroutine { try selectCase.observe(Syscall.select) } == expected)
    }

    @Test func aSelectingCoroutineLetsOthersRun() throws {
        let scheduler = try Scheduler()
        let pair = try SocketPair()
        let log = Mutex<[String]>([])
        scheduler.submit {
            var read = SelectCase.set(of: [pair.left])
            let result = Syscall.select(pair.left + 1, &read, nil, nil, nil)
            log.withLock { $0.append("select returned \(result)") }
        }
        scheduler.submitLateWriter("x", to: pair) { log.withLock { $0.append("writer runs") } }
        scheduler.run(until: .now + .seconds(5))
        #expect(log.withLock { $0 } == ["writer runs", "select returned 1"])
        #expect(!scheduler.eventLoop.hasWaiters)
    }
}
