import ExampleSupport
import Glibc

/// One client's connection: reads requests, answers each in order, and closes when the client
/// does, when a request asks to, or when a request cannot be answered.
struct HTTPConnection {
    /// The most a request head may take (431 beyond it); also the read buffer's size.
    static let headLimit = 8192

    private let fd: Int32
    /// Bytes read and not parsed yet: `input[start..<end]`.
    private var input = [UInt8](repeating: 0, count: headLimit)
    private var start = 0
    private var end = 0
    /// Body bytes of the last request still to arrive and be dropped.
    private var bodyToSkip = 0
    private var date = HTTPDate()

    init(_ fd: Int32) {
        self.fd = fd
    }

    /// Serves until the connection ends, then closes it.
    mutating func serve() {
        defer { close(fd) }
        var output: [UInt8] = []
        output.reserveCapacity(4096)
        while readMore() {
            // Every request the read completed, answered in one write.
            let open = answerBufferedRequests(into: &output)
            guard send(output) else { return }
            output.removeAll(keepingCapacity: true)
            guard open else { return }
        }
    }

    /// Writes all of `bytes`; false when the connection failed.
    private func send(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { bytes in
            do {
                try writeAll(fd, bytes)
                return true
            } catch {
                return false
            }
        }
    }

    /// Reads what the client sent next; false when it closed or the connection failed.
    private mutating func readMore() -> Bool {
        if start == end {
            (start, end) = (0, 0)
        } else if end == input.count {
            // A head that does not fit yet: move it to the front. A full buffer holding one
            // unfinished head is answered by `answerBufferedRequests` before this.
            // Copying forward is safe: every byte moves to a lower index.
            for index in 0..<(end - start) { input[index] = input[start + index] }
            (start, end) = (0, end - start)
        }
        while true {
            let count = input.withUnsafeMutableBytes { bytes in
                read(fd, UnsafeMutableRawBufferPointer(rebasing: bytes[end...]).baseAddress, bytes.count - end)
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return false }
            end += count
            return true
        }
    }

    /// Appends the response of every complete request in the buffer to `output`; false when
    /// the connection must close after them.
    private mutating func answerBufferedRequests(into output: inout [UInt8]) -> Bool {
        while true {
            let skipped = min(bodyToSkip, end - start)
            start += skipped
            bodyToSkip -= skipped
            guard bodyToSkip == 0, let headEnd = headEnd() else { break }
            let head: HTTPRequestHead
            do {
                head = try HTTPRequestHead(parsing: input[start..<headEnd])
            } catch {
                output.append(contentsOf: error == .malformed ? Responses.badRequest : Responses.chunkedBody)
                return false
            }
            start = headEnd + 4
            bodyToSkip = head.bodyLength
            respond(to: head, into: &output)
            guard head.keepAlive else { return false }
        }
        // No complete head, and none will fit: the client sent more header than allowed.
        if start == 0 && end == input.count {
            output.append(contentsOf: Responses.headTooLarge)
            return false
        }
        return true
    }

    /// Where the blank line ending the buffered head starts, if it has arrived.
    private func headEnd() -> Int? {
        let (cr, lf) = (UInt8(ascii: "\r"), UInt8(ascii: "\n"))
        return input.withUnsafeBufferPointer { bytes in
            var index = start
            while index + 3 < end {
                if bytes[index + 3] == lf && bytes[index + 2] == cr && bytes[index + 1] == lf && bytes[index] == cr {
                    return index
                }
                index += 1
            }
            return nil
        }
    }

    private mutating func respond(to head: HTTPRequestHead, into output: inout [UInt8]) {
        guard head.target.elementsEqual("/plaintext".utf8) else {
            return output.append(contentsOf: Responses.notFound)
        }
        guard head.method != .other else { return output.append(contentsOf: Responses.methodNotAllowed) }
        output.append(contentsOf: Responses.plaintextHead)
        output.append(contentsOf: date.current())
        output.append(contentsOf: head.keepAlive ? Responses.endOfHead : Responses.closeAndEndOfHead)
        if head.method == .get { output.append(contentsOf: Responses.plaintextBody) }
    }
}

/// The fixed parts of every response, as bytes once.
private enum Responses {
    static let plaintextBody = Array("Hello, World!".utf8)
    static let plaintextHead = Array(
        "HTTP/1.1 200 OK\r\nServer: OpenCoroutine\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nDate: ".utf8
    )
    static let endOfHead = Array("\r\n\r\n".utf8)
    static let closeAndEndOfHead = Array("\r\nConnection: close\r\n\r\n".utf8)
    static let notFound = Array("HTTP/1.1 404 Not Found\r\nServer: OpenCoroutine\r\nContent-Length: 0\r\n\r\n".utf8)
    static let methodNotAllowed = Array(
        "HTTP/1.1 405 Method Not Allowed\r\nServer: OpenCoroutine\r\nAllow: GET, HEAD\r\nContent-Length: 0\r\n\r\n".utf8
    )
    static let badRequest = closing("400 Bad Request")
    static let headTooLarge = closing("431 Request Header Fields Too Large")
    static let chunkedBody = closing("501 Not Implemented")

    private static func closing(_ status: String) -> [UInt8] {
        Array("HTTP/1.1 \(status)\r\nServer: OpenCoroutine\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
    }
}

/// The Date header's value (RFC 9110's IMF-fixdate), formatted again only when the second
/// changes. Formatted by hand: strftime's day and month names follow the locale.
struct HTTPDate {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    private var second: time_t = -1
    private var text: [UInt8] = []

    mutating func current() -> [UInt8] {
        var now = time(nil)
        guard now != second else { return text }
        var parts = tm()
        gmtime_r(&now, &parts)
        func twoDigits(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let day = Self.days[Int(parts.tm_wday)], month = Self.months[Int(parts.tm_mon)]
        let clock = "\(twoDigits(parts.tm_hour)):\(twoDigits(parts.tm_min)):\(twoDigits(parts.tm_sec))"
        text = Array("\(day), \(twoDigits(parts.tm_mday)) \(month) \(1900 + parts.tm_year) \(clock) GMT".utf8)
        second = now
        return text
    }
}
