import CoroutineCore
import Glibc


@_cdecl("read")
public func hookRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    Route.forDescriptor(fd) ? Syscall.read(fd, buffer, count) : libc.read(fd, buffer, count)
}

@_cdecl("__read")
public func hookInternalRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    hookRead(fd, buffer, count)
}

@_cdecl("__read_chk")
public func hookCheckedRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ length: Int) -> Int {
    checkBounds(count, within: length)
    return hookRead(fd, buffer, count)
}

@_cdecl("readv")
public func hookReadv(_ fd: Int32, _ vectors: UnsafePointer<iovec>?, _ count: Int32) -> Int {
    Route.forDescriptor(fd) ? Syscall.readv(fd, vectors, count) : libc.readv(fd, vectors, count)
}

@_cdecl("recv")
public func hookRecv(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ flags: Int32) -> Int {
    hookRecvfrom(fd, buffer, count, flags, nil, nil)
}

@_cdecl("__recv_chk")
public func hookCheckedRecv(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ length: Int, _ flags: Int32) -> Int {
    checkBounds(count, within: length)
    return hookRecvfrom(fd, buffer, count, flags, nil, nil)
}

@_cdecl("recvfrom")
public func hookRecvfrom(
    _ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ flags: Int32,
    _ address: UnsafeMutablePointer<sockaddr>?, _ length: UnsafeMutablePointer<socklen_t>?
) -> Int {
    Route.forDescriptor(fd)
        ? Syscall.recvfrom(fd, buffer, count, flags, address, length)
        : libc.recvfrom(fd, buffer, count, flags, address, length)
}

@_cdecl("__recvfrom_chk")
public func hookCheckedRecvfrom(
    _ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ bufferLength: Int, _ flags: Int32,
    _ address: UnsafeMutablePointer<sockaddr>?, _ length: UnsafeMutablePointer<socklen_t>?
) -> Int {
    checkBounds(count, within: bufferLength)
    return hookRecvfrom(fd, buffer, count, flags, address, length)
}

@_cdecl("recvmsg")
public func hookRecvmsg(_ fd: Int32, _ message: UnsafeMutablePointer<msghdr>?, _ flags: Int32) -> Int {
    Route.forDescriptor(fd) ? Syscall.recvmsg(fd, message, flags) : libc.recvmsg(fd, message, flags)
}

// Positioned reads are for files, which the layer reads through io_uring in a coroutine;
// elsewhere they are libc's.

@_cdecl("pread")
public func hookPread(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ offset: off_t) -> Int {
    Route.inCoroutine ? Syscall.pread(fd, buffer, count, offset) : libc.pread(fd, buffer, count, offset)
}

@_cdecl("pread64")
public func hookPread64(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ offset: off_t) -> Int {
    hookPread(fd, buffer, count, offset)
}

@_cdecl("__pread_chk")
public func hookCheckedPread(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ offset: off_t, _ length: Int) -> Int {
    checkBounds(count, within: length)
    return hookPread(fd, buffer, count, offset)
}

@_cdecl("__pread64_chk")
public func hookCheckedPread64(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ offset: off_t, _ length: Int) -> Int {
    hookCheckedPread(fd, buffer, count, offset, length)
}

@_cdecl("preadv")
public func hookPreadv(_ fd: Int32, _ vectors: UnsafePointer<iovec>?, _ count: Int32, _ offset: off_t) -> Int {
    Route.inCoroutine ? Syscall.preadv(fd, vectors, count, offset) : libc.preadv(fd, vectors, count, offset)
}

@_cdecl("preadv64")
public func hookPreadv64(_ fd: Int32, _ vectors: UnsafePointer<iovec>?, _ count: Int32, _ offset: off_t) -> Int {
    hookPreadv(fd, vectors, count, offset)
}
