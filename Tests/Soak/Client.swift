import CoroutineCore
import ExampleSupport
import Glibc
import OpenCoroutine
import Synchronization

/// When the client's phases end.
struct Schedule: Sendable {
    /// Round trips that start before this are not timed: the connections are still warming.
    let warmedUp: ContinuousClock.Instant
    /// No exchange starts after this.
    let end: ContinuousClock.Instant
}

/// The client's counters, shared by its tasks. Bytes count as sent before they are written
/// and as verified once their echo matched, so that whatever a failure or a stuck connection
/// leaves behind shows as lost.
final class ClientTally: Sendable {
    let connects = Atomic<Int>(0)
    let halfCloses = Atomic<Int>(0)
    let messages = Atomic<Int>(0)
    let sent = Atomic<Int>(0)
    let verified = Atomic<Int>(0)
    let errors = Atomic<Int>(0)

    /// Counts a failure and says what it was on stderr (the first few only: a broken run would
    /// otherwise print one line per connection).
    func fail(_ error: any Error, slot: Int) {
        if errors.add(1, ordering: .relaxed).newValue <= 10 { progress("client \(slot): \(error)") }
    }
}

/// An echo that differs from what was sent.
struct EchoMismatch: Error, CustomStringConvertible {
    let description: String
}

/// A message of random size and content, and the checksum its echo must have.
struct Message: Sendable {
    let bytes: [UInt8]
    let checksum: UInt64

    /// A message from `generator`: its size log-uniform between 1 B and 64 KiB, so that small
    /// messages are common and every size class up to 64 KiB comes up, and its bytes random.
    init(using generator: inout SplitMix64) {
        let size = min(Int(exp2(Double.random(in: 0...16, using: &generator))), 65_536)
        var bytes = [UInt8](repeating: 0, count: size)
        bytes.withUnsafeMutableBytes { buffer in
            for offset in stride(from: 0, to: size, by: 8) {
                let end = min(offset + 8, size)
                withUnsafeBytes(of: generator.next()) { buffer[offset..<end].copyBytes(from: $0.prefix(end - offset)) }
            }
        }
        self.bytes = bytes
        checksum = bytes.withUnsafeBytes(computeChecksum)
    }
}

/// The load of the soak, in a process of its own (see main.swift): `connections` connections
/// opened at once, then one task per connection exchanging messages until the schedule ends.
/// Prints `warmed` and `loaded` as each phase ends (and `tick` with each progress line), then
/// its figures as `name=value` lines, on stdout for the server's process to read.
func runClient(port: UInt16, connections: Int, seconds: Int, warmup: Int, seed: UInt64) throws {
    // One descriptor per connection, and room for the runtime's own (epoll, eventfds, rings).
    try OpenFileLimit.raise(toAtLeast: connections + 256)
    try withCoroutines(Config(stopTimeout: .seconds(5))) {
        let tally = ClientTally()
        let connectStart = ContinuousClock.now
        let connecting = try (0..<connections).map { _ in try co { try connect(to: port, tally: tally) } }
        // Every connection is open before the first exchange, so that all of them are open at
        // once. The bound keeps a connect that never completes from hanging the run.
        let connected = connectStart + connectBound
        let fds = try connecting.map { try $0.join(timeout: max(connected - .now, .zero)) }
        progress("\(connections) connections open in \((ContinuousClock.now - connectStart).readable)")

        let start = ContinuousClock.now
        let schedule = Schedule(warmedUp: start + .seconds(warmup), end: start + .seconds(seconds))
        let slots = try fds.enumerated().map { slot, fd in
            try co { runSlot(slot, on: fd, port: port, seed: seed, schedule: schedule, tally: tally) }
        }
        var warmed = false
        var next = start
        while next < schedule.end {
            next = min(next + progressInterval, schedule.end)
            // The warm-up is shorter than the run, so it ends in one of these intervals.
            if !warmed && schedule.warmedUp <= next {
                sleepThread(until: schedule.warmedUp)
                mark("warmed")
                warmed = true
            }
            sleepThread(until: next)
            progress("\((next - start).readable): \(tally.messages.load(ordering: .relaxed)) messages, "
                + "\(tally.verified.load(ordering: .relaxed) / 1_048_576) MiB echoed, "
                + "\(tally.errors.load(ordering: .relaxed)) errors")
            mark("tick")
        }
        mark("loaded")

        // Each slot finishes the exchange it is in; one that does not within the bound is
        // stuck, as it would be behind a lost wake-up.
        let drained = schedule.end + drainBound
        var latencies = LatencyHistogram()
        var stuck = 0
        for slot in slots {
            do {
                latencies.add(try slot.join(timeout: max(drained - .now, .zero)))
            } catch {
                stuck += 1
            }
        }
        if stuck > 0 {
            progress("\(stuck) connections still in an exchange \(drainBound) after the run's end")
            tally.errors.add(stuck, ordering: .relaxed)
        }
        let sent = tally.sent.load(ordering: .relaxed)
        let verified = tally.verified.load(ordering: .relaxed)
        print("""
            connects=\(tally.connects.load(ordering: .relaxed))
            half_closes=\(tally.halfCloses.load(ordering: .relaxed))
            messages=\(tally.messages.load(ordering: .relaxed))
            sent=\(sent)
            bytes=\(verified)
            bytes_lost=\(sent - verified)
            errors=\(tally.errors.load(ordering: .relaxed))
            p99_ms=\(latencies.quantileMilliseconds(0.99))
            """)
        flushOutput()
        // A stuck task would hold up the runtime's stop; the figures are out, so leave now.
        if stuck > 0 { _exit(1) }
    }
}

