// socket_co_client: the client half of socket_co as a program of its own. It runs N clients
// at once (3 unless --clients says otherwise), each a task that connects to 127.0.0.1:PORT
// with plain blocking Glibc calls, sends 3 lines and waits for every answer. Start
// socket_co_server first and pass the port it printed.
//
// Prints:
//   client 1 sent "hello", got "echo: hello"
//   client 1 sent "how are you?", got "echo: how are you?"
//   client 1 sent "bye", got "echo: bye"
//   ... the same for the other clients
import CoroutineExampleSupport
import ExampleSupport
import OpenCoroutine

exampleMain(usage: "socket_co_client PORT [--clients N]", options: ["--clients"]) { arguments in
    let port = try arguments.port(at: 0)
    let clients = try arguments.integer("--clients", default: 3, in: 1...10_000)
    try withCoroutines(Config(threads: 2)) {
        try runLineClients(clients, port: port)
    }
}
