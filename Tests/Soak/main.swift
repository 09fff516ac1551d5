// soak: the echo server on the hook layer under a long, checked load (`make soak`, and a short
// run in `make test`). The server is plain blocking Glibc code in tasks: one task accepting on
// 127.0.0.1 (a port the kernel picks) and one per connection. The client opens --connections
// connections at once (10,000 unless given) and, on each, exchanges messages of random size
// (1 B to 64 KiB, log-uniform) and content for --seconds (60 unless given); every echo is
// checked against the size and checksum of what was sent. One exchange in 64 ends the
// connection, half of those with a half-close while 1 to 4 messages are still in flight
// (shutdown(SHUT_WR), then the echoes and the end of the stream are read and checked), and the
// client connects again. The random choices come from --seed.
//
// The client runs in a second process, this program again with `client` as its first
// argument. In one process the client's buffers, latency records and tasks would count in the
// server's resident memory and share its scheduler threads and its limit on descriptors (the
// hard limit here is 20,000, and 10,000 connections with both ends in one process need more).
// Apart, the memory, the errors and the descriptors measured are the server's own. The client
// runs on the runtime too, in the same blocking style: it is the natural way to write 10,000
// concurrent clients, and every echo it checks still tests the server.
//
// Prints, on stdout (progress goes to stderr):
//   soak_seconds=<S>              the load's length, its warm-up included
//   soak_warmup_seconds=<W>       the first W seconds (a third, at most 20, unless given):
//                                 latency and memory are measured after them
//   soak_seed=<n>                 the seed of the clients' random choices
//   soak_connections=<N>          connections open at once
//   soak_connects=<n>             connections opened over the run, the reconnects included
//   soak_half_closes=<n>          connections that ended with a half-close
//   soak_messages=<n>             messages echoed and checked
//   soak_bytes=<n>                bytes echoed and checked
//   soak_bytes_lost=<n>           bytes sent whose echo never came back intact
//   soak_errors=<n>               failed calls, wrong echoes and stuck connections, both sides
//   soak_rss_mb=<MiB>             the server's resident memory at the end of the load
//   soak_rss_growth_mb=<MiB>      its growth from the end of the warm-up to the end of the load
//   soak_p99_ms=<ms>              the 99th percentile of a message's round trip after warm-up
// and exits with status 1 when a byte was lost or an error occurred.
import ExampleSupport
import Foundation
import OpenCoroutine

let usage = """
    soak [--seconds S] [--warmup S] [--connections N] [--seed N]
           soak client PORT --seconds S --warmup S --connections N --seed N   (the soak's own client)
    """

exampleMain(usage: usage, options: ["--seconds", "--warmup", "--connections", "--seed"]) { arguments in
    let seconds = try arguments.integer("--seconds", default: 60, in: 2...86_400)
    let warmup = try arguments.integer("--warmup", default: min(20, seconds / 3), in: 0...(seconds - 1))
    let connections = try arguments.integer("--connections", default: 10_000, in: 1...100_000)
    let seed = try arguments.integer("--seed", default: Int.random(in: 1...999_999_999), in: 0...Int.max)
    let settings = SoakSettings(seconds: seconds, warmup: warmup, connections: connections, seed: seed)
    if arguments.positional.first == "client" {
        try runClient(
            port: try arguments.port(at: 1), connections: connections, seconds: seconds, warmup: warmup,
            seed: UInt64(seed))
    } else {
        let passed = try runSoak(settings)
        exit(passed ? 0 : 1)
    }
}
