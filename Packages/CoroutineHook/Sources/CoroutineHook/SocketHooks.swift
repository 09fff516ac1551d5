import CoroutineCore
import Glibc

private let libcSocket = libcFunction("socket", as: (@convention(c) (Int32, Int32, Int32) -> Int32).self)
private let libcSocketpair = libcFunction(
    "socketpair", as: (@convention(c) (Int32, Int32, Int32, UnsafeMutablePointer<Int32>?) -> Int32).self)
private let libcConnect = libcFunction("connect", as: (@convention(c) (Int32, UnsafePointer<sockaddr>?, socklen_t) -> Int32).self)
private let libcListen = libcFunction("listen", as: (@convention(c) (Int32, Int32) -> Int32).self)
private let libcAccept4 = libcFunction(
    "accept4",
    as: (@convention(c) (Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?, Int32) -> Int32).self)
private let libcShutdown = libcFunction("shutdown", as: (@convention(c) (Int32, Int32) -> Int32).self)

// Sockets created in a coroutine start non-blocking in the kernel; elsewhere libc creates them,
// and the layer learns about them when a coroutine first uses them.

@_cdecl("socket")
public func hookSocket(_ domain: Int32, _ type: Int32, _ protocolNumber: Int32) -> Int32 {
    Route.inCoroutine ? Syscall.socket(domain, type, protocolNumber) : libcSocket(domain, type, protocolNumber)
}

@_cdecl("socketpair")
public func hookSocketpair(_ domain: Int32, _ type: Int32, _ protocolNumber: Int32, _ pair: UnsafeMutablePointer<Int32>?) -> Int32 {
    Route.inCoroutine
        ? Syscall.socketpair(domain, type, protocolNumber, pair)
        : libcSocketpair(domain, type, protocolNumber, pair)
}

@_cdecl("connect")
public func hookConnect(_ fd: Int32, _ address: UnsafePointer<sockaddr>?, _ length: socklen_t) -> Int32 {
    Route.forDescriptor(fd) ? Syscall.connect(fd, address, length) : libcConnect(fd, address, length)
}

@_cdecl("__connect")
public func hookInternalConnect(_ fd: Int32, _ address: UnsafePointer<sockaddr>?, _ length: socklen_t) -> Int32 {
    hookConnect(fd, address, length)
}

@_cdecl("listen")
public func hookListen(_ fd: Int32, _ backlog: Int32) -> Int32 {
    Route.always ? Syscall.listen(fd, backlog) : libcListen(fd, backlog)
}

@_cdecl("accept")
public func hookAccept(_ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>?, _ length: UnsafeMutablePointer<socklen_t>?) -> Int32 {
    hookAccept4(fd, address, length, 0)
}

@_cdecl("accept4")
public func hookAccept4(
    _ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>?, _ length: UnsafeMutablePointer<socklen_t>?, _ flags: Int32
) -> Int32 {
    Route.forDescriptor(fd) ? Syscall.accept4(fd, address, length, flags) : libcAccept4(fd, address, length, flags)
}

@_cdecl("shutdown")
public func hookShutdown(_ fd: Int32, _ how: Int32) -> Int32 {
    Route.always ? Syscall.shutdown(fd, how) : libcShutdown(fd, how)
}
