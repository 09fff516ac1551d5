import Glibc

extension Syscall {
    /// The total length of `count` vectors (saturating: a kernel call rejects such lengths
    /// anyway, and the loops that use the total stop at the first error).
    static func totalLength(_ vectors: UnsafePointer<iovec>?, _ count: Int32) -> Int {
        guard let vectors, count > 0 else { return 0 }
        var total = 0
        for index in 0..<Int(count) {
            let (sum, overflow) = total.addingReportingOverflow(vectors[index].iov_len)
            total = overflow ? .max : sum
        }
        return total
    }

    /// Calls `body` with the part of `vectors` after the first `skipped` bytes: the vectors
    /// themselves when nothing was skipped, otherwise a trimmed copy.
    static func withVectors<Result>(
        _ vectors: UnsafePointer<iovec>?, _ count: Int32, skipping skipped: Int,
        _ body: (UnsafePointer<iovec>?, Int32) -> Result
    ) -> Result {
        guard skipped > 0, let vectors else { return body(vectors, count) }
        var remaining: [iovec] = []
        var toSkip = skipped
        for index in 0..<Int(count) {
            var vector = vectors[index]
            if toSkip >= vector.iov_len {
                toSkip -= vector.iov_len
                continue
            }
            vector.iov_base = vector.iov_base.map { $0 + toSkip }
            vector.iov_len -= toSkip
            toSkip = 0
            remaining.append(vector)
        }
        return remaining.withUnsafeBufferPointer { body($0.baseAddress, Int32($0.count)) }
    }
}
