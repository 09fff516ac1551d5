import CCoroutineCore
import Glibc
@testable import CoroutineCore

/// libc's own function `name`, looked up in libc itself, so that an interposing library could
/// never answer in its place.
func libcFunction<Function>(_ name: String, as _: Function.Type) -> Function {
    guard let symbol = dlsym(dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD), name) else {
        fatalError("libc has no \(name)")
    }
    return unsafeBitCast(symbol, to: Function.self)
}

/// One implementation of the descriptor calls, libc's or the Syscall layer's, so that a
/// differential test runs the same sequence through each.
struct DescriptorCalls: Sendable {
    typealias Transfer = @convention(c) (Int32, UnsafeMutableRawPointer?, Int) -> Int
    typealias ConstTransfer = @convention(c) (Int32, UnsafeRawPointer?, Int) -> Int
    typealias Vectors = @convention(c) (Int32, UnsafePointer<iovec>?, Int32) -> Int
    typealias PositionedVectors = @convention(c) (Int32, UnsafePointer<iovec>?, Int32, off_t) -> Int

    var socket: @convention(c) (Int32, Int32, Int32) -> Int32
    var socketpair: @convention(c) (Int32, Int32, Int32, UnsafeMutablePointer<Int32>?) -> Int32
    var connect: @convention(c) (Int32, UnsafePointer<sockaddr>?, socklen_t) -> Int32
    var listen: @convention(c) (Int32, Int32) -> Int32
    var accept: @convention(c) (Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?) -> Int32
    var accept4: @convention(c) (Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?, Int32) -> Int32
    var shutdown: @convention(c) (Int32, Int32) -> Int32
    var close: @convention(c) (Int32) -> Int32
    var read: Transfer
    var readv: Vectors
    var recv: @convention(c) (Int32, UnsafeMutableRawPointer?, Int, Int32) -> Int
    var recvfrom: @convention(c) (Int32, UnsafeMutableRawPointer?, Int, Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?) -> Int
    var recvmsg: @convention(c) (Int32, UnsafeMutablePointer<msghdr>?, Int32) -> Int
    var pread: @convention(c) (Int32, UnsafeMutableRawPointer?, Int, off_t) -> Int
    var preadv: PositionedVectors
    var write: ConstTransfer
    var writev: Vectors
    var send: @convention(c) (Int32, UnsafeRawPointer?, Int, Int32) -> Int
    var sendto: @convention(c) (Int32, UnsafeRawPointer?, Int, Int32, UnsafePointer<sockaddr>?, socklen_t) -> Int
    var sendmsg: @convention(c) (Int32, UnsafePointer<msghdr>?, Int32) -> Int
    var pwrite: @convention(c) (Int32, UnsafeRawPointer?, Int, off_t) -> Int
    var pwritev: PositionedVectors
    /// fcntl and ioctl are variadic in C; both implementations take the one argument these
    /// tests pass.
    var fcntl: @Sendable (Int32, Int32, Int) -> Int32
    var ioctl: @Sendable (Int32, UInt, UnsafeMutableRawPointer?) -> Int32
    var getsockopt: @convention(c) (Int32, Int32, Int32, UnsafeMutableRawPointer?, UnsafeMutablePointer<socklen_t>?) -> Int32
    var setsockopt: @convention(c) (Int32, Int32, Int32, UnsafeRawPointer?, socklen_t) -> Int32
    var dup: @convention(c) (Int32) -> Int32
    var dup2: @convention(c) (Int32, Int32) -> Int32
    var dup3: @convention(c) (Int32, Int32, Int32) -> Int32
    var ppoll: @convention(c) (UnsafeMutablePointer<pollfd>?, nfds_t, UnsafePointer<timespec>?, UnsafePointer<sigset_t>?) -> Int32
    var pselect: @convention(c) (Int32, UnsafeMutablePointer<fd_set>?, UnsafeMutablePointer<fd_set>?, UnsafeMutablePointer<fd_set>?, UnsafePointer<timespec>?, UnsafePointer<sigset_t>?) -> Int32

