import CCoroutineCore
import Glibc

extension Syscall {
    /// `fsync(2)`: in a coroutine, a file is synced through io_uring; elsewhere, the kernel.
    public static func fsync(_ fd: Int32) -> Int32 {
        sync(fd, dataOnly: false, "fsync")
    }

    /// `fdatasync(2)`, as `fsync`.
    public static func fdatasync(_ fd: Int32) -> Int32 {
        sync(fd, dataOnly: true, "fdatasync")
    }

    private static func sync(_ fd: Int32, dataOnly: Bool, _ name: String) -> Int32 {
        let plain = { dataOnly ? oc_sys_fdatasync(fd) : oc_sys_fsync(fd) }
        guard case .storage(let call) = fileRoute(fd) else { return plain() }
        return Int32(call.run(name, OC_RING_FSYNC, submit: { oc_ring_fsync($0, fd, dataOnly, $1) }) { Int(plain()) })
    }

    /// `statx(2)`: in a coroutine through io_uring (a lookup can wait for the disk), elsewhere
    /// the kernel. `result` points at a `struct statx` (which Swift's view of glibc lacks).
    public static func statx(
        _ directory: Int32, _ path: UnsafePointer<CChar>?, _ flags: Int32, _ mask: UInt32,
        _ result: UnsafeMutableRawPointer?
    ) -> Int32 {
        let result = result?.assumingMemoryBound(to: oc_statx.self)
        let plain = { oc_sys_statx(directory, path, flags, mask, result) }
        guard let call = StorageCall.current else { return plain() }
        return Int32(call.run("statx", OC_RING_STATX, submit: { oc_ring_statx($0, directory, path, flags, mask, result, $1) }) {
            Int(plain())
        })
    }

    /// `fstat(2)`: in a coroutine, a file's status comes through io_uring's statx; elsewhere,
    /// and for sockets and streams, from the kernel's fstat.
    public static func fstat(_ fd: Int32, _ status: UnsafeMutablePointer<stat>?) -> Int32 {
        guard let status, case .storage(let call) = fileRoute(fd) else { return oc_sys_fstat(fd, status) }
        var extended = oc_statx()
        let result = withUnsafeMutablePointer(to: &extended) { extended in
            call.run("fstat", OC_RING_STATX, submit: { oc_ring_fstat($0, fd, extended, $1) }) {
                Int(oc_sys_fstat_statx(fd, extended))
            }
        }
        if result == 0 {
            oc_stat_from_statx(status, &extended)
        }
        return Int32(result)
    }
}
