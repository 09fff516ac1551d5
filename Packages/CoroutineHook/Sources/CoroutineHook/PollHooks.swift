import CCoroutineHook
import CoroutineCore
import Glibc


@c(oc_hook_poll) @implementation
func hookPoll(_ fds: UnsafeMutablePointer<pollfd>?, _ count: nfds_t, _ timeout: Int32) -> Int32 {
    guard Route.inCoroutine else { return libc.poll(fds, count, timeout) }
    if let fds, count > 0, RunLoopWaits.isRunLoopWait {
        let capped = RunLoopWaits.cappedMilliseconds(timeout)
        return RunLoopWaits.wait(on: fds, { Syscall.poll(fds, count, capped) }, pollNow: { Syscall.poll(fds, count, 0) })
    }
    return Syscall.poll(fds, count, timeout)
}

@c(oc_hook___poll) @implementation
func hookInternalPoll(_ fds: UnsafeMutablePointer<pollfd>?, _ count: nfds_t, _ timeout: Int32) -> Int32 {
    hookPoll(fds, count, timeout)
}

/// glibc's fortified poll: `length` is the size of the array the caller owns.
@c(oc_hook___poll_chk) @implementation
func hookCheckedPoll(_ fds: UnsafeMutablePointer<pollfd>?, _ count: nfds_t, _ timeout: Int32, _ length: Int) -> Int32 {
    checkBounds(Int(count) * MemoryLayout<pollfd>.size, within: length)
    return hookPoll(fds, count, timeout)
}

@c(oc_hook_ppoll) @implementation
func hookPpoll(
    _ fds: UnsafeMutablePointer<pollfd>?, _ count: nfds_t, _ timeout: UnsafePointer<timespec>?, _ mask: UnsafePointer<sigset_t>?
) -> Int32 {
    guard Route.inCoroutine else { return libc.ppoll(fds, count, timeout, mask) }
    if let fds, count > 0, RunLoopWaits.isRunLoopWait {
        var capped = RunLoopWaits.capped(timeout?.pointee)
        return RunLoopWaits.wait(on: fds, { Syscall.ppoll(fds, count, &capped, mask) }, pollNow: { Syscall.poll(fds, count, 0) })
    }
    return Syscall.ppoll(fds, count, timeout, mask)
}

@c(oc_hook___ppoll_chk) @implementation
func hookCheckedPpoll(
    _ fds: UnsafeMutablePointer<pollfd>?, _ count: nfds_t, _ timeout: UnsafePointer<timespec>?, _ mask: UnsafePointer<sigset_t>?,
    _ length: Int
) -> Int32 {
    checkBounds(Int(count) * MemoryLayout<pollfd>.size, within: length)
    return hookPpoll(fds, count, timeout, mask)
}

@c(oc_hook_select) @implementation
func hookSelect(
    _ count: Int32, _ read: UnsafeMutablePointer<fd_set>?, _ write: UnsafeMutablePointer<fd_set>?,
    _ except: UnsafeMutablePointer<fd_set>?, _ timeout: UnsafeMutablePointer<timeval>?
) -> Int32 {
    Route.inCoroutine
        ? Syscall.select(count, read, write, except, timeout)
        : libc.select(count, read, write, except, timeout)
}

@c(oc_hook___select) @implementation
func hookInternalSelect(
    _ count: Int32, _ read: UnsafeMutablePointer<fd_set>?, _ write: UnsafeMutablePointer<fd_set>?,
    _ except: UnsafeMutablePointer<fd_set>?, _ timeout: UnsafeMutablePointer<timeval>?
) -> Int32 {
    hookSelect(count, read, write, except, timeout)
}

@c(oc_hook_pselect) @implementation
func hookPselect(
    _ count: Int32, _ read: UnsafeMutablePointer<fd_set>?, _ write: UnsafeMutablePointer<fd_set>?,
    _ except: UnsafeMutablePointer<fd_set>?, _ timeout: UnsafePointer<timespec>?, _ mask: UnsafePointer<sigset_t>?
) -> Int32 {
    Route.inCoroutine
        ? Syscall.pselect(count, read, write, except, timeout, mask)
        : libc.pselect(count, read, write, except, timeout, mask)
}

@c(oc_hook_epoll_wait) @implementation
func hookEpollWait(_ epoll: Int32, _ events: UnsafeMutableRawPointer?, _ maxEvents: Int32, _ timeout: Int32) -> Int32 {
    Route.inCoroutine ? Syscall.epoll_wait(epoll, events, maxEvents, timeout) : libc.epollWait(epoll, events, maxEvents, timeout)
}


@c(oc_hook_epoll_pwait) @implementation
func hookEpollPwait(
    _ epoll: Int32, _ events: UnsafeMutableRawPointer?, _ maxEvents: Int32, _ timeout: Int32, _ mask: UnsafePointer<sigset_t>?
) -> Int32 {
    Route.inCoroutine
        ? Syscall.epoll_pwait(epoll, events, maxEvents, timeout, mask)
        : libc.epollPwait(epoll, events, maxEvents, timeout, mask)
}

@c(oc_hook_epoll_pwait2) @implementation
func hookEpollPwait2(
    _ epoll: Int32, _ events: UnsafeMutableRawPointer?, _ maxEvents: Int32, _ timeout: UnsafePointer<timespec>?,
    _ mask: UnsafePointer<sigset_t>?
) -> Int32 {
    Route.inCoroutine
        ? Syscall.epoll_pwait2(epoll, events, maxEvents, timeout, mask)
        : libc.epollPwait2(epoll, events, maxEvents, timeout, mask)
}
