import CCoroutineHook
import CoroutineCore
import Glibc


@c(oc_hook_write) @implementation
func hookWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    Route.forDescriptor(fd) ? Syscall.write(fd, buffer, count) : libc.write(fd, buffer, count)
}

@c(oc_hook___write) @implementation
func hookInternalWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    hookWrite(fd, buffer, count)
}

@c(oc_hook_writev) @implementation
func hookWritev(_ fd: Int32, _ vectors: UnsafePointer<iovec>?, _ count: Int32) -> Int {
    Route.forDescriptor(fd) ? Syscall.writev(fd, vectors, count) : libc.writev(fd, vectors, count)
}

@c(oc_hook_send) @implementation
func hookSend(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int, _ flags: Int32) -> Int {
    hookSendto(fd, buffer, count, flags, nil, 0)
}

@c(oc_hook___send) @implementation
func hookInternalSend(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int, _ flags: Int32) -> Int {
    hookSendto(fd, buffer, count, flags, nil, 0)
}

@c(oc_hook_sendto) @implementation
func hookSendto(
    _ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int, _ flags: Int32, _ address: UnsafePointer<sockaddr>?, _ length: socklen_t
) -> Int {
    Route.forDescriptor(fd)
        ? Syscall.sendto(fd, buffer, count, flags, address, length)
        : libc.sendto(fd, buffer, count, flags, address, length)
}

@c(oc_hook_sendmsg) @implementation
func hookSendmsg(_ fd: Int32, _ message: UnsafePointer<msghdr>?, _ flags: Int32) -> Int {
    Route.forDescriptor(fd) ? Syscall.sendmsg(fd, message, flags) : libc.sendmsg(fd, message, flags)
}

// Positioned writes are for files; see the positioned reads.

@c(oc_hook_pwrite) @implementation
func hookPwrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int, _ offset: off_t) -> Int {
    Route.inCoroutine ? Syscall.pwrite(fd, buffer, count, offset) : libc.pwrite(fd, buffer, count, offset)
}

@c(oc_hook_pwrite64) @implementation
func hookPwrite64(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int, _ offset: off_t) -> Int {
    hookPwrite(fd, buffer, count, offset)
}

@c(oc_hook_pwritev) @implementation
func hookPwritev(_ fd: Int32, _ vectors: UnsafePointer<iovec>?, _ count: Int32, _ offset: off_t) -> Int {
    Route.inCoroutine ? Syscall.pwritev(fd, vectors, count, offset) : libc.pwritev(fd, vectors, count, offset)
}

@c(oc_hook_pwritev64) @implementation
func hookPwritev64(_ fd: Int32, _ vectors: UnsafePointer<iovec>?, _ count: Int32, _ offset: off_t) -> Int {
    hookPwritev(fd, vectors, count, offset)
}
