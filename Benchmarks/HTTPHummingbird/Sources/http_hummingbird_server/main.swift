// The Hummingbird 2 server of `make bench-http`: the framework's hello world, answering
// `GET /plaintext` as TechEmpower's plaintext test defines it, on an event-loop group of 2
// threads. Binds 127.0.0.1 on a free port, prints `port=<n>` and serves until killed.
// Hummingbird adds the Date and Content-Length headers itself, and names itself in Server.
import Glibc
import Hummingbird
import NIOPosix

let router = Router()
router.get("plaintext") { _, _ -> Response in
    Response(
        status: .ok,
        headers: [.contentType: "text/plain"],
        body: ResponseBody(byteBuffer: ByteBuffer(string: "Hello, World!"))
    )
}

let app = Application(
    router: router,
    // wrk opens 256 connections at once: a short backlog would drop SYNs and stall it.
    configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "hummingbird", backlog: 1024),
    onServerRunning: { channel in
        print("port=\(channel.localAddress?.port ?? 0)")
        // Stdout goes to the benchmark script's file: flush the port line.
        fflush(nil)
    },
    eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup(numberOfThreads: 2))
)
try await app.runService()
