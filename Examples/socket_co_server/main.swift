// socket_co_server: the server half of socket_co as a program of its own. It listens on a
// port of 127.0.0.1 that the kernel picks, prints it, accepts N clients (3 unless --clients
// says otherwise) and answers each one's lines in a task of its own with plain blocking Glibc
// calls, then exits. Run socket_co_client with the port it printed.
//
// Prints:
//   server: listening on 127.0.0.1:<port>
//   server: answered 3 lines of connection 1
//   ... one line per client
import CoroutineExampleSupport
import ExampleSupport
import Glibc
import OpenCoroutine

exampleMain(usage: "socket_co_server [--clients N]", options: ["--clients"]) { arguments in
    let clients = try arguments.integer("--clients", default: 3, in: 1...10_000)
    try withCoroutines(Config(threads: 2)) {
        let (listener, port) = try listenOnLoopback()
        defer { close(listener) }
        print("server: listening on 127.0.0.1:\(port)")
        flushOutput()
        try co { try serveLineClients(clients, on: listener) }.join()
    }
}
