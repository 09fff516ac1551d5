// A probe for the name-lookup tests (Tests/IntegrationTests/NameLookupTests.swift): a slow DNS
// server on 127.x.y.z:53 that answers every A query with 10.0.0.1 after a delay, and a runtime
// of 2 scheduler threads whose tasks look names up at once with plain getaddrinfo.
//
//   dns_probe ADDRESS LOOKUPS DELAY_MS
//
// The test runs it in a mount namespace whose /etc/resolv.conf names ADDRESS. It prints
// `resolved=N elapsed_ms=T` once every lookup returned.
import Foundation
import Glibc
import OpenCoroutine

let arguments = CommandLine.arguments
guard arguments.count == 4, let lookups = Int(arguments[2]), let delay = UInt32(arguments[3]) else {
    FileHandle.standardError.write(Data("usage: dns_probe ADDRESS LOOKUPS DELAY_MS\n".utf8))
    exit(2)
}

/// The server's socket, bound to port 53 of `address`.
func serverSocket(on address: String) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    var local = sockaddr_in()
    local.sin_family = sa_family_t(AF_INET)
    local.sin_port = UInt16(53).bigEndian
    inet_pton(AF_INET, address, &local.sin_addr)
    let bound = withUnsafePointer(to: &local) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard fd >= 0, bound == 0 else {
        FileHandle.standardError.write(Data("dns_probe: cannot bind \(address):53 (errno \(errno))\n".utf8))
        exit(1)
    }
    return fd
}

/// The answer to `query`: its question, and for an A question the address 10.0.0.1.
@Sendable func answer(to query: [UInt8]) -> [UInt8]? {
    guard query.count > 12 else { return nil }
    var end = 12
    while end < query.count, query[end] != 0 { end += Int(query[end]) + 1 }
    guard end + 5 <= query.count else { return nil }
    let question = query[12...(end + 4)]
    let isA = query[end + 1] == 0 && query[end + 2] == 1
    var reply = Array(query[0..<2]) + [0x81, 0x80, 0, 1, 0, isA ? 1 : 0, 0, 0, 0, 0] + question
    if isA {
        reply += [0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1]
    }
    return reply
}

/// Answers every query `delay` milliseconds after it came, each on a thread of its own.
func serve(_ fd: Int32) {
    Thread.detachNewThread {
        while true {
            var buffer = [UInt8](repeating: 0, count: 512)
            var peer = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let count = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &length) }
            }
            guard count > 0, let reply = answer(to: Array(buffer[..<count])) else { continue }
            let (client, clientLength) = (peer, length)
            Thread.detachNewThread {
                usleep(delay * 1_000)
                var client = client
                _ = withUnsafePointer(to: &client) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, reply, reply.count, 0, $0, clientLength) }
                }
            }
        }
    }
}

serve(serverSocket(on: arguments[1]))
try withCoroutines(Config(threads: 2)) {
    let start = ContinuousClock.now
    let tasks = try (0..<lookups).map { index in
        try co { () -> Bool in
            var hints = addrinfo()
            hints.ai_family = AF_INET
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var result: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo("host-\(index).probe.test", nil, &hints, &result) == 0, let found = result else { return false }
            defer { freeaddrinfo(found) }
            return found.pointee.ai_addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                $0.pointee.sin_addr.s_addr == UInt32(0x0A00_0001).bigEndian
            }
        }
    }
    let resolved = try tasks.filter { try $0.join() }.count
    let elapsed = ContinuousClock.now - start
    print("resolved=\(resolved) elapsed_ms=\(elapsed.components.seconds * 1_000 + elapsed.components.attoseconds / 1_000_000_000_000_000)")
}
