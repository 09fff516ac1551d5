import CCoroutineHook
import CoroutineCore
import Glibc


// Sockets created in a coroutine start non-blocking in the kernel; elsewhere libc creates them,
// and the layer learns about them when a coroutine first uses them.

@c(oc_hook_socket) @implementation
func hookSocket(_ domain: Int32, _ type: Int32, _ protocolNumber: Int32) -> Int32 {
    Route.inCoroutine ? Syscall.socket(domain, type, protocolNumber) : libc.socket(domain, type, protocolNumber)
}

@c(oc_hook_socketpair) @implementation
func hookSocketpair(_ domain: Int32, _ type: Int32, _ protocolNumber: Int32, _ pair: UnsafeMutablePointer<Int32>?) -> Int32 {
    Route.inCoroutine
        ? Syscall.socketpair(domain, type, protocolNumber, pair)
        : libc.socketpair(domain, type, protocolNumber, pair)
}

@c(oc_hook_connect) @implementation
func hookConnect(_ fd: Int32, _ address: UnsafePointer<sockaddr>?, _ length: socklen_t) -> Int32 {
    Route.forDescriptor(fd) ? Syscall.connect(fd, address, length) : libc.connect(fd, address, length)
}

@c(oc_hook___connect) @implementation
func hookInternalConnect(_ fd: Int32, _ address: UnsafePointer<sockaddr>?, _ length: socklen_t) -> Int32 {
    hookConnect(fd, address, length)
}

@c(oc_hook_listen) @implementation
func hookListen(_ fd: Int32, _ backlog: Int32) -> Int32 {
    Route.always ? Syscall.listen(fd, backlog) : libc.listen(fd, backlog)
}

@c(oc_hook_accept) @implementation
func hookAccept(_ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>?, _ length: UnsafeMutablePointer<socklen_t>?) -> Int32 {
    hookAccept4(fd, address, length, 0)
}

@c(oc_hook_accept4) @implementation
func hookAccept4(
    _ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>?, _ length: UnsafeMutablePointer<socklen_t>?, _ flags: Int32
) -> Int32 {
    Route.forDescriptor(fd) ? Syscall.accept4(fd, address, length, flags) : libc.accept4(fd, address, length, flags)
}

@c(oc_hook_shutdown) @implementation
func hookShutdown(_ fd: Int32, _ how: Int32) -> Int32 {
    Route.always ? Syscall.shutdown(fd, how) : libc.shutdown(fd, how)
}


@c(oc_hook_sendfile) @implementation
func hookSendfile(_ out: Int32, _ input: Int32, _ offset: UnsafeMutablePointer<off_t>?, _ count: Int) -> Int {
    Route.forDescriptor(out) ? Syscall.sendfile(out, input, offset, count) : libc.sendfile(out, input, offset, count)
}

@c(oc_hook_sendfile64) @implementation
func hookSendfile64(_ out: Int32, _ input: Int32, _ offset: UnsafeMutablePointer<off_t>?, _ count: Int) -> Int {
    hookSendfile(out, input, offset, count)
}

@c(oc_hook_splice) @implementation
func hookSplice(
    _ input: Int32, _ inputOffset: UnsafeMutablePointer<Int64>?, _ out: Int32, _ outputOffset: UnsafeMutablePointer<Int64>?,
    _ count: Int, _ flags: UInt32
) -> Int {
    Route.forDescriptor(input) || Route.forDescriptor(out)
        ? Syscall.splice(input, inputOffset, out, outputOffset, count, flags)
        : libc.splice(input, inputOffset, out, outputOffset, count, flags)
}

@c(oc_hook_recvmmsg) @implementation
func hookRecvmmsg(
    _ fd: Int32, _ messages: UnsafeMutableRawPointer?, _ count: UInt32, _ flags: Int32, _ timeout: UnsafeMutablePointer<timespec>?
) -> Int32 {
    Route.forDescriptor(fd) ? Syscall.recvmmsg(fd, messages, count, flags, timeout) : libc.recvmmsg(fd, messages, count, flags, timeout)
}

@c(oc_hook_sendmmsg) @implementation
func hookSendmmsg(_ fd: Int32, _ messages: UnsafeMutableRawPointer?, _ count: UInt32, _ flags: Int32) -> Int32 {
    Route.forDescriptor(fd) ? Syscall.sendmmsg(fd, messages, count, flags) : libc.sendmmsg(fd, messages, count, flags)
}
