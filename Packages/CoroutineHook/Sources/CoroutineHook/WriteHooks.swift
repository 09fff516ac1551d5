import CoroutineCore
import Glibc

private let libcWrite = libcFunction("write", as: (@convention(c) (Int32, UnsafeRawPointer?, Int) -> Int).self)
private let libcWritev = libcFunction("writev", as: (@convention(c) (Int32, UnsafePointer<iovec>?, Int32) -> Int).self)
private let libcSendto = libcFunction(
    "sendto", as: (@convention(c) (Int32, UnsafeRawPointer?, Int, Int32, UnsafePointer<sockaddr>?, socklen_t) -> Int).self)
private let libcSendmsg = libcFunction("sendmsg", as: (@convention(c) (Int32, UnsafePointer<msghdr>?, Int32) -> Int).self)
private let libcPwrite = libcFunction("pwrite", as: (@convention(c) (Int32, UnsafeRawPointer?, Int, off_t) -> Int).self)
private let libcPwritev = libcFunction("pwritev", as: (@convention(c) (Int32, UnsafePointer<iovec>?, Int32, off_t) -> Int).self)

@_cdecl("write")
public func hookWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    Route.forDescriptor(fd) ? Syscall.write(fd, buffer, count) : libcWrite(fd, buffer, count)
}

@_cdecl("__write")
public func hookInternalWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    hookWrite(fd, buffer, count)
}

@_cdecl("writev")
public func hookWritev(_ fd: Int32, _ vectors: UnsafePointer<iovec>?, _ count: Int32) -> Int {
    Route.forDescriptor(fd) ? Syscall.writev(fd, vectors, count) : libcWritev(fd, vectors, count)
}

@_cdecl("send")
public func hookSend(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int, _ flags: Int32) -> Int {
    hookSendto(fd, buffer, count, flags, nil, 0)
}

@_cdecl("__send")
public func hookInternalSend(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int, _ flags: Int32) -> Int {
    hookSendto(fd, buffer, count, flags, nil, 0)
}

@_cdecl("sendto")
public func hookSendto(
    _ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int, _ flags: Int32, _ address: UnsafePointer<sockaddr>?, _ length: socklen_t
) -> Int {
    Route.forDescriptor(fd)
        ? Syscall.sendto(fd, buffer, count, flags, address, length)
        : libcSendto(fd, buffer, count, flags, address, length)
}

@_cdecl("sendmsg")
public func hookSendmsg(_ fd: Int32, _ message: UnsafePointer<msghdr>?, _ flags: Int32) -> Int {
    Route.forDescriptor(fd) ? Syscall.sendmsg(fd, message, flags) : libcSendmsg(fd, message, flags)
}

// Positioned writes are for files; see the positioned reads.

@_cdecl("pwrite")
public func hookPwrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int, _ offset: off_t) -> Int {
    Route.inCoroutine ? Syscall.pwrite(fd, buffer, count, offset) : libcPwrite(fd, buffer, count, offset)
}

@_cdecl("pwrite64")
public func hookPwrite64(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int, _ offset: off_t) -> Int {
    hookPwrite(fd, buffer, count, offset)
}

@_cdecl("pwritev")
public func hookPwritev(_ fd: Int32, _ vectors: UnsafePointer<iovec>?, _ count: Int32, _ offset: off_t) -> Int {
    Route.inCoroutine ? Syscall.pwritev(fd, vectors, count, offset) : libcPwritev(fd, vectors, count, offset)
}

@_cdecl("pwritev64")
public func hookPwritev64(_ fd: Int32, _ vectors: UnsafePointer<iovec>?, _ count: Int32, _ offset: off_t) -> Int {
    hookPwritev(fd, vectors, count, offset)
}
