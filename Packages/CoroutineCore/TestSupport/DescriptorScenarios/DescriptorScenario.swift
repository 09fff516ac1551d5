import Foundation
import Glibc

/// What a sequence of calls showed its caller, line by line: results and errno, with
/// descriptor numbers reduced to "fd" (they differ between runs) and data as text.
public final class Transcript: @unchecked Sendable {
    // @unchecked Sendable: written by the one thread or coroutine running the scenario.
    public private(set) var lines: [String] = []

    /// An empty transcript.
    public init() {}

    /// Records a call's result and, when it failed, errno.
    @discardableResult
    public func note<Result: BinaryInteger>(_ label: String, _ result: Result) -> Result {
        let code = errno
        lines.append(result < 0 ? "\(label): -1 errno \(code)" : "\(label): \(result)")
        return result
    }

    /// Records a call that returns a descriptor.
    @discardableResult
    public func descriptor(_ label: String, _ result: Int32) -> Int32 {
        let code = errno
        lines.append(result < 0 ? "\(label): -1 errno \(code)" : "\(label): fd")
        return result
    }

    /// Records something the scenario observed.
    public func fact(_ label: String, _ value: some CustomStringConvertible) {
        lines.append("\(label): \(value)")
    }

    /// Records a read and the text it returned.
    public func read(_ label: String, _ outcome: (Int, String)) {
        let code = errno
        fact(label, outcome.0 < 0 ? "-1 errno \(code)" : "\(outcome.0) \"\(outcome.1)\"")
    }
}

/// A sequence of descriptor calls that a differential test runs through two implementations
/// (`DescriptorCalls`), where each may run on a plain thread or in a coroutine: the
/// transcripts must be equal.
public struct DescriptorScenario: Sendable, CustomStringConvertible {
    public let name: String
    let body: @Sendable (DescriptorCalls, Transcript) throws -> Void

    public var description: String { name }

    /// Runs the scenario through `calls`; the transcript's lines.
    ///
    /// - Throws: `ScenarioError` when setting up the sockets the scenario needs fails.
    public func run(_ calls: DescriptorCalls) throws -> [String] {
        let transcript = Transcript()
        try body(calls, transcript)
        return transcript.lines
    }
}

/// A call that a scenario's setup needed failed.
public struct ScenarioError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The call that failed.
    public let operation: String
    /// Its errno.
    public let code: Int32

    public init(operation: String, code: Int32) {
        self.operation = operation
        self.code = code
    }

    public var description: String {
        "\(operation) failed: \(String(cString: strerror(code))) (errno \(code))"
    }
}

/// A descriptor number far above anything the tests open, so never open.
public let neverOpen: Int32 = 99_999

/// SOCK_STREAM as the calls take it.
public let streamSocket = Int32(SOCK_STREAM.rawValue)

extension DescriptorCalls {
    /// A connected pair of blocking Unix sockets of `type`.
    public func pair(_ type: Int32 = streamSocket) throws(ScenarioError) -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, type, 0, &fds) == 0 else { throw ScenarioError(operation: "socketpair", code: errno) }
        return (fds[0], fds[1])
    }

    /// A TCP socket listening on 127.0.0.1 at a port the kernel chose, and that port.
    public func listener(flags: Int32 = 0) throws(ScenarioError) -> (fd: Int32, address: sockaddr_in) {
        let fd = socket(AF_INET, streamSocket | flags, 0)
        guard fd >= 0 else { throw ScenarioError(operation: "socket", code: errno) }
        let address = try bindToLoopback(fd)
        guard listen(fd, 1_024) == 0 else { throw ScenarioError(operation: "listen", code: errno) }
        return (fd, address)
    }

    /// Connects `fd` to `address`.
    public func connect(_ fd: Int32, to address: sockaddr_in) -> Int32 {
        var address = address
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    /// Writes `text`; the count written.
    @discardableResult
    public func write(_ fd: Int32, _ text: String) -> Int {
        Array(text.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// Reads up to `capacity` bytes: the count (or -1) and the text read.
    public func read(_ fd: Int32, capacity: Int = 256) -> (Int, String) {
        var buffer = [UInt8](repeating: 0, count: capacity)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, capacity) }
        return (count, count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : "")
    }
}

/// Runs `body` on a new plain thread after `delay`: the other party of a blocking call. It
/// calls through the scenario's table from that thread, also when the scenario itself runs in
/// a coroutine.
public func later(_ delay: Duration, _ body: @escaping @Sendable () -> Void) {
    Thread.detachNewThread {
        Thread.sleep(forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
        body()
    }
}

/// How long `body` ran, and its result.
public func timed<Result>(_ body: () -> Result) -> (Result, Duration) {
    let start = ContinuousClock.now
    let result = body()
    return (result, ContinuousClock.now - start)
}

/// Binds `fd` to 127.0.0.1 at a port the kernel chooses, and returns the address it got.
public func bindToLoopback(_ fd: Int32) throws(ScenarioError) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
        }
    }
    guard bound else { throw ScenarioError(operation: "bind", code: errno) }
    return address
}
