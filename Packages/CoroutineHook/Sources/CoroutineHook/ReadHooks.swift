import CCoroutineHook
import CoroutineCore
import Glibc


@c(oc_hook_read) @implementation
func hookRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    Route.forDescriptor(fd) ? Syscall.read(fd, buffer, count) : libc.read(fd, buffer, count)
}

@c(oc_hook___read) @implementation
func hookInternalRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    hookRead(fd, buffer, count)
}

@c(oc_hook___read_chk) @implementation
func hookCheckedRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ length: Int) -> Int {
    checkBounds(count, within: length)
    return hookRead(fd, buffer, count)
}

@c(oc_hook_readv) @implementation
func hookReadv(_ fd: Int32, _ vectors: UnsafePointer<iovec>?, _ count: Int32) -> Int {
    Route.forDescriptor(fd) ? Syscall.readv(fd, vectors, count) : libc.readv(fd, vectors, count)
}

@c(oc_hook_recv) @implementation
func hookRecv(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ flags: Int32) -> Int {
    hookRecvfrom(fd, buffer, count, flags, nil, nil)
}

@c(oc_hook___recv_chk) @implementation
func hookCheckedRecv(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ length: Int, _ flags: Int32) -> Int {
    checkBounds(count, within: length)
    return hookRecvfrom(fd, buffer, count, flags, nil, nil)
}

@c(oc_hook_recvfrom) @implementation
func hookRecvfrom(
    _ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ flags: Int32,
    _ address: UnsafeMutablePointer<sockaddr>?, _ length: UnsafeMutablePointer<socklen_t>?
) -> Int {
    Route.forDescriptor(fd)
        ? Syscall.recvfrom(fd, buffer, count, flags, address, length)
        : libc.recvfrom(fd, buffer, count, flags, address, length)
}

@c(oc_hook___recvfrom_chk) @implementation
func hookCheckedRecvfrom(
    _ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ bufferLength: Int, _ flags: Int32,
    _ address: UnsafeMutablePointer<sockaddr>?, _ length: UnsafeMutablePointer<socklen_t>?
) -> Int {
    checkBounds(count, within: bufferLength)
    return hookRecvfrom(fd, buffer, count, flags, address, length)
}

@c(oc_hook_recvmsg) @implementation
func hookRecvmsg(_ fd: Int32, _ message: UnsafeMutablePointer<msghdr>?, _ flags: Int32) -> Int {
    Route.forDescriptor(fd) ? Syscall.recvmsg(fd, message, flags) : libc.recvmsg(fd, message, flags)
}

// Positioned reads are for files, which the layer reads through io_uring in a coroutine;
// elsewhere they are libc's.

@c(oc_hook_pread) @implementation
func hookPread(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ offset: off_t) -> Int {
    Route.inCoroutine ? Syscall.pread(fd, buffer, count, offset) : libc.pread(fd, buffer, count, offset)
}

@c(oc_hook_pread64) @implementation
func hookPread64(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ offset: off_t) -> Int {
    hookPread(fd, buffer, count, offset)
}

@c(oc_hook___pread_chk) @implementation
func hookCheckedPread(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ offset: off_t, _ length: Int) -> Int {
    checkBounds(count, within: length)
    return hookPread(fd, buffer, count, offset)
}

@c(oc_hook___pread64_chk) @implementation
func hookCheckedPread64(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ offset: off_t, _ length: Int) -> Int {
    hookCheckedPread(fd, buffer, count, offset, length)
}

@c(oc_hook_preadv) @implementation
func hookPreadv(_ fd: Int32, _ vectors: UnsafePointer<iovec>?, _ count: Int32, _ offset: off_t) -> Int {
    Route.inCoroutine ? Syscall.preadv(fd, vectors, count, offset) : libc.preadv(fd, vectors, count, offset)
}

@c(oc_hook_preadv64) @implementation
func hookPreadv64(_ fd: Int32, _ vectors: UnsafePointer<iovec>?, _ count: Int32, _ offset: off_t) -> Int {
    hookPreadv(fd, vectors, count, offset)
}
