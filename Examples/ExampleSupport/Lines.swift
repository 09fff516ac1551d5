import Glibc

/// A connected socket that carries text lines ending in "\n"; closed when released.
public final class LineConnection {
    public let fd: Int32
    /// Bytes read past the last line returned: TCP delivers a stream, not messages.
    private var pending: [UInt8] = []

    public init(fd: Int32) {
        self.fd = fd
    }

    deinit {
        close(fd)
    }

    /// The next line without its "\n", or nil when the peer has closed.
    public func readLine() throws(CallError) -> String? {
        while true {
            if let end = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<end], as: UTF8.self)
                pending.removeSubrange(...end)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 512)
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw CallError("read") }
            guard count > 0 else { return nil }
            pending += chunk[..<count]
        }
    }

    public func writeLine(_ line: String) throws {
        let bytes = Array((line + "\n").utf8)
        try bytes.withUnsafeBytes { try writeAll(fd, $0) }
    }
}

/// The server's side of a conversation: answers every line with "echo: " and the line, until
/// the client closes; returns how many lines it answered.
public func answerLines(on connection: LineConnection) throws -> Int {
    var answered = 0
    while let line = try connection.readLine() {
        try connection.writeLine("echo: \(line)")
        answered += 1
    }
    return answered
}

/// The client's side: client `id` connects to `port`, sends three lines one at a time, waiting
/// for each answer; returns what it sent and got, one line per exchange.
public func talk(toPort port: UInt16, asClient id: Int) throws -> [String] {
    let connection = LineConnection(fd: try connectToLoopback(port: port))
    return try ["hello", "how are you?", "bye"].map { message in
        try connection.writeLine(message)
        guard let answer = try connection.readLine() else {
            throw CallError("read an answer to client \(id)", code: ECONNRESET)
        }
        return "client \(id) sent \"\(message)\", got \"\(answer)\""
    }
}
