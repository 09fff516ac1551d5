import CoroutineCore
import Glibc


// Sockets created in a coroutine start non-blocking in the kernel; elsewhere libc creates them,
// and the layer learns about them when a coroutine first uses them.

@_cdecl("socket")
public func hookSocket(_ domain: Int32, _ type: Int32, _ protocolNumber: Int32) -> Int32 {
    Route.inCoroutine ? Syscall.socket(domain, type, protocolNumber) : libc.socket(domain, type, protocolNumber)
}

@_cdecl("socketpair")
public func hookSocketpair(_ domain: Int32, _ type: Int32, _ protocolNumber: Int32, _ pair: UnsafeMutablePointer<Int32>?) -> Int32 {
    Route.inCoroutine
        ? Syscall.socketpair(domain, type, protocolNumber, pair)
        : libc.socketpair(domain, type, protocolNumber, pair)
}

@_cdecl("connect")
public func hookConnect(_ fd: Int32, _ address: UnsafePointer<sockaddr>?, _ length: socklen_t) -> Int32 {
    Route.forDescriptor(fd) ? Syscall.connect(fd, address, length) : libc.connect(fd, address, length)
}

@_cdecl("__connect")
public func hookInternalConnect(_ fd: Int32, _ address: UnsafePointer<sockaddr>?, _ length: socklen_t) -> Int32 {
    hookConnect(fd, address, length)
}

@_cdecl("listen")
public func hookListen(_ fd: Int32, _ backlog: Int32) -> Int32 {
    Route.always ? Syscall.listen(fd, backlog) : libc.listen(fd, backlog)
}

@_cdecl("accept")
public func hookAccept(_ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>?, _ length: UnsafeMutablePointer<socklen_t>?) -> Int32 {
    hookAccept4(fd, address, length, 0)
}

@_cdecl("accept4")
public func hookAccept4(
    _ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>?, _ length: UnsafeMutablePointer<socklen_t>?, _ flags: Int32
) -> Int32 {
    Route.forDescriptor(fd) ? Syscall.accept4(fd, address, length, flags) : libc.accept4(fd, address, length, flags)
}

@_cdecl("shutdown")
public func hookShutdown(_ fd: Int32, _ how: Int32) -> Int32 {
    Route.always ? Syscall.shutdown(fd, how) : libc.shutdown(fd, how)
}


@_cdecl("sendfile")
public func hookSendfile(_ out: Int32, _ input: Int32, _ offset: UnsafeMutablePointer<off_t>?, _ count: Int) -> Int {
    Route.forDescriptor(out) ? Syscall.sendfile(out, input, offset, count) : libc.sendfile(out, input, offset, count)
}

@_cdecl("sendfile64")
public func hookSendfile64(_ out: Int32, _ input: Int32, _ offset: UnsafeMutablePointer<off_t>?, _ count: Int) -> Int {
    hookSendfile(out, input, offset, count)
}

@_cdecl("splice")
public func hookSplice(
    _ input: Int32, _ inputOffset: UnsafeMutablePointer<Int64>?, _ out: Int32, _ outputOffset: UnsafeMutablePointer<Int64>?,
    _ count: Int, _ flags: UInt32
) -> Int {
    Route.forDescriptor(input) || Route.forDescriptor(out)
        ? Syscall.splice(input, inputOffset, out, outputOffset, count, flags)
        : libc.splice(input, inputOffset, out, outputOffset, count, flags)
}

@_cdecl("recvmmsg")
public func hookRecvmmsg(
    _ fd: Int32, _ messages: UnsafeMutableRawPointer?, _ count: UInt32, _ flags: Int32, _ timeout: UnsafeMutablePointer<timespec>?
) -> Int32 {
    Route.forDescriptor(fd) ? Syscall.recvmmsg(fd, messages, count, flags, timeout) : libc.recvmmsg(fd, messages, count, flags, timeout)
}

@_cdecl("sendmmsg")
public func hookSendmmsg(_ fd: Int32, _ messages: UnsafeMutableRawPointer?, _ count: UInt32, _ flags: Int32) -> Int32 {
    Route.forDescriptor(fd) ? Syscall.sendmmsg(fd, messages, count, flags) : libc.sendmmsg(fd, messages, count, flags)
}
