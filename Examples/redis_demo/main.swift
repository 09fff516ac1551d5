// redis_demo: hiredis, an unmodified C client library, making blocking network calls from
// many tasks. Each of --tasks tasks (200 unless given) opens its own connection and sends SET,
// GET, INCR of a shared counter and a BLPOP that waits 0.5 s in the server for a list nobody
// fills. hiredis's connect, poll, read and write are libc's, which the hooks turn into
// suspensions of the calling task, so the waits overlap: the run takes about 0.5 s, where
// one BLPOP after another would take --tasks × 0.5 s.
//
// It uses the redis-server on 127.0.0.1:6379 when one answers there (its keys carry the
// process id and are deleted at the end); otherwise it starts its own on a free port and stops
// it before it exits.
//
// Prints:
//   started redis-server on 127.0.0.1:<port>      (or: using the redis-server on 127.0.0.1:6379)
//   200 tasks, each on its own connection: SET, GET, INCR, then a BLPOP waiting 0.5 s
//   every GET returned its SET: yes
//   counter: 200
//   took <time> (one BLPOP after another would take 100 s)
//   stopped the redis-server it started
import CoroutineCore
import ExampleSupport
import Glibc
import HiredisSupport
import OpenCoroutine

/// The port of the usual redis-server, used when one runs.
let usualPort: UInt16 = 6379

exampleMain(usage: "redis_demo [--tasks N]", options: ["--tasks"]) { arguments in
    let tasks = try arguments.integer("--tasks", default: 200, in: 1...10_000)
    let server: RedisServer?
    let port: UInt16
    if (try? RedisConnection(port: usualPort).command("PING")) == .status("PONG") {
        (server, port) = (nil, usualPort)
        print("using the redis-server on 127.0.0.1:\(port)")
    } else {
        let started = try RedisServer()
        (server, port) = (started, started.port)
        print("started redis-server on 127.0.0.1:\(port)")
    }
    defer {
        if let server {
            server.stop()
            print("stopped the redis-server it started")
        }
    }
    // A connection per task, beside the runtime's own descriptors.
    try OpenFileLimit.raise(toAtLeast: tasks + 256)
    try withCoroutines {
        let prefix = "opencoroutine:redis_demo:\(getpid())"
        let counter = "\(prefix):counter"
        let start = ContinuousClock.now
        let workers = try (0..<tasks).map { index in
            try co { () throws -> Bool in
                let redis = try RedisConnection(port: port)
                _ = try redis.command("SET", "\(prefix):value:\(index)", "value \(index)")
                let value = try redis.command("GET", "\(prefix):value:\(index)")
                _ = try redis.command("INCR", counter)
                let popped = try redis.command("BLPOP", "\(prefix):empty:\(index)", "0.5")
                return value == .string("value \(index)") && popped == .null
            }
        }
        let allReturned = try workers.reduce(true) { try $1.join() && $0 }
        let elapsed = ContinuousClock.now - start
        let redis = try RedisConnection(port: port)
        let count = try redis.command("GET", counter)
        _ = try redis.command(["DEL", counter] + (0..<tasks).map { "\(prefix):value:\($0)" })
        print("\(tasks) tasks, each on its own connection: SET, GET, INCR, then a BLPOP waiting 0.5 s")
        print("every GET returned its SET: \(allReturned ? "yes" : "no")")
        print("counter: \(count == .string("\(tasks)") ? "\(tasks)" : "\(count), expected \(tasks)")")
        print("took \(elapsed.readable) (one BLPOP after another would take \((Duration.milliseconds(500) * tasks).readable))")
        guard allReturned, count == .string("\(tasks)") else { throw RedisError(description: "wrong replies") }
    }
}
