import ExampleSupport
import Glibc
import OpenCoroutine
import Synchronization

/// The server under soak: one task accepting on 127.0.0.1 and one task per connection that
/// reads and writes back, in plain blocking Glibc calls that the hook library turns into
/// suspensions. Unlike the examples' echo server it counts what it echoed and every call that
/// failed: the client never resets a connection, so any failure is one the runtime caused.
final class SoakServer: Sendable {
    /// The port the kernel picked.
    let port: UInt16
    private let listener: Int32
    private let acceptor: JoinHandle<Void>
    private let tally = ServerTally()

    /// Listens and starts accepting; call it with the runtime running.
    init() throws {
        // The client connects thousands of times at once; the kernel caps this at somaxconn.
        (listener, port) = try listenOnLoopback(backlog: 65_535)
        let (listener, tally) = (listener, tally)
        do {
            acceptor = try co { acceptClients(on: listener, tally: tally) }
        } catch {
            close(listener)
            throw error
        }
    }

    /// Connections open right now.
    var open: Int { tally.open.load(ordering: .relaxed) }
    /// Bytes echoed by the connections that ended.
    var bytes: Int { tally.bytes.load(ordering: .relaxed) }
    /// Failed calls: accepts, reads and writes.
    var errors: Int { tally.errors.load(ordering: .relaxed) }

    /// Stops accepting once the client is gone. A connection whose task has not seen its
    /// client's close within `grace` counts as an error, as a wake-up the runtime lost would.
    func stop(grace: Duration) {
        let deadline = ContinuousClock.now + grace
        while open > 0 && ContinuousClock.now < deadline {
            sleepThread(until: .now + .milliseconds(10))
        }
        if open > 0 {
            progress("\(open) server connections still open \(grace) after the client exited")
            tally.errors.add(open, ordering: .relaxed)
        }
        // shutdown rather than close: the acceptor still waits on the descriptor, and the
        // hang-up ends its wait.
        shutdown(listener, Int32(SHUT_RDWR))
        try? acceptor.join()
        close(listener)
    }
}

/// The server's counters, shared by its tasks.
private final class ServerTally: Sendable {
    let open = Atomic<Int>(0)
    let bytes = Atomic<Int>(0)
    let errors = Atomic<Int>(0)

    /// Counts a failed call and says which on stderr (the first few only: a broken run would
    /// otherwise print one line per connection).
    func fail(_ error: any Error) {
        if errors.add(1, ordering: .relaxed).newValue <= 10 { progress("server: \(error)") }
    }
}

/// Accepts until the listener is shut down, one echo task per client.
private func acceptClients(on listener: Int32, tally: ServerTally) {
    while true {
        let fd = accept(listener, nil, nil)
        guard fd >= 0 else {
            if errno == EINTR || errno == ECONNABORTED { continue }
            // EINVAL is the shutdown that `stop` makes; anything else is a failure.
            if errno != EINVAL { tally.fail(CallError("accept")) }
            return
        }
        setNoDelay(fd)
        tally.open.add(1, ordering: .relaxed)
        do {
            try co { echo(fd, tally: tally) }
        } catch {
            tally.fail(error)
            tally.open.subtract(1, ordering: .relaxed)
            close(fd)
        }
    }
}

/// The most one read takes. The buffer is on the task's stack, and 10,000 of them are resident
/// at once: 16 KiB echoes the larger messages in a few reads without a large footprint.
private let readSize = 16 * 1024

/// Reads and writes back until the client's end of the stream, then closes. The close comes
/// after the last echo has been written, so a client that half-closed reads everything back
/// before its end of the stream.
private func echo(_ fd: Int32, tally: ServerTally) {
    var echoed = 0
    defer {
        close(fd)
        tally.bytes.add(echoed, ordering: .relaxed)
        tally.open.subtract(1, ordering: .relaxed)
    }
    withUnsafeTemporaryAllocation(byteCount: readSize, alignment: 16) { buffer in
        while true {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return tally.fail(CallError("read")) }
            guard count > 0 else { return }
            do {
                try writeAll(fd, UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            } catch {
                return tally.fail(error)
            }
            echoed += count
        }
    }
}
