// socket_not_co: socket_co on plain threads, without the runtime or the hook library: the
// same server and clients, with a thread wherever socket_co has a task. The blocking calls are
// libc's own, so every connection holds a thread while it waits (7 threads here, where
// socket_co needs the runtime's 2).
//
// Prints (the server's lines may come in another order):
//   server: listening on 127.0.0.1:<port>
//   client 1 sent "hello", got "echo: hello"
//   ... 3 lines per client, clients 1 to 3
//   server: answered 3 lines of connection 1
//   ... the same for connections 2 and 3
import ExampleSupport
import Glibc

exampleMain(usage: "socket_not_co") { _ in
    let clients = 3
    let (listener, port) = try listenOnLoopback()
    defer { close(listener) }
    print("server: listening on 127.0.0.1:\(port)")
    let server = try PlainThread {
        try (1...clients).map { _ in
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { throw CallError("accept") }
            return try PlainThread { try answerLines(on: LineConnection(fd: fd)) }
        }
    }
    let talkers = try (1...clients).map { id in try PlainThread { try talk(toPort: port, asClient: id) } }
    for talker in talkers {
        for line in try talker.join() { print(line) }
    }
    for (number, session) in try server.join().enumerated() {
        print("server: answered \(try session.join()) lines of connection \(number + 1)")
    }
}