/// How long the connections may take to open.
private let connectBound = Duration.seconds(120)
/// How long after the run's end the last exchanges may take.
private let drainBound = Duration.seconds(30)
/// How often the client reports its progress on stderr.
private let progressInterval = Duration.seconds(10)

/// Tells the server's process that a phase ended.
private func mark(_ phase: String) {
    print(phase)
    flushOutput()
}

/// A new connection to the server, counted.
private func connect(to port: UInt16, tally: ClientTally) throws -> Int32 {
    let fd = try connectToLoopback(port: port)
    setNoDelay(fd)
    tally.connects.add(1, ordering: .relaxed)
    return fd
}

/// One client slot for the whole run: it exchanges messages on its connection and now and then
/// ends the connection, half the time with a half-close while messages are still in flight,
/// and connects again. Returns the round trips it timed; a failure ends the slot.
private func runSlot(
    _ slot: Int, on connection: Int32, port: UInt16, seed: UInt64, schedule: Schedule, tally: ClientTally
) -> LatencyHistogram {
    var generator = SplitMix64(seed: seed, stream: slot)
    var latencies = LatencyHistogram()
    var fd = connection
    do {
        while ContinuousClock.now < schedule.end {
            // One exchange in 64 ends the connection: the slots reconnect hundreds of times a
            // second in all, while most time goes to messages.
            switch generator.next(upperBound: 128 as UInt64) {
            case 0:
                let count = Int(generator.next(upperBound: 4 as UInt64)) + 1
                let messages = (0..<count).map { _ in Message(using: &generator) }
                try exchange(messages, on: fd, halfClose: true, tally: tally)
                tally.halfCloses.add(1, ordering: .relaxed)
                close(fd)
                fd = -1
                fd = try connect(to: port, tally: tally)
            case 1:
                close(fd)
                fd = -1
                fd = try connect(to: port, tally: tally)
            default:
                let started = ContinuousClock.now
                try exchange([Message(using: &generator)], on: fd, halfClose: false, tally: tally)
                if started >= schedule.warmedUp { latencies.record(.now - started) }
            }
        }
    } catch {
        tally.fail(error, slot: slot)
    }
    if fd >= 0 { close(fd) }
    return latencies
}

/// Writes `messages` back to back and reads each one's echo, checking its size and checksum;
/// with `halfClose`, shuts the connection's sending side down after the last message and then
/// reads to the end of the stream, which must come right after the last echo.
private func exchange(_ messages: [Message], on fd: Int32, halfClose: Bool, tally: ClientTally) throws {
    // The writer is a task of its own, so that the echo is read while the message is still
    // being written: a client that wrote 64 KiB before reading could fill every buffer between
    // it and the server, and then both would wait for each other forever.
    let writer = try co {
        for message in messages {
            tally.sent.add(message.bytes.count, ordering: .relaxed)
            try message.bytes.withUnsafeBytes { try writeAll(fd, $0) }
        }
        if halfClose && shutdown(fd, Int32(SHUT_WR)) != 0 { throw CallError("shutdown") }
    }
    do {
        for message in messages {
            try receiveEcho(of: message, on: fd)
            tally.verified.add(message.bytes.count, ordering: .relaxed)
            tally.messages.add(1, ordering: .relaxed)
        }
        if halfClose {
            var byte: UInt8 = 0
            let count = read(fd, &byte, 1)
            guard count == 0 else {
                throw count < 0 ? CallError("read to the end of the stream") as any Error
                    : EchoMismatch(description: "bytes after the last echo of a half-closed connection")
            }
        }
    } catch {
        // The writer may be waiting for room that the server will never make: end the
        // connection under it before waiting for it.
        shutdown(fd, Int32(SHUT_RDWR))
        _ = try? writer.join()
        throw error
    }
    try writer.join()
}

/// Reads the echo of `message` and checks it.
private func receiveEcho(of message: Message, on fd: Int32) throws {
    var echo = [UInt8](repeating: 0, count: message.bytes.count)
    guard try echo.withUnsafeMutableBytes({ try readExactly(fd, into: $0) }) else {
        throw EchoMismatch(description: "the server ended the stream with \(echo.count) bytes not echoed")
    }
    guard echo.withUnsafeBytes(computeChecksum) == message.checksum else {
        throw EchoMismatch(description: "the echo of \(echo.count) bytes differs from what was sent")
    }
}
