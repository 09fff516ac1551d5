import Glibc

/// libc's own functions, which the hooks call when a call is not theirs to take.
///
/// Resolved all at once while the library loads (`oc_hook_prepare`, from its constructor),
/// never on a first call: a first call may come from a crash handler (Swift's backtracer
/// calls `waitpid` and `read` while the process dies), where the Swift runtime's type
/// metadata machinery, which a lazy global's first use runs, must not run.
struct LibcFunctions {
    let close = libcFunction("close", as: (@convention(c) (Int32) -> Int32).self)
    let dup = libcFunction("dup", as: (@convention(c) (Int32) -> Int32).self)
    let dup2 = libcFunction("dup2", as: (@convention(c) (Int32, Int32) -> Int32).self)
    let dup3 = libcFunction("dup3", as: (@convention(c) (Int32, Int32, Int32) -> Int32).self)
    let fcntl = libcFunction("fcntl", as: (@convention(c) (Int32, Int32, Int) -> Int32).self)
    let ioctl = libcFunction("ioctl", as: (@convention(c) (Int32, UInt, UnsafeMutableRawPointer?) -> Int32).self)
    let getsockopt = libcFunction(
        "getsockopt", as: (@convention(c) (Int32, Int32, Int32, UnsafeMutableRawPointer?, UnsafeMutablePointer<socklen_t>?) -> Int32).self)
    let setsockopt = libcFunction(
        "setsockopt", as: (@convention(c) (Int32, Int32, Int32, UnsafeRawPointer?, socklen_t) -> Int32).self)
    let fsync = libcFunction("fsync", as: (@convention(c) (Int32) -> Int32).self)
    let fdatasync = libcFunction("fdatasync", as: (@convention(c) (Int32) -> Int32).self)
    let fstat = libcFunction("fstat", as: (@convention(c) (Int32, UnsafeMutablePointer<stat>?) -> Int32).self)
    let statx = libcFunction(
        "statx", as: (@convention(c) (Int32, UnsafePointer<CChar>?, Int32, UInt32, UnsafeMutableRawPointer?) -> Int32).self)
    let flock = libcFunction("flock", as: (@convention(c) (Int32, Int32) -> Int32).self)
    let wait4 = libcFunction(
        "wait4", as: (@convention(c) (pid_t, UnsafeMutablePointer<Int32>?, Int32, UnsafeMutablePointer<rusage>?) -> pid_t).self)
    let getaddrinfo = libcFunction(
        "getaddrinfo", as: (@convention(c) (UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<addrinfo>?, UnsafeMutablePointer<UnsafeMutablePointer<addrinfo>?>?) -> Int32).self)
    let getnameinfo = libcFunction(
        "getnameinfo", as: (@convention(c) (UnsafePointer<sockaddr>?, socklen_t, UnsafeMutablePointer<CChar>?, socklen_t, UnsafeMutablePointer<CChar>?, socklen_t, Int32) -> Int32).self)
    let gethostbyname = libcFunction(
        "gethostbyname", as: (@convention(c) (UnsafePointer<CChar>?) -> UnsafeMutablePointer<hostent>?).self)
    let gethostbynameR = libcFunction(
        "gethostbyname_r", as: (@convention(c) (UnsafePointer<CChar>?, UnsafeMutablePointer<hostent>?, UnsafeMutablePointer<CChar>?, Int, UnsafeMutablePointer<UnsafeMutablePointer<hostent>?>?, UnsafeMutablePointer<Int32>?) -> Int32).self)
    let poll = libcFunction("poll", as: (@convention(c) (UnsafeMutablePointer<pollfd>?, nfds_t, Int32) -> Int32).self)
    let ppoll = libcFunction(
        "ppoll", as: (@convention(c) (UnsafeMutablePointer<pollfd>?, nfds_t, UnsafePointer<timespec>?, UnsafePointer<sigset_t>?) -> Int32).self)
    let select = libcFunction(
        "select", as: (@convention(c) (Int32, UnsafeMutablePointer<fd_set>?, UnsafeMutablePointer<fd_set>?, UnsafeMutablePointer<fd_set>?, UnsafeMutablePointer<timeval>?) -> Int32).self)
    let pselect = libcFunction(
        "pselect", as: (@convention(c) (Int32, UnsafeMutablePointer<fd_set>?, UnsafeMutablePointer<fd_set>?, UnsafeMutablePointer<fd_set>?, UnsafePointer<timespec>?, UnsafePointer<sigset_t>?) -> Int32).self)
    let epollWait = libcFunction(
        "epoll_wait", as: (@convention(c) (Int32, UnsafeMutableRawPointer?, Int32, Int32) -> Int32).self)
    let epollPwait = libcFunction(
        "epoll_pwait", as: (@convention(c) (Int32, UnsafeMutableRawPointer?, Int32, Int32, UnsafePointer<sigset_t>?) -> Int32).self)
    let epollPwait2 = libcFunction(
        "epoll_pwait2", as: (@convention(c) (Int32, UnsafeMutableRawPointer?, Int32, UnsafePointer<timespec>?, UnsafePointer<sigset_t>?) -> Int32).self)
    let read = libcFunction("read", as: (@convention(c) (Int32, UnsafeMutableRawPointer?, Int) -> Int).self)
    let readv = libcFunction("readv", as: (@convention(c) (Int32, UnsafePointer<iovec>?, Int32) -> Int).self)
    let recvfrom = libcFunction(
        "recvfrom", as: (@convention(c) (Int32, UnsafeMutableRawPointer?, Int, Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?) -> Int).self)
    let recvmsg = libcFunction(
        "recvmsg", as: (@convention(c) (Int32, UnsafeMutablePointer<msghdr>?, Int32) -> Int).self)
    let pread = libcFunction("pread", as: (@convention(c) (Int32, UnsafeMutableRawPointer?, Int, off_t) -> Int).self)
    let preadv = libcFunction("preadv", as: (@convention(c) (Int32, UnsafePointer<iovec>?, Int32, off_t) -> Int).self)
    let sleep = libcFunction("sleep", as: (@convention(c) (UInt32) -> UInt32).self)
    let usleep = libcFunction("usleep", as: (@convention(c) (UInt32) -> Int32).self)
    let nanosleep = libcFunction(
        "nanosleep", as: (@convention(c) (UnsafePointer<timespec>?, UnsafeMutablePointer<timespec>?) -> Int32).self)
    let clockNanosleep = libcFunction(
        "clock_nanosleep", as: (@convention(c) (clockid_t, Int32, UnsafePointer<timespec>?, UnsafeMutablePointer<timespec>?) -> Int32).self)
    let socket = libcFunction("socket", as: (@convention(c) (Int32, Int32, Int32) -> Int32).self)
    let socketpair = libcFunction(
        "socketpair", as: (@convention(c) (Int32, Int32, Int32, UnsafeMutablePointer<Int32>?) -> Int32).self)
    let connect = libcFunction(
        "connect", as: (@convention(c) (Int32, UnsafePointer<sockaddr>?, socklen_t) -> Int32).self)
    let listen = libcFunction("listen", as: (@convention(c) (Int32, Int32) -> Int32).self)
    let accept4 = libcFunction(
        "accept4", as: (@convention(c) (Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?, Int32) -> Int32).self)
    let shutdown = libcFunction("shutdown", as: (@convention(c) (Int32, Int32) -> Int32).self)
    let sendfile = libcFunction(
        "sendfile", as: (@convention(c) (Int32, Int32, UnsafeMutablePointer<off_t>?, Int) -> Int).self)
    let splice = libcFunction(
        "splice", as: (@convention(c) (Int32, UnsafeMutablePointer<Int64>?, Int32, UnsafeMutablePointer<Int64>?, Int, UInt32) -> Int).self)
    let recvmmsg = libcFunction(
        "recvmmsg", as: (@convention(c) (Int32, UnsafeMutableRawPointer?, UInt32, Int32, UnsafeMutablePointer<timespec>?) -> Int32).self)
    let sendmmsg = libcFunction(
        "sendmmsg", as: (@convention(c) (Int32, UnsafeMutableRawPointer?, UInt32, Int32) -> Int32).self)
    let write = libcFunction("write", as: (@convention(c) (Int32, UnsafeRawPointer?, Int) -> Int).self)
    let writev = libcFunction("writev", as: (@convention(c) (Int32, UnsafePointer<iovec>?, Int32) -> Int).self)
    let sendto = libcFunction(
        "sendto", as: (@convention(c) (Int32, UnsafeRawPointer?, Int, Int32, UnsafePointer<sockaddr>?, socklen_t) -> Int).self)
    let sendmsg = libcFunction("sendmsg", as: (@convention(c) (Int32, UnsafePointer<msghdr>?, Int32) -> Int).self)
    let pwrite = libcFunction("pwrite", as: (@convention(c) (Int32, UnsafeRawPointer?, Int, off_t) -> Int).self)
    let pwritev = libcFunction("pwritev", as: (@convention(c) (Int32, UnsafePointer<iovec>?, Int32, off_t) -> Int).self)
}

/// libc's functions, resolved when the library loads.
let libc = LibcFunctions()

/// Resolves `libc` (hook.c's constructor calls it).
@c(oc_hook_prepare)
func hookPrepare() {
    _ = libc
}
