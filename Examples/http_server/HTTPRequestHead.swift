import Glibc

/// What the server needs of a request's head: its route, how its connection goes on, and how
/// many body bytes follow.
struct HTTPRequestHead {
    /// Why a head cannot be answered normally; each ends the connection after its response.
    enum Failure: Error {
        /// Not HTTP/1.x's syntax: 400.
        case malformed
        /// A body in chunked transfer coding, which this server does not read: 501.
        case chunkedBody
    }

    enum Method { case get, head, other }

    var method: Method
    /// The request target as sent (`/plaintext`).
    var target: ArraySlice<UInt8>
    /// Whether the connection stays open after the response.
    var keepAlive: Bool
    /// The body's length from Content-Length, which follows the head.
    var bodyLength: Int

    /// Parses `head`: the request line and header lines, without the blank line that ends them.
    init(parsing head: ArraySlice<UInt8>) throws(Failure) {
        var lines = head.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line in
            line.last == UInt8(ascii: "\r") ? line.dropLast() : line
        }[...]
        guard let requestLine = lines.popFirst() else { throw .malformed }
        let parts = requestLine.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[1].first == UInt8(ascii: "/") else { throw .malformed }
        let version = parts[2]
        guard version.elementsEqual("HTTP/1.1".utf8) || version.elementsEqual("HTTP/1.0".utf8) else { throw .malformed }
        method = parts[0].elementsEqual("GET".utf8) ? .get : parts[0].elementsEqual("HEAD".utf8) ? .head : .other
        target = parts[1]
        // HTTP/1.1 keeps the connection unless told to close; 1.0 closes unless told to keep it.
        keepAlive = version.last == UInt8(ascii: "1")
        bodyLength = 0
        for line in lines {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon != line.startIndex else { throw .malformed }
            let name = line[..<colon]
            let value = trimmed(line[(colon + 1)...])
            if equalsIgnoringCase(name, "content-length") {
                guard let length = Int(String(decoding: value, as: UTF8.self)), length >= 0 else { throw .malformed }
                bodyLength = length
            } else if equalsIgnoringCase(name, "transfer-encoding") {
                throw .chunkedBody
            } else if equalsIgnoringCase(name, "connection") {
                if equalsIgnoringCase(value, "close") { keepAlive = false }
                if equalsIgnoringCase(value, "keep-alive") { keepAlive = true }
            }
        }
    }
}

/// `bytes` without the spaces and tabs around it.
private func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
    let blank: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
    guard let first = bytes.firstIndex(where: { !blank($0) }), let last = bytes.lastIndex(where: { !blank($0) }) else {
        return bytes[bytes.startIndex..<bytes.startIndex]
    }
    return bytes[first...last]
}

/// Whether `bytes` spell `lowercase` in any case (header names and tokens are ASCII).
private func equalsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ lowercase: StaticString) -> Bool {
    guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
    return zip(bytes, UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)).allSatisfy { byte, expected in
        (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte) == expected
    }
}
