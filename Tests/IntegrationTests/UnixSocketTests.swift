import Foundation
import Glibc
import OpenCoroutine
import Synchronization
import Testing

/// A Unix-domain stream listener at a fresh path, with the backlog given.
private struct UnixListener {
    let fd: Int32
    let path: String

    init(backlog: Int32) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("oc-\(getpid())-\(UUID().uuidString.prefix(8))").path
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.address(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard fd >= 0, bound == 0, listen(fd, backlog) == 0 else { throw POSIXError(.EADDRNOTAVAIL) }
    }

    static func address(_ path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { bytes in
            for (index, byte) in path.utf8.prefix(bytes.count - 1).enumerated() { bytes[index] = byte }
        }
        return address
    }

    /// Connects a new socket, blocking unless `nonBlocking`; the socket, and errno on failure.
    func connectClient(nonBlocking: Bool = false) -> (fd: Int32, result: Int32, error: Int32) {
        let type = Int32(SOCK_STREAM.rawValue) | (nonBlocking ? Int32(SOCK_NONBLOCK.rawValue) : 0)
        let client = socket(AF_UNIX, type, 0)
        var address = Self.address(path)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(client, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return (client, result, result == 0 ? 0 : errno)
    }

    func close() {
        Glibc.close(fd)
        unlink(path)
    }
}

extension SharedRuntimeTests {
    /// Unix-domain stream sockets: a full backlog makes a blocking connect wait (Linux's
    /// non-blocking connect answers EAGAIN there, not EINPROGRESS), and accept serves them all.
    @Suite struct UnixSocketTests {
        @Test func blockingConnectsWaitForRoomInAFullBacklog() throws {
            let listener = try UnixListener(backlog: 1)
            defer { listener.close() }
            try withSharedRuntime { runtime in
                let served = Atomic<Int>(0)
                let server = try runtime.spawn {
                    // Late, so that the backlog is full and connects wait for room.
                    usleep(100_000)
                    for _ in 0..<50 {
                        let connection = accept(listener.fd, nil, nil)
                        guard connection >= 0 else { return }
                        var byte: UInt8 = 0
                        if read(connection, &byte, 1) == 1, write(connection, &byte, 1) == 1 {
                            served.add(1, ordering: .relaxed)
                        }
                        close(connection)
                    }
                }
                let clients = try (0..<50).map { index in
                    try runtime.spawn { () -> Int32 in
                        let (client, result, error) = listener.connectClient()
                        defer { close(client) }
                        guard result == 0 else { return -error }
                        var byte = UInt8(index)
                        guard write(client, &byte, 1) == 1 else { return -errno }
                        byte = 0
                        return read(client, &byte, 1) == 1 ? Int32(byte) : -errno
                    }
                }
                let echoed = try clients.map { try $0.join(timeout: .seconds(10)) }
                try server.join(timeout: .seconds(10))
                #expect(echoed == (0..<50).map(Int32.init))
                #expect(served.load(ordering: .relaxed) == 50)
            }
        }

        /// A user's non-blocking connect to a full backlog answers as libc's: -1, EAGAIN.
        @Test func aNonBlockingConnectToAFullBacklogAnswersEAGAINAsLibc() throws {
            let listener = try UnixListener(backlog: 0)
            defer { listener.close() }
            // Fill the backlog from a plain thread, with libc's own behaviour.
            var filling: [Int32] = []
            var plain = listener.connectClient(nonBlocking: true)
            while plain.result == 0, filling.count < 16 {
                filling.append(plain.fd)
                plain = listener.connectClient(nonBlocking: true)
            }
            close(plain.fd)
            defer { filling.forEach { close($0) } }
            #expect(plain.result == -1 && plain.error == EAGAIN)
            let inTask = try withSharedRuntime { runtime in
                try runtime.spawn { () -> [Int32] in
                    let attempt = listener.connectClient(nonBlocking: true)
                    close(attempt.fd)
                    return [attempt.result, attempt.error]
                }.join(timeout: .seconds(10))
            }
            #expect(inTask == [-1, EAGAIN])
        }
    }
}
