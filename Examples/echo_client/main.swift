// echo_client: the load client for echo_server. It opens --connections connections (1000
// unless given), one task each, spread over the 100 consecutive ports starting at BASE_PORT,
// then runs a ping-pong on each for --seconds (5 unless given): send 64 bytes, wait for the
// same 64 bytes back, send the next. Every echo is checked. All plain blocking Glibc calls.
//
// Prints:
//   client: 1000 connections across ports <base>-<base + 99> in <time>
//   client: <n> requests in <time>: <n> requests/s
//   client: latency p50 <time>, p90 <time>, p99 <time>, max <time>
import CoroutineCore
import CoroutineExampleSupport
import ExampleSupport
import OpenCoroutine

exampleMain(usage: "echo_client BASE_PORT [--connections N] [--seconds S]", options: ["--connections", "--seconds"]) { arguments in
    let base = try arguments.port(at: 0, named: "BASE_PORT")
    let connections = try arguments.integer("--connections", default: 1_000, in: 1...50_000)
    let seconds = try arguments.integer("--seconds", default: 5, in: 1...3_600)
    guard base <= UInt16.max - 99 else { throw UsageError(description: "BASE_PORT \(base): the 100 ports must end by 65535") }
    try OpenFileLimit.raise(toAtLeast: connections + 256)
    try withCoroutines {
        print(try runEchoLoad(ports: base...(base + 99), connections: connections, duration: .seconds(seconds)))
    }
}
