import ExampleSupport
import Foundation
import Testing

/// Examples/http_server as a client meets it: keep-alive, pipelining, requests that arrive in
/// pieces, bad requests, and hundreds of connections at once. The server runs as a child
/// process with a time limit of its own (`--seconds`), so a hang fails the test.
@Suite struct HTTPServerTests {
    /// A running server and its port; it exits by itself after `--seconds 30`.
    private static func startServer() throws -> (server: BackgroundExample, port: UInt16) {
        let server = try BackgroundExample("http_server", arguments: ["--seconds", "30"])
        let line = try server.line(containing: "port=")
        let port = try #require(UInt16(line.dropFirst("port=".count)), "no port in \(line)")
        return (server, port)
    }

    @Test func pipelinedRequestsAreAnsweredInOrderOnOneConnection() throws {
        let (server, port) = try Self.startServer()
        let client = try HTTPClient(port: port)
        try client.send(
            "GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n"
                + "GET /plaintext HTTP/1.1\r\nhost: a\r\nACCEPT: */*\r\n\r\n"
                + "GET /other HTTP/1.1\r\n\r\n"
                + "POST /plaintext HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
                + "HEAD /plaintext HTTP/1.1\r\nConnection: close\r\n\r\n"
        )
        let ok = "HTTP/1.1 200 OK\r\nServer: OpenCoroutine\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nDate: D\r\n"
        let expected = ok + "\r\nHello, World!" + ok + "\r\nHello, World!"
            + "HTTP/1.1 404 Not Found\r\nServer: OpenCoroutine\r\nContent-Length: 0\r\n\r\n"
            + "HTTP/1.1 405 Method Not Allowed\r\nServer: OpenCoroutine\r\nAllow: GET, HEAD\r\nContent-Length: 0\r\n\r\n"
            + ok + "Connection: close\r\n\r\n"
        #expect(try withoutDates(client.readToEnd()) == expected)
        _ = server
    }

    @Test func aRequestArrivingByteByByteIsAnswered() throws {
        let (server, port) = try Self.startServer()
        let client = try HTTPClient(port: port)
        for byte in "GET /plaintext HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" {
            try client.send(String(byte))
            usleep(1_000)
        }
        let response = try withoutDates(client.readToEnd())
        #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(response.hasSuffix("Connection: close\r\n\r\nHello, World!"))
        _ = server
    }

    @Test(arguments: [
        ("garbage\r\n\r\n", "400 Bad Request"),
        ("GET /plaintext HTTP/2.0\r\n\r\n", "400 Bad Request"),
        ("GET /plaintext HTTP/1.1\r\nno colon\r\n\r\n", "400 Bad Request"),
        ("GET /plaintext HTTP/1.1\r\nContent-Length: -3\r\n\r\n", "400 Bad Request"),
        ("POST /plaintext HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "501 Not Implemented"),
        // A head longer than 8 KiB, its size spelled out so the test's name stays readable.
        ("8200-byte header", "431 Request Header Fields Too Large"),
    ])
    func aRequestItCannotAnswerGetsItsStatusAndTheConnectionCloses(request: String, status: String) throws {
        let (server, port) = try Self.startServer()
        let client = try HTTPClient(port: port)
        let longHeader = "GET /plaintext HTTP/1.1\r\nX-Long: " + String(repeating: "a", count: 8200)
        try client.send(request == "8200-byte header" ? longHeader : request)
        let response = try client.readToEnd()
        #expect(response == "HTTP/1.1 \(status)\r\nServer: OpenCoroutine\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        _ = server
    }

    @Test func anHTTP10RequestClosesUnlessItAsksToKeepAlive() throws {
        let (server, port) = try Self.startServer()
        let client = try HTTPClient(port: port)
        try client.send("GET /plaintext HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\nGET /plaintext HTTP/1.0\r\n\r\n")
        let response = try withoutDates(client.readToEnd())
        #expect(response.components(separatedBy: "Hello, World!").count == 3)
        #expect(response.hasSuffix("Connection: close\r\n\r\nHello, World!"))
        _ = server
    }

    @Test func threeHundredConnectionsKeptAliveAreAllServed() throws {
        let (server, port) = try Self.startServer()
        let clients = try (0..<300).map { _ in try HTTPClient(port: port) }
        for round in 1...5 {
            for client in clients { try client.send("GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n") }
            for client in clients {
                let response = try client.read(until: "Hello, World!")
                #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"), "round \(round): \(response)")
            }
        }
        _ = server
    }
}

/// The response text with every Date header's value replaced by `D`.
private func withoutDates(_ response: String) -> String {
    response.replacing(#/Date: [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT/#, with: "Date: D")
}

/// A blocking client connection to the server, reading with a time limit.
private final class HTTPClient {
    private let fd: Int32
    private var received = Data()

    init(port: UInt16) throws {
        fd = try connectToLoopback(port: port)
    }

    deinit {
        close(fd)
    }

    func send(_ text: String) throws {
        try Array(text.utf8).withUnsafeBytes { bytes in try writeAll(fd, bytes) }
    }

    /// Everything until the server closes the connection (within 10 s).
    func readToEnd() throws -> String {
        while try receive() {}
        return String(decoding: received, as: UTF8.self)
    }

    /// What arrived up to and including the first `marker` not read before (within 10 s).
    func read(until marker: String) throws -> String {
        while true {
            if let range = received.range(of: Data(marker.utf8)) {
                let text = String(decoding: received[..<range.upperBound], as: UTF8.self)
                received.removeSubrange(..<range.upperBound)
                return text
            }
            guard try receive() else { throw CallError("read: the server closed before \(marker)", code: 0) }
        }
    }

    /// Appends what arrives next; false when the server closed.
    private func receive() throws -> Bool {
        var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&ready, 1, 10_000) == 1 else { throw CallError("poll: nothing within 10 s", code: ETIMEDOUT) }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = Glibc.read(fd, &buffer, buffer.count)
        // A reset after the last response counts as the close it is.
        if count < 0 && errno == ECONNRESET { return false }
        guard count >= 0 else { throw CallError("read") }
        received.append(contentsOf: buffer[..<count])
        return count > 0
    }
}
