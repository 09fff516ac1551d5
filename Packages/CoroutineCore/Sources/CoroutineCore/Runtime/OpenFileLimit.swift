import Glibc

/// The process's limit on open descriptors. A program that keeps thousands of coroutines, each
/// holding a socket, outgrows the usual soft limit of 1,024 long before anything else.
public enum OpenFileLimit {
    /// Raises the soft limit to the hard one.
    ///
    /// - Throws: `SystemError` with EMFILE when even the hard limit is below `needed`, or the
    ///   errno of `setrlimit` when the kernel refuses.
    public static func raise(toAtLeast needed: Int = 0) throws(SystemError) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else {
            throw SystemError(operation: "getrlimit(RLIMIT_NOFILE)", code: errno)
        }
        guard limit.rlim_max >= rlim_t(max(needed, 0)) else {
            throw SystemError(operation: "\(needed) open descriptors, above the hard limit of \(limit.rlim_max),", code: EMFILE)
        }
        guard limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else {
            throw SystemError(operation: "setrlimit(RLIMIT_NOFILE)", code: errno)
        }
    }
}
