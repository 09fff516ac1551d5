import DescriptorScenarios
import Foundation
import Glibc
import Synchronization
import Testing
@testable import CoroutineCore

/// Blocking-style sockets under the runtime: many coroutines on two threads, each written as
/// if it had a thread of its own.
extension CoroutineRuntimeTests {
    @Test func aThousandClientServerPairsLoseNoByte() throws {
        try OpenFileLimit.raise(toAtLeast: 4_000)
        signal(SIGPIPE, SIG_IGN)
        let runtime = CoroutineRuntime.shared
        try runtime.start(RuntimeConfiguration(threads: 2))
        defer { runtime.stop(timeout: .seconds(10)) }
        let (listener, address) = try DescriptorCalls.ours.listener()
        defer { _ = Syscall.close(listener) }
        let clients = 1_000
        let server = try runtime.spawn {
            var connections: [JoinHandle<Void>] = []
            for _ in 0..<clients {
                let connection = Syscall.accept(listener, nil, nil)
                guard connection >= 0 else { throw SystemError(operation: "accept", code: errno) }
                connections.append(try runtime.spawn { try echo(connection) })
            }
            for connection in connections {
                try connection.join()
            }
        }
        let sent = try (0..<clients).map { index in
            try runtime.spawn { () -> [UInt64] in
                let fd = Syscall.socket(AF_INET, streamSocket, 0)
                guard DescriptorCalls.ours.connect(fd, to: address) == 0 else {
                    throw SystemError(operation: "connect", code: errno)
                }
                defer { _ = Syscall.close(fd) }
                return try exchange(on: fd, seed: UInt64(index))
            }
        }
        for (index, client) in sent.enumerated() {
            let checksums = try client.join(timeout: .seconds(60))
            #expect(checksums[0] == checksums[1], "client \(index): sent \(checksums[0]), got back \(checksums[1])")
        }
        try server.join(timeout: .seconds(10))
    }

    /// Data and the end of the stream that arrive together make one readable edge: after the
    /// short read of the data, the next read returns 0 at once, as libc's does, instead of
    /// waiting for an edge that never comes (the soak's half-closes hung here).
    @Test func aShortReadBeforeTheEndOfTheStreamWaitsForNoOtherEdge() throws {
        let runtime = CoroutineRuntime.shared
        try runtime.start(RuntimeConfiguration(threads: 1))
        defer { runtime.stop(timeout: .seconds(10)) }
        let (reader, writer) = try DescriptorCalls.ours.pair()
        defer {
            _ = Syscall.close(reader)
            _ = Syscall.close(writer)
        }
        let reads = try runtime.spawn { () -> [Int] in
            var buffer = [UInt8](repeating: 0, count: 16_384)
            let data = Syscall.read(reader, &buffer, buffer.count)
            let end = Syscall.read(reader, &buffer, buffer.count)
            return [data, end]
        }
        try runtime.spawn {
            // Both at once on the only thread, while the reader waits: the event loop then
            // sees the data and the hang-up as one edge.
            _ = Syscall.write(writer, "twenty-one bytes long", 21)
            _ = Syscall.shutdown(writer, Int32(SHUT_WR))
        }
        #expect(try reads.join(timeout: .seconds(5)) == [21, 0])
    }

    @Test func closingADescriptorWakesItsReaderWithEBADF() throws {
        let runtime = CoroutineRuntime.shared
        try runtime.start(RuntimeConfiguration(threads: 2))
        defer { runtime.stop(timeout: .seconds(10)) }
        for closer in ["another coroutine", "a plain thread", "dup2 over it"] {
            let (reader, writer) = try DescriptorCalls.ours.pair()
            let blocked = try runtime.spawn { () -> (Int, Int32) in
                var byte: UInt8 = 0
                let result = Syscall.read(reader, &byte, 1)
                return (result, errno)
            }
            usleep(30_000)
            switch closer {
            case "another coroutine":
                _ = try runtime.spawn { Syscall.close(reader) }.join(timeout: .seconds(5))
            case "a plain thread":
                _ = Syscall.close(reader)
            default:
                let other = Syscall.socket(AF_UNIX, streamSocket, 0)
                _ = Syscall.dup2(other, reader)
                _ = Syscall.close(other)
                _ = Syscall.close(reader)
            }
            let (result, code) = try blocked.join(timeout: .seconds(5))
            #expect(result == -1 && code == EBADF, "closed by \(closer): read returned \(result), errno \(code)")
            _ = Syscall.close(writer)
        }
    }

    @Test func tenThousandBlockedReadersWakeWhenTheirDataArrives() throws {
        try OpenFileLimit.raise(toAtLeast: 10_500)
        let runtime = CoroutineRuntime.shared
        try runtime.start(RuntimeConfiguration(threads: 2, maxWorkers: 20_000))
        defer { runtime.stop(timeout: .seconds(10)) }
        let pairs = try (0..<5_000).map { _ in try DescriptorCalls.ours.pair() }
        let readers = try pairs.map { pair in
            try runtime.spawn { () -> Int in
                var buffer = [UInt8](repeating: 0, count: 8)
                return buffer.withUnsafeMutableBytes { Syscall.read(pair.0, $0.baseAddress, $0.count) }
            }
        }
        usleep(50_000)
        for pair in pairs {
            DescriptorCalls.ours.write(pair.1, "ready")
        }
        for reader in readers {
            #expect(try reader.join(timeout: .seconds(30)) == 5)
        }
        for pair in pairs {
            _ = Syscall.close(pair.0)
            _ = Syscall.close(pair.1)
        }
    }
}

