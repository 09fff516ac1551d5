// socket_co: a TCP server and its clients as tasks of one process, all written with plain
// blocking Glibc calls (socket, accept, connect, read, write). The server task accepts 3
// clients and answers each in a task of its own; the 3 client tasks each send 3 lines and wait
// for every answer. The hooks make each wait suspend only its task, so all of it runs on the
// runtime's 2 threads. socket_co_server and socket_co_client are the same halves as separate
// programs; socket_not_co does it on plain threads.
//
// Prints (the server's lines may come in another order):
//   server: listening on 127.0.0.1:<port>
//   client 1 sent "hello", got "echo: hello"
//   client 1 sent "how are you?", got "echo: how are you?"
//   client 1 sent "bye", got "echo: bye"
//   ... the same for clients 2 and 3
//   server: answered 3 lines of connection 1
//   ... the same for connections 2 and 3
import CoroutineExampleSupport
import ExampleSupport
import Glibc
import OpenCoroutine

exampleMain(usage: "socket_co") { _ in
    let clients = 3
    try withCoroutines(Config(threads: 2)) {
        let (listener, port) = try listenOnLoopback()
        defer { close(listener) }
        print("server: listening on 127.0.0.1:\(port)")
        let server = try co { try serveLineClients(clients, on: listener) }
        try runLineClients(clients, port: port)
        try server.join()
    }
}
