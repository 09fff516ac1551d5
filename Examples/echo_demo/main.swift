// echo_demo, what `make run` runs: echo_server and echo_client in one process, with no server
// to start first. The server listens on 100 consecutive ports of 127.0.0.1 with a coroutine
// accepting on each and a coroutine per client; the client opens --connections connections
// (1000 unless given), a task each, spread over the 100 ports, and runs a 64-byte ping-pong on
// each for --seconds (5 unless given). Both sides are plain blocking Glibc calls made in tasks,
// on the runtime's threads (one per CPU).
//
// Prints:
//   server: listening on 127.0.0.1 ports <base>-<base + 99>, one coroutine accepting on each
//   server: 1000 clients accepted, the last 1000 in <time>
//   client: 1000 connections across ports <base>-<base + 99> in <time>
//   client: <n> requests in <time>: <n> requests/s
//   client: latency p50 <time>, p90 <time>, p99 <time>, max <time>
//   server: stopped after 1000 clients
import CoroutineCore
import CoroutineExampleSupport
import ExampleSupport
import OpenCoroutine

exampleMain(usage: "echo_demo [--connections N] [--seconds S]", options: ["--connections", "--seconds"]) { arguments in
    let connections = try arguments.integer("--connections", default: 1_000, in: 1...20_000)
    let seconds = try arguments.integer("--seconds", default: 5, in: 1...3_600)
    // Both ends of every connection are in this process.
    try OpenFileLimit.raise(toAtLeast: 2 * connections + 256)
    try withCoroutines {
        let server = try EchoServer()
        print("server: listening on 127.0.0.1 ports \(server.ports.lowerBound)-\(server.ports.upperBound), one coroutine accepting on each")
        // The server stops whatever the load's outcome: its acceptors would keep the runtime up.
        let load = Result { try runEchoLoad(ports: server.ports, connections: connections, duration: .seconds(seconds)) }
        let accepted = server.stop()
        print(try load.get())
        print("server: stopped after \(accepted) clients")
    }
}
