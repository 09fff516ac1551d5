import CCoroutineCore
import Glibc

extension Syscall {
    /// `close(2)`. Every coroutine waiting on the descriptor, on any thread, wakes and its
    /// call fails with `EBADF`; what the runtime knew about the number is forgotten first, so
    /// that a socket that reuses the number starts afresh. In a coroutine, a file is closed
    /// through io_uring (the last close of a file can wait for the disk).
    public static func close(_ fd: Int32) -> Int32 {
        let route = fileRoute(fd)
        Descriptor.existing(fd)?.invalidate()
        guard case .storage(let call) = route else { return oc_sys_close(fd) }
        return Int32(call.run("close", OC_RING_CLOSE, submit: { oc_ring_close($0, fd, $1) }) { Int(oc_sys_close(fd)) })
    }

    /// `dup(2)`: the new number shares the open file, and so what the runtime knows of it.
    public static func dup(_ fd: Int32) -> Int32 {
        let duplicate = oc_sys_dup(fd)
        recordDuplicate(duplicate, of: fd)
        return duplicate
    }

    /// `dup2(2)`. Replacing an open descriptor ends its waits, as `close` does.
    public static func dup2(_ fd: Int32, _ target: Int32) -> Int32 {
        // dup3 refuses equal numbers; dup2 answers them itself, as glibc does: the number
        // when it is open, EBADF when it is not.
        guard fd != target else {
            return oc_sys_fcntl(fd, F_GETFD, 0) < 0 ? -1 : target
        }
        return dup3(fd, target, 0)
    }

    /// `dup3(2)`. Replacing an open descriptor ends its waits, as `close` does.
    public static func dup3(_ fd: Int32, _ target: Int32, _ flags: Int32) -> Int32 {
        let duplicate = oc_sys_dup3(fd, target, flags)
        recordDuplicate(duplicate, of: fd)
        return duplicate
    }

    /// Records what `dup`, `dup2`, `dup3` and `fcntl(F_DUPFD)` made: `duplicate` names the
    /// open file `fd` names, in a new generation.
    static func recordDuplicate(_ duplicate: Int32, of fd: Int32) {
        guard duplicate >= 0, let copy = Descriptor(duplicate) else { return }
        if let source = Descriptor(fd) {
            copy.adopt(sameFileAs: source)
        } else {
            copy.invalidate()
        }
    }
}
