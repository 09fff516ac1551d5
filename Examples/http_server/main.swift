// http_server: a small HTTP/1.1 server in plain blocking style, the server of `make bench-http`.
// An accept loop and one task per connection, each reading, parsing and writing with ordinary
// blocking calls; the hooks suspend the task that waits, so two scheduler threads serve every
// connection. Keep-alive and pipelining are answered: every request complete in what one read
// brought gets its response, and the responses leave in one write.
//
// Routes, as TechEmpower's plaintext test defines them:
//   GET or HEAD /plaintext  200, "Hello, World!" as text/plain, with Server and Date headers
//   another path            404; another method on /plaintext: 405
// A malformed request gets 400, headers over 8 KiB get 431, a chunked body 501; each of these
// closes the connection. `Connection: close` (and HTTP/1.0 without keep-alive) closes it after
// the response.
//
// usage: http_server [--port P] [--threads N] [--seconds S]
//   --port     the port on 127.0.0.1 (0, the default, lets the kernel choose)
//   --threads  scheduler threads (2 unless given)
//   --seconds  serve this long, then exit (0, the default: until killed)
//
// Prints `port=<n>` once listening, then serves.
import CoroutineCore
import CoroutineExampleSupport
import ExampleSupport
import Glibc
import OpenCoroutine

exampleMain(usage: "http_server [--port P] [--threads N] [--seconds S]", options: ["--port", "--threads", "--seconds"]) { arguments in
    let port = try arguments.integer("--port", default: 0, in: 0...65_535)
    let threads = try arguments.integer("--threads", default: 2, in: 1...RuntimeConfiguration.maximumThreads)
    let seconds = try arguments.integer("--seconds", default: 0, in: 0...86_400)
    // A descriptor per connection, and load generators open hundreds at once.
    try OpenFileLimit.raise()
    try withCoroutines(Config(threads: threads)) {
        // wrk opens its connections at once: a short backlog would drop SYNs and stall it.
        let listener = try listenOnLoopback(port: UInt16(port), backlog: 1024)
        print("port=\(listener.port)")
        flushOutput()
        let acceptor = try co { acceptConnections(on: listener.fd) }
        guard seconds > 0 else { return try acceptor.join() }
        // The main thread is not a task: this sleep is the kernel's, while the tasks serve.
        sleep(UInt32(seconds))
        // The hang-up ends the acceptor's wait; connections still open end with the runtime.
        shutdown(listener.fd, Int32(SHUT_RDWR))
        try acceptor.join()
        close(listener.fd)
    }
}

/// Accepts until the listener is shut down, one task per connection.
func acceptConnections(on listener: Int32) {
    while true {
        let fd = accept(listener, nil, nil)
        guard fd >= 0 else {
            if errno == EINTR || errno == ECONNABORTED { continue }
            return
        }
        setNoDelay(fd)
        do {
            try co {
                var connection = HTTPConnection(fd)
                connection.serve()
            }
        } catch {
            // The runtime refused the task (it is stopping): the connection ends unanswered.
            close(fd)
        }
    }
}
