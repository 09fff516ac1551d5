import CCoroutineCore
import Glibc

// The calls that wait for something no event loop can watch: a child process, a file lock.
// In a coroutine they wait on the blocking pool (BlockingPool.swift); a call that asks not to
// wait goes to the kernel at once.

extension Syscall {
    /// `wait4(2)`: waits for a child on the blocking pool, unless `WNOHANG`.
    public static func wait4(
        _ pid: pid_t, _ status: UnsafeMutablePointer<Int32>?, _ options: Int32, _ usage: UnsafeMutablePointer<rusage>?
    ) -> pid_t {
        guard options & WNOHANG == 0 else { return oc_sys_wait4(pid, status, options, usage) }
        return runOnBlockingPool("wait4") { oc_sys_wait4(pid, status, options, usage) }
    }

    /// `waitpid(2)`, as `wait4` without the usage.
    public static func waitpid(_ pid: pid_t, _ status: UnsafeMutablePointer<Int32>?, _ options: Int32) -> pid_t {
        wait4(pid, status, options, nil)
    }

    /// `flock(2)`: waits for the lock on the blocking pool, unless `LOCK_NB`.
    public static func flock(_ fd: Int32, _ operation: Int32) -> Int32 {
        guard operation & LOCK_NB == 0, operation & LOCK_UN == 0 else { return oc_sys_flock(fd, operation) }
        return runOnBlockingPool("flock") { oc_sys_flock(fd, operation) }
    }
}
