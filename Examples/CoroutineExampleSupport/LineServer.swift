import ExampleSupport
import Glibc
import OpenCoroutine

/// Accepts `count` clients on `listener`, answers each one's lines in a task of its own and
/// returns once all of them are done; prints a line per client served.
///
/// The calls are plain Glibc ones: in a task, the hooks make each wait suspend only that task.
public func serveLineClients(_ count: Int, on listener: Int32) throws {
    let sessions = try (1...count).map { _ in
        let fd = accept(listener, nil, nil)
        guard fd >= 0 else { throw CallError("accept") }
        return try co { () throws -> Int in try answerLines(on: LineConnection(fd: fd)) }
    }
    for (number, session) in sessions.enumerated() {
        print("server: answered \(try session.join()) lines of connection \(number + 1)")
    }
}

/// Runs clients 1 to `count` at once against `port`, each in a task, and prints their
/// exchanges, client by client.
public func runLineClients(_ count: Int, port: UInt16) throws {
    let clients = try (1...count).map { id in try co { try talk(toPort: port, asClient: id) } }
    for client in clients {
        for line in try client.join() { print(line) }
    }
}
