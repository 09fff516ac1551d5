import ExampleSupport
import Glibc
import OpenCoroutine
import Synchronization

/// The echo server of the NtyCo lecture: one coroutine accepting on each of 100 consecutive
/// ports of 127.0.0.1 and one coroutine per client that reads and writes back, all in plain
/// blocking calls. Every 1,000 accepted clients it prints how long that thousand took.
public final class EchoServer: Sendable {
    /// The ports listened on, consecutive.
    public let ports: ClosedRange<UInt16>
    private let listeners: [Int32]
    private let acceptors: [JoinHandle<Void>]
    private let clients = Clients()

    /// Listens on `portCount` consecutive ports and starts accepting; call it with the runtime
    /// running.
    public init(portCount: Int = 100) throws {
        let (base, listeners) = try listenOnConsecutivePorts(portCount)
        ports = base...(base + UInt16(portCount - 1))
        self.listeners = listeners
        let clients = clients
        do {
            acceptors = try listeners.map { listener in try co { acceptClients(on: listener, into: clients) } }
        } catch {
            listeners.forEach { close($0) }
            throw error
        }
    }

    /// Stops accepting, ends every open connection and returns how many clients were accepted.
    public func stop() -> Int {
        // shutdown rather than close: a listener's number cannot be reused while its acceptor
        // still waits on it, and the hang-up ends the wait.
        listeners.forEach { shutdown($0, Int32(SHUT_RDWR)) }
        for acceptor in acceptors { try? acceptor.join() }
        listeners.forEach { close($0) }
        return clients.stop()
    }
}

/// How many attempts to find a run of free ports before giving up.
private let portSearchAttempts = 50

/// Listens on `count` consecutive ports below the kernel's ephemeral range: ports there are
/// never the local end of an outgoing connection, so thousands of recent client connections in
/// TIME_WAIT (after a load test) cannot leave every run of 100 with a taken port. A run with a
/// port in use starts the search over at another random base.
private func listenOnConsecutivePorts(_ count: Int) throws(CallError) -> (base: UInt16, listeners: [Int32]) {
    let bases = 10_000...(ephemeralPortsStart() - count)
    for _ in 1...portSearchAttempts {
        let base = UInt16(Int.random(in: bases))
        if let listeners = try listenOnPorts(base..<(base + UInt16(count))) {
            return (base, listeners)
        }
    }
    throw CallError("find \(count) consecutive free ports in \(portSearchAttempts) attempts", code: EADDRINUSE)
}

/// The first port of the kernel's range for the local end of outgoing connections (32768
/// unless configured otherwise).
private func ephemeralPortsStart() -> Int {
    let range = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
    let first = range.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 32_768
    return max(first, 12_000)
}

/// Listeners on every port of `ports`, or nil when one of them is taken.
private func listenOnPorts(_ ports: Range<UInt16>) throws(CallError) -> [Int32]? {
    var listeners: [Int32] = []
    for port in ports {
        do {
            listeners.append(try listenOnLoopback(port: port).fd)
        } catch {
            listeners.forEach { close($0) }
            guard error.code == EADDRINUSE else { throw error }
            return nil
        }
    }
    return listeners
}

/// Accepts until the listener is shut down, one echo task per client.
private func acceptClients(on listener: Int32, into clients: Clients) {
    while true {
        let fd = accept(listener, nil, nil)
        guard fd >= 0 else {
            if errno == EINTR || errno == ECONNABORTED { continue }
            return
        }
        setNoDelay(fd)
        guard clients.admit(fd) else {
            close(fd)
            continue
        }
        do {
            try co { echo(fd, clients: clients) }
        } catch {
            clients.release(fd)
        }
    }
}

/// Reads and writes back until the client closes or `stop` shuts the connection down.
private func echo(_ fd: Int32, clients: Clients) {
    defer { clients.release(fd) }
    withUnsafeTemporaryAllocation(byteCount: 4096, alignment: 16) { buffer in
        while true {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count < 0 && errno == EINTR { continue }
            // A reset or a shutdown ends the connection like an orderly close.
            guard count > 0, (try? writeAll(fd, UnsafeRawBufferPointer(rebasing: buffer[..<count]))) != nil else { return }
        }
    }
}

/// The open connections, so that `stop` can end them, and the count of accepted clients.
private final class Clients: Sendable {
    private struct State {
        var open: Set<Int32> = []
        var stopped = false
        var accepted = 0
        var thousandStarted = ContinuousClock.now
    }

    private let state = Mutex(State())

    /// Records a new client, and prints the time of each thousand; false once stopped.
    func admit(_ fd: Int32) -> Bool {
        let (admitted, report) = state.withLock { state -> (Bool, String?) in
            guard !state.stopped else { return (false, nil) }
            state.open.insert(fd)
            state.accepted += 1
            guard state.accepted % 1_000 == 0 else { return (true, nil) }
            let now = ContinuousClock.now
            defer { state.thousandStarted = now }
            return (true, "server: \(state.accepted) clients accepted, the last 1000 in \((now - state.thousandStarted).readable)")
        }
        if let report { print(report) }
        return admitted
    }

    /// Forgets and closes a client's socket. Both under the lock: `stop` must never shut down
    /// a number that a new socket reuses.
    func release(_ fd: Int32) {
        state.withLock { state in
            state.open.remove(fd)
            close(fd)
        }
    }

    /// Refuses further clients and shuts down the open connections, whose tasks then see the
    /// end of the stream and finish; returns how many clients were accepted.
    func stop() -> Int {
        state.withLock { state in
            state.stopped = true
            state.open.forEach { shutdown($0, Int32(SHUT_RDWR)) }
            return state.accepted
        }
    }
}