/// Echoes what arrives on `fd` until the peer shuts down, then closes it.
private func echo(_ fd: Int32) throws {
    defer { _ = Syscall.close(fd) }
    var buffer = [UInt8](repeating: 0, count: 4_096)
    while true {
        let count = buffer.withUnsafeMutableBytes { Syscall.read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else {
            if count < 0 { throw SystemError(operation: "read", code: errno) }
            return
        }
        let written = buffer.withUnsafeBytes { Syscall.write(fd, $0.baseAddress, count) }
        guard written == count else { throw SystemError(operation: "write", code: errno) }
    }
}

/// Sends 16 KiB of pseudo-random bytes in uneven pieces, reads the echo back concurrently
/// with its own sending (one message at a time, so neither side fills up), and returns the
/// checksums of what was sent and what came back.
private func exchange(on fd: Int32, seed: UInt64) throws -> [UInt64] {
    var generator = SplitMix64(seed: seed)
    var sentSum: UInt64 = 0
    var receivedSum: UInt64 = 0
    var buffer = [UInt8](repeating: 0, count: 4_096)
    var total = 0
    while total < 16 << 10 {
        let size = Int(generator.next() % 2_000) + 1
        var message = [UInt8](repeating: 0, count: size)
        for index in message.indices {
            message[index] = UInt8(truncatingIfNeeded: generator.next())
        }
        sentSum = message.reduce(sentSum) { $0 &* 31 &+ UInt64($1) }
        guard message.withUnsafeBytes({ Syscall.write(fd, $0.baseAddress, size) }) == size else {
            throw SystemError(operation: "write", code: errno)
        }
        var received = 0
        while received < size {
            let count = buffer.withUnsafeMutableBytes { Syscall.read(fd, $0.baseAddress, size - received) }
            guard count > 0 else { throw SystemError(operation: "read", code: count < 0 ? errno : ECONNRESET) }
            receivedSum = buffer[..<count].reduce(receivedSum) { $0 &* 31 &+ UInt64($1) }
            received += count
        }
        total += size
    }
    _ = Syscall.shutdown(fd, Int32(SHUT_WR))
    return [sentSum, receivedSum]
}

extension CoroutineRuntimeTests {
    /// Closes, from a plain thread and from tasks on both threads, race with replies and with
    /// dup2 over the waited number: every blocked reader must end, with data or EBADF, and none
    /// may stay stranded on a stale registration.
    @Test func closesRacingWithRepliesNeverStrandAReader() throws {
        let runtime = CoroutineRuntime.shared
        try runtime.start(RuntimeConfiguration(threads: 2))
        defer { runtime.stop(timeout: .seconds(10)) }
        var random = SplitMix64(seed: 0xC105_E5ED)
        for round in 0..<300 {
            let pairs = try (0..<8).map { _ in try DescriptorCalls.ours.pair() }
            let replacements = pairs.map { _ in Syscall.socket(AF_UNIX, streamSocket, 0) }
            let waitsBefore = try #require(runtime.counters).syscallWaits
            let readers = try pairs.map { pair in
                try runtime.spawn { () -> Int32 in
                    var byte: UInt8 = 0
                    return Syscall.read(pair.0, &byte, 1) == 1 ? 0 : errno
                }
            }
            // Closing a number no reader waits on yet could let a reader find the number
            // reused by another test's descriptor: act once every reader is parked in its read.
            let parked = ContinuousClock.now + .seconds(5)
            while try #require(runtime.counters).syscallWaits < waitsBefore + UInt64(pairs.count), ContinuousClock.now < parked {
                usleep(100)
            }
            let choice = random.next()
            var stillOpen: [Int32] = replacements
            for (index, pair) in pairs.enumerated() {
                stillOpen.append(pair.1)
                switch (choice >> UInt64(index * 2)) % 4 {
                case 0:
                    _ = Syscall.close(pair.0)
                case 1:
                    DescriptorCalls.ours.write(pair.1, "x")
                    stillOpen.append(pair.0)
                case 2:
                    _ = try runtime.spawn { Syscall.close(pair.0) }.join(timeout: .seconds(5))
                default:
                    _ = Syscall.dup2(replacements[index], pair.0)
                    stillOpen.append(pair.0)
                }
            }
            for reader in readers {
                let code = try reader.join(timeout: .seconds(5))
                #expect(code == 0 || code == EBADF, "round \(round): a reader ended with errno \(code)")
            }
            for fd in stillOpen {
                _ = Syscall.close(fd)
            }
        }
    }
}
