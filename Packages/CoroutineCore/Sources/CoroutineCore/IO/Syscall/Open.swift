import CCoroutineCore
import Glibc

extension Syscall {
    /// `open(2)`: in a coroutine through io_uring (an open can wait for the disk, or, for a
    /// FIFO, for the other end), elsewhere to the kernel. The new number starts a new
    /// generation in the descriptor table, so nothing the runtime knew of a descriptor that
    /// had this number (say, a socket closed by code that bypassed `close`) carries over.
    /// `mode` counts only with `O_CREAT` or `O_TMPFILE`, as for libc's.
    public static func open(_ path: UnsafePointer<CChar>?, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
        openat(AT_FDCWD, path, flags, mode)
    }

    /// `openat(2)`, as `open`, relative to `directory`.
    public static func openat(_ directory: Int32, _ path: UnsafePointer<CChar>?, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
        // A missing or empty path fails at once in the kernel, which checks the flags first
        // (EINVAL) where io_uring looks at the path first (ENOENT).
        let named = path.map { $0.pointee != 0 } ?? false
        let fd = (named && !namesTheCallingThread(path) ? StorageCall.current : nil).map { call in
            Int32(call.run("openat", OC_RING_OPENAT, submit: { oc_ring_openat($0, directory, path, flags, mode, $1) }) {
                Int(oc_sys_openat(directory, path, flags, mode))
            })
        } ?? oc_sys_openat(directory, path, flags, mode)
        if fd >= 0 {
            Descriptor.existing(fd)?.invalidate()
        }
        return fd
    }

    /// Whether `path` goes through /proc/thread-self, which the kernel resolves for the
    /// thread that makes the open: through io_uring, an io worker thread, not the caller's.
    /// Such an open is quick, and goes to the kernel from the calling thread.
    private static func namesTheCallingThread(_ path: UnsafePointer<CChar>?) -> Bool {
        guard let path else { return false }
        return strncmp(path, "/proc/thread-self", 17) == 0
    }
}
