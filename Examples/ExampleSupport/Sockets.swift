import Glibc

/// A call to the system that failed: what was asked and the error number it left.
public struct CallError: Error, CustomStringConvertible {
    public let operation: String
    public let code: Int32

    /// The failure of `operation`, with errno unless `code` is given.
    public init(_ operation: String, code: Int32 = errno) {
        self.operation = operation
        self.code = code
    }

    public var description: String {
        "\(operation): \(String(cString: strerror(code)))"
    }
}

/// A TCP socket listening on 127.0.0.1:`port`, and the port it got; port 0 lets the kernel
/// pick a free one.
public func listenOnLoopback(port: UInt16 = 0, backlog: Int32 = 128) throws(CallError) -> (fd: Int32, port: UInt16) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw CallError("socket") }
    // A port this process listened on a moment ago may still hold connections in TIME_WAIT.
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var address = loopbackAddress(port: port)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
        }
    }
    guard bound, listen(fd, backlog) == 0 else {
        let failure = CallError(bound ? "listen on port \(port)" : "bind to port \(port)")
        close(fd)
        throw failure
    }
    return (fd, UInt16(bigEndian: address.sin_port))
}

/// A TCP socket connected to 127.0.0.1:`port`.
public func connectToLoopback(port: UInt16) throws(CallError) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw CallError("socket") }
    var address = loopbackAddress(port: port)
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
    guard connected else {
        let failure = CallError("connect to port \(port)")
        close(fd)
        throw failure
    }
    return fd
}

/// Sends small writes at once: a ping-pong waits for every reply, and Nagle's algorithm would
/// hold a request back until the previous reply's acknowledgement.
public func setNoDelay(_ fd: Int32) {
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
}

/// Writes all of `bytes`: a plain blocking socket, unlike one the hooks manage, may take
/// fewer bytes than asked.
public func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(CallError) {
    var offset = 0
    while offset < bytes.count {
        let written = write(fd, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { throw CallError("write") }
        offset += written
    }
}

/// Fills `buffer` from `fd`; false when the peer closed before sending anything.
///
/// - Throws: `CallError` when the read fails or the peer closes part-way (`ECONNRESET`).
public func readExactly(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(CallError) -> Bool {
    var offset = 0
    while offset < buffer.count {
        let count = read(fd, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
        if count < 0 && errno == EINTR { continue }
        guard count >= 0 else { throw CallError("read") }
        guard count > 0 else {
            if offset == 0 { return false }
            throw CallError("read", code: ECONNRESET)
        }
        offset += count
    }
    return true
}

private func loopbackAddress(port: UInt16) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(INADDR_LOOPBACK).bigEndian
    return address
}
