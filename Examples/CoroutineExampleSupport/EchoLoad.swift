import ExampleSupport
import Glibc
import OpenCoroutine

/// What a run of `runEchoLoad` measured.
public struct EchoLoadReport: CustomStringConvertible {
    public let connections: Int
    public let ports: ClosedRange<UInt16>
    public let connectTime: Duration
    public let requests: Int
    public let elapsed: Duration
    /// Every round trip's time, in nanoseconds, sorted.
    private let latencies: [Int64]

    init(connections: Int, ports: ClosedRange<UInt16>, connectTime: Duration, latencies: [Int64], elapsed: Duration) {
        self.connections = connections
        self.ports = ports
        self.connectTime = connectTime
        self.requests = latencies.count
        self.elapsed = elapsed
        self.latencies = latencies.sorted()
    }

    public var requestsPerSecond: Double {
        Double(requests) / elapsed.seconds
    }

    /// The round trip time that `fraction` of the requests did not exceed.
    public func latency(_ fraction: Double) -> Duration {
        guard let last = latencies.indices.last else { return .zero }
        return .nanoseconds(latencies[min(last, Int(Double(latencies.count) * fraction))])
    }

    public var description: String {
        """
        client: \(connections) connections across ports \(ports.lowerBound)-\(ports.upperBound) in \(connectTime.readable)
        client: \(requests) requests in \(elapsed.readable): \(Int(requestsPerSecond)) requests/s
        client: latency p50 \(latency(0.5).readable), p90 \(latency(0.9).readable), \
        p99 \(latency(0.99).readable), max \(latency(1).readable)
        """
    }
}

/// The size of each request: small, so the figures measure round trips rather than bandwidth.
private let payloadSize = 64

/// The load client of the echo server: opens `connections` connections, one task each, spread
/// over the ports of `ports` in turn, then runs a ping-pong on each for `duration`: send 64
/// bytes, wait for the same 64 bytes back, send the next. Every echo is checked.
///
/// - Throws: `CallError` when a connection fails, closes or echoes something else.
public func runEchoLoad(ports: ClosedRange<UInt16>, connections: Int, duration: Duration) throws -> EchoLoadReport {
    let connectStart = ContinuousClock.now
    let connecting = try (0..<connections).map { index in
        try co { () throws -> Int32 in
            let fd = try connectToLoopback(port: ports.lowerBound + UInt16(index % ports.count))
            setNoDelay(fd)
            return fd
        }
    }
    var fds: [Int32] = []
    defer { fds.forEach { close($0) } }
    for handle in connecting { fds.append(try handle.join()) }
    let connectTime = ContinuousClock.now - connectStart

    let start = ContinuousClock.now
    let deadline = start + duration
    let pingers = try fds.enumerated().map { index, fd in
        try co { try pingPong(on: fd, connection: index, until: deadline) }
    }
    var latencies: [Int64] = []
    for pinger in pingers { latencies += try pinger.join() }
    return EchoLoadReport(
        connections: connections, ports: ports, connectTime: connectTime, latencies: latencies,
        elapsed: ContinuousClock.now - start)
}

/// Round trips on one connection until `deadline`; their times in nanoseconds.
private func pingPong(on fd: Int32, connection: Int, until deadline: ContinuousClock.Instant) throws -> [Int64] {
    var latencies: [Int64] = []
    var request = [UInt8](repeating: UInt8(ascii: "."), count: payloadSize)
    var echo = [UInt8](repeating: 0, count: payloadSize)
    while ContinuousClock.now < deadline {
        // Each request differs, so an echo from the wrong connection or a stale one shows.
        let label = Array("\(connection):\(latencies.count)".utf8.prefix(payloadSize))
        request.replaceSubrange(..<label.count, with: label)
        let sent = ContinuousClock.now
        try request.withUnsafeBytes { try writeAll(fd, $0) }
        let complete = try echo.withUnsafeMutableBytes { try readExactly(fd, into: $0) }
        guard complete, echo == request else {
            throw CallError("echo on connection \(connection)", code: complete ? EBADMSG : ECONNRESET)
        }
        let (seconds, attoseconds) = (ContinuousClock.now - sent).components
        latencies.append(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
    return latencies
}
