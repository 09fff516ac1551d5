import CoroutineCore
import Glibc


@_cdecl("write")
public func hookWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    Route.forDescriptor(fd) ? Syscall.write(fd, buffer, count) : libc.write(fd, buffer, count)
}

@_cdecl("__write")
public func hookInternalWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    hookWrite(fd, buffer, count)
}

@_cdecl("writev")
public func hookWritev(_ fd: Int32, _ vectors: UnsafePointer<iovec>?, _ count: Int32) -> Int {
    Route.forDescriptor(fd) ? Syscall.writev(fd, vectors, count) : libc.writev(fd, vectors, count)
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
        : libc.sendto(fd, buffer, count, flags, address, length)
}

@_cdecl("sendmsg")
public func hookSendmsg(_ fd: Int32, _ message: UnsafePointer<msghdr>?, _ flags: Int32) -> Int {
    Route.forDescriptor(fd) ? Syscall.sendmsg(fd, message, flags) : libc.sendmsg(fd, message, flags)
}

// Positioned writes are for files; see the positioned reads.

@_cdecl("pwrite")
public func hookPwrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int, _ offset: off_t) -> Int {
    Route.inCoroutine ? Syscall.pwrite(fd, buffer, count, offset) : libc.pwrite(fd, buffer, count, offset)
}

@_cdecl("pwrite64")
public func hookPwrite64(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int, _ offset: off_t) -> Int {
    hookPwrite(fd, buffer, count, offset)
}

@_cdecl("pwritev")
public func hookPwritev(_ fd: Int32, _ vectors: UnsafePointer<iovec>?, _ count: Int32, _ offset: off_t) -> Int {
    Route.inCoroutine ? Syscall.pwritev(fd, vectors, count, offset) : libc.pwritev(fd, vectors, count, offset)
}

@_cdecl("pwritev64")
public func hookPwritev64(_ fd: Int32, _ vectors: UnsafePointer<iovec>?, _ count: Int32, _ offset: off_t) -> Int {
    hookPwritev(fd, vectors, count, offset)
}