    static let libc = DescriptorCalls(
        socket: libcFunction("socket", as: (@convention(c) (Int32, Int32, Int32) -> Int32).self),
        socketpair: libcFunction("socketpair", as: (@convention(c) (Int32, Int32, Int32, UnsafeMutablePointer<Int32>?) -> Int32).self),
        connect: libcFunction("connect", as: (@convention(c) (Int32, UnsafePointer<sockaddr>?, socklen_t) -> Int32).self),
        listen: libcFunction("listen", as: (@convention(c) (Int32, Int32) -> Int32).self),
        accept: libcFunction("accept", as: (@convention(c) (Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?) -> Int32).self),
        accept4: libcFunction("accept4", as: (@convention(c) (Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?, Int32) -> Int32).self),
        shutdown: libcFunction("shutdown", as: (@convention(c) (Int32, Int32) -> Int32).self),
        close: libcFunction("close", as: (@convention(c) (Int32) -> Int32).self),
        read: libcFunction("read", as: Transfer.self),
        readv: libcFunction("readv", as: Vectors.self),
        recv: libcFunction("recv", as: (@convention(c) (Int32, UnsafeMutableRawPointer?, Int, Int32) -> Int).self),
        recvfrom: libcFunction("recvfrom", as: (@convention(c) (Int32, UnsafeMutableRawPointer?, Int, Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?) -> Int).self),
        recvmsg: libcFunction("recvmsg", as: (@convention(c) (Int32, UnsafeMutablePointer<msghdr>?, Int32) -> Int).self),
        pread: libcFunction("pread", as: (@convention(c) (Int32, UnsafeMutableRawPointer?, Int, off_t) -> Int).self),
        preadv: libcFunction("preadv", as: PositionedVectors.self),
        write: libcFunction("write", as: ConstTransfer.self),
        writev: libcFunction("writev", as: Vectors.self),
        send: libcFunction("send", as: (@convention(c) (Int32, UnsafeRawPointer?, Int, Int32) -> Int).self),
        sendto: libcFunction("sendto", as: (@convention(c) (Int32, UnsafeRawPointer?, Int, Int32, UnsafePointer<sockaddr>?, socklen_t) -> Int).self),
        sendmsg: libcFunction("sendmsg", as: (@convention(c) (Int32, UnsafePointer<msghdr>?, Int32) -> Int).self),
        pwrite: libcFunction("pwrite", as: (@convention(c) (Int32, UnsafeRawPointer?, Int, off_t) -> Int).self),
        pwritev: libcFunction("pwritev", as: PositionedVectors.self),
        fcntl: { fd, command, argument in
            libcFcntl(fd, command, argument)
        },
        ioctl: { fd, request, argument in
            libcIoctl(fd, request, argument)
        },
        getsockopt: libcFunction("getsockopt", as: (@convention(c) (Int32, Int32, Int32, UnsafeMutableRawPointer?, UnsafeMutablePointer<socklen_t>?) -> Int32).self),
        setsockopt: libcFunction("setsockopt", as: (@convention(c) (Int32, Int32, Int32, UnsafeRawPointer?, socklen_t) -> Int32).self),
        dup: libcFunction("dup", as: (@convention(c) (Int32) -> Int32).self),
        dup2: libcFunction("dup2", as: (@convention(c) (Int32, Int32) -> Int32).self),
        dup3: libcFunction("dup3", as: (@convention(c) (Int32, Int32, Int32) -> Int32).self),
        ppoll: libcFunction("ppoll", as: (@convention(c) (UnsafeMutablePointer<pollfd>?, nfds_t, UnsafePointer<timespec>?, UnsafePointer<sigset_t>?) -> Int32).self),
        pselect: libcFunction("pselect", as: (@convention(c) (Int32, UnsafeMutablePointer<fd_set>?, UnsafeMutablePointer<fd_set>?, UnsafeMutablePointer<fd_set>?, UnsafePointer<timespec>?, UnsafePointer<sigset_t>?) -> Int32).self)
    )

    static let ours = DescriptorCalls(
        socket: { Syscall.socket($0, $1, $2) },
        socketpair: { Syscall.socketpair($0, $1, $2, $3) },
        connect: { Syscall.connect($0, $1, $2) },
        listen: { Syscall.listen($0, $1) },
        accept: { Syscall.accept($0, $1, $2) },
        accept4: { Syscall.accept4($0, $1, $2, $3) },
        shutdown: { Syscall.shutdown($0, $1) },
        close: { Syscall.close($0) },
        read: { Syscall.read($0, $1, $2) },
        readv: { Syscall.readv($0, $1, $2) },
        recv: { Syscall.recv($0, $1, $2, $3) },
        recvfrom: { Syscall.recvfrom($0, $1, $2, $3, $4, $5) },
        recvmsg: { Syscall.recvmsg($0, $1, $2) },
        pread: { Syscall.pread($0, $1, $2, $3) },
        preadv: { Syscall.preadv($0, $1, $2, $3) },
        write: { Syscall.write($0, $1, $2) },
        writev: { Syscall.writev($0, $1, $2) },
        send: { Syscall.send($0, $1, $2, $3) },
        sendto: { Syscall.sendto($0, $1, $2, $3, $4, $5) },
        sendmsg: { Syscall.sendmsg($0, $1, $2) },
        pwrite: { Syscall.pwrite($0, $1, $2, $3) },
        pwritev: { Syscall.pwritev($0, $1, $2, $3) },
        fcntl: { Syscall.fcntl($0, $1, $2) },
        ioctl: { Syscall.ioctl($0, $1, $2) },
        getsockopt: { Syscall.getsockopt($0, $1, $2, $3, $4) },
        setsockopt: { Syscall.setsockopt($0, $1, $2, $3, $4) },
        dup: { Syscall.dup($0) },
        dup2: { Syscall.dup2($0, $1) },
        dup3: { Syscall.dup3($0, $1, $2) },
        ppoll: { Syscall.ppoll($0, $1, $2, $3) },
        pselect: { Syscall.pselect($0, $1, $2, $3, $4, $5) }
    )
}

private let libcFcntl = libcFunction("fcntl", as: (@convention(c) (Int32, Int32, Int) -> Int32).self)
private let libcIoctl = libcFunction("ioctl", as: (@convention(c) (Int32, UInt, UnsafeMutableRawPointer?) -> Int32).self)
