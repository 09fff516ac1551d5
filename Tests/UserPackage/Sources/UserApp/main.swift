// Plain blocking code, as a user writes it: Foundation's Thread.sleep, usleep, a socket server
// read through FileHandle and socket clients, each in its own task on 2 threads. Every line it
// prints is checked by scripts/test-user-package.sh.
import Foundation
import Glibc
import OpenCoroutine

/// Listens on 127.0.0.1 at a port the kernel picks; returns the socket and the port.
func listenOnLoopback() throws -> (socket: Int32, port: UInt16) {
    let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
            bind(listener, generic, length) == 0 && listen(listener, 128) == 0
                && getsockname(listener, generic, &length) == 0
        }
    }
    guard listener >= 0, bound else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    return (listener, UInt16(bigEndian: address.sin_port))
}

/// Connects to 127.0.0.1:`port`, sends `message` and returns the reply, with blocking calls.
func exchange(_ message: String, port: UInt16) -> String {
    let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(client) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
    guard connected, write(client, message, message.utf8.count) == message.utf8.count else { return "" }
    var reply = [UInt8](repeating: 0, count: 256)
    let count = read(client, &reply, reply.count)
    return String(decoding: reply[..<max(count, 0)], as: UTF8.self)
}

let clock = ContinuousClock()
try withCoroutines(Config(threads: 2)) {
    // 200 sleeps of 200 ms: about 20 s one after another, about 0.2 s as tasks.
    let start = clock.now
    let sleepers = try (0..<200).map { n in
        try co {
            if n.isMultiple(of: 2) { Thread.sleep(forTimeInterval: 0.2) } else { usleep(200_000) }
        }
    }
    for sleeper in sleepers { try sleeper.join() }
    print("sleepers=200 concurrent=\(clock.now - start < .seconds(2))")

    // An echo server reading through FileHandle, each connection a task, and 50 clients.
    let (listener, port) = try listenOnLoopback()
    let server = try co {
        for _ in 0..<50 {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            try co {
                let handle = FileHandle(fileDescriptor: connection, closeOnDealloc: true)
                let request = handle.availableData
                usleep(100_000)
                try handle.write(contentsOf: Data("echo: ".utf8) + request)
            }
        }
    }
    let echoStart = clock.now
    let clients = try (0..<50).map { n in try co { exchange("hello \(n)", port: port) } }
    let replies = try clients.enumerated().filter { n, client in try client.join() == "echo: hello \(n)" }
    try server.join()
    close(listener)
    print("echoed=\(replies.count) concurrent=\(clock.now - echoStart < .seconds(2))")
}
print("stopped")
