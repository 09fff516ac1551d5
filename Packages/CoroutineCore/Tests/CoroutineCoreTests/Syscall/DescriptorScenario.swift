import Foundation
import Glibc
import Synchronization
@testable import CoroutineCore

/// What a sequence of calls showed its caller, line by line: results and errno, with
/// descriptor numbers reduced to "fd" (they differ between runs) and data as text.
final class Transcript: @unchecked Sendable {
    // @unchecked Sendable: written by the one thread or coroutine running the scenario.
    private(set) var lines: [String] = []

    /// Records a call's result and, when it failed, errno.
    @discardableResult
    func note<Result: BinaryInteger>(_ label: String, _ result: Result) -> Result {
        let code = errno
        lines.append(result < 0 ? "\(label): -1 errno \(code)" : "\(label): \(result)")
        return result
    }

    /// Records a call that returns a descriptor.
    @discardableResult
    func descriptor(_ label: String, _ result: Int32) -> Int32 {
        let code = errno
        lines.append(result < 0 ? "\(label): -1 errno \(code)" : "\(label): fd")
        return result
    }

    func fact(_ label: String, _ value: some CustomStringConvertible) {
        lines.append("\(label): \(value)")
    }
}

/// A sequence of descriptor calls, run through libc on a plain thread, through the Syscall
/// layer on a plain thread and through the Syscall layer in a coroutine: the three
/// transcripts must be equal.
struct DescriptorScenario: Sendable, CustomStringConvertible {
    let name: String
    let body: @Sendable (DescriptorCalls, Transcript) throws -> Void

    var description: String { name }

    func run(_ calls: DescriptorCalls) throws -> [String] {
        let transcript = Transcript()
        try body(calls, transcript)
        return transcript.lines
    }
}

/// A descriptor number far above anything the tests open, so never open.
let neverOpen: Int32 = 99_999

/// SOCK_STREAM as the calls take it.
let streamSocket = Int32(SOCK_STREAM.rawValue)

extension DescriptorCalls {
    /// A connected pair of blocking Unix sockets of `type`.
    func pair(_ type: Int32 = streamSocket) throws -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, type, 0, &fds) == 0 else { throw SystemError(operation: "socketpair", code: errno) }
        return (fds[0], fds[1])
    }

    /// A TCP socket listening on 127.0.0.1 at a port the kernel chose, and that port.
    func listener(flags: Int32 = 0) throws -> (fd: Int32, address: sockaddr_in) {
        let fd = socket(AF_INET, streamSocket | flags, 0)
        guard fd >= 0 else { throw SystemError(operation: "socket", code: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound, listen(fd, 1_024) == 0 else { throw SystemError(operation: "bind", code: errno) }
        return (fd, address)
    }

    /// Connects `fd` to `address`.
    func connect(_ fd: Int32, to address: sockaddr_in) -> Int32 {
        var address = address
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    /// Writes `text`; the count written.
    @discardableResult
    func write(_ fd: Int32, _ text: String) -> Int {
        Array(text.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// Reads up to `capacity` bytes: the count (or -1) and the text read.
    func read(_ fd: Int32, capacity: Int = 256) -> (Int, String) {
        var buffer = [UInt8](repeating: 0, count: capacity)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, capacity) }
        return (count, count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : "")
    }
}

extension Transcript {
    /// Records a read and the text it returned.
    func read(_ label: String, _ outcome: (Int, String)) {
        let code = errno
        fact(label, outcome.0 < 0 ? "-1 errno \(code)" : "\(outcome.0) \"\(outcome.1)\"")
    }
}

/// Runs `body` on a new thread after `delay`: the other party of a blocking call.
func later(_ delay: Duration, _ body: @escaping @Sendable () -> Void) {
    Thread.detachNewThread {
        Thread.sleep(forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
        body()
    }
}

/// Seconds elapsed while `body` ran, and its result.
func timed<Result>(_ body: () -> Result) -> (Result, Duration) {
    let start = ContinuousClock.now
    let result = body()
    return (result, ContinuousClock.now - start)
}
