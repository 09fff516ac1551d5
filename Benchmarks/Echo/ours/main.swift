// Our echo server of `make bench-echo`, written in plain blocking style: an accept loop and
// one task per connection that reads and writes back, on a runtime of 2 scheduler threads, or
// of BENCH_THREADS threads (`make bench-scaling` compares 1 with 2 and more; an empty value
// counts as unset, and a value that is no thread count ends the server with exit status 2),
// with handoff after BENCH_HANDOFF_AFTER_US microseconds (0: none; unset: the default).
// The calls are the Syscall layer's, so a task that waits suspends and its thread serves the
// other connections meanwhile.
//
// Binds 127.0.0.1 on a free port, prints `port=<n>` and serves until killed.
import BenchmarkSupport
import CoroutineCore
import Glibc
import OpenCoroutine

/// Ends the process with `what` and errno's message; the benchmark treats it as a failure.
func die(_ what: String) -> Never {
    perror("echo_benchmark_server: \(what)")
    exit(1)
}

/// Reads and writes back until the peer closes or the connection fails.
func serve(_ fd: Int32) {
    withUnsafeTemporaryAllocation(byteCount: 4096, alignment: 16) { buffer in
        while true {
            let count = Syscall.read(fd, buffer.baseAddress, buffer.count)
            if count < 0 && errno == EINTR { continue }
            // A blocking write writes everything or fails.
            guard count > 0, Syscall.write(fd, buffer.baseAddress, count) == count else { break }
        }
    }
    _ = Syscall.close(fd)
}

/// Accepts connections for as long as the process runs, one task each.
func acceptConnections(on listener: Int32) throws {
    var one: Int32 = 1
    while true {
        let fd = Syscall.accept(listener, nil, nil)
        guard fd >= 0 else {
            if errno == EINTR || errno == ECONNABORTED { continue }
            die("accept")
        }
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        try CoroutineRuntime.shared.spawn { serve(fd) }
    }
}

let settings = BenchmarkSettings(program: "echo_benchmark_server")
try CoroutineRuntime.shared.start(RuntimeConfiguration(threads: settings.schedulerThreads, handoffAfter: settings.handoffAfter))

let listener = Syscall.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
guard listener >= 0 else { die("socket") }
var one: Int32 = 1
setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
var address = sockaddr_in()
address.sin_family = sa_family_t(AF_INET)
address.sin_addr.s_addr = UInt32(INADDR_LOOPBACK).bigEndian
var length = socklen_t(MemoryLayout<sockaddr_in>.size)
let bound = withUnsafeMutablePointer(to: &address) { pointer in
    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
        bind(listener, address, length) == 0 && getsockname(listener, address, &length) == 0
    }
}
guard bound else { die("bind") }
// The client connects 1,000 times at once: a short backlog would drop SYNs and stall it.
guard Syscall.listen(listener, 1024) == 0 else { die("listen") }
print("port=\(UInt16(bigEndian: address.sin_port))")
// Stdout goes to the benchmark script's file, so it is fully buffered: flush the port line.
// fflush(nil) flushes every stream; Swift 6 rejects naming C's global `stdout`.
fflush(nil)

try CoroutineRuntime.shared.spawn { [listener] in try acceptConnections(on: listener) }.join()
