// The SwiftNIO echo server of `make bench-echo`: the idiomatic NIO echo on 2 event loops.
// Binds 127.0.0.1 on a free port, prints `port=<n>`, then serves until killed.
// ServerBootstrap turns TCP_NODELAY on by default, as the other servers do by hand.
import Glibc
import NIOCore
import NIOPosix

/// Writes every buffer it reads straight back, and flushes once per read burst.
final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
let channel = try ServerBootstrap(group: group)
    // The client connects 1,000 times at once: a short backlog would drop SYNs and stall it.
    .serverChannelOption(.backlog, value: 1024)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(EchoHandler())
        }
    }
    .bind(host: "127.0.0.1", port: 0)
    .wait()

print("port=\(channel.localAddress!.port!)")
// Stdout goes to the benchmark script's file, so it is fully buffered: flush the port line.
// fflush(nil) flushes every stream; Swift 6 rejects naming C's global `stdout`.
fflush(nil)
try channel.closeFuture.wait()
