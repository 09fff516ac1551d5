import Foundation
import Glibc

/// Writes `size` bytes to a new file in the temporary directory with plain write(2), reads
/// them back with pread(2), checks them and removes the file; returns the bytes read back.
///
/// - Throws: `CallError` when a call fails or the bytes read differ from those written.
public func writeAndReadBack(size: Int, tag: UInt8) throws -> Int {
    var template = Array(FileManager.default.temporaryDirectory.appendingPathComponent("oc-example.XXXXXX").path.utf8CString)
    let fd = mkstemp(&template)
    guard fd >= 0 else { throw CallError("mkstemp") }
    defer {
        close(fd)
        unlink(template)
    }
    let written = (0..<size).map { UInt8(truncatingIfNeeded: $0) &+ tag }
    try written.withUnsafeBytes { try writeAll(fd, $0) }
    var back = [UInt8](repeating: 0, count: size)
    var offset = 0
    while offset < size {
        let count = back.withUnsafeMutableBytes { pread(fd, $0.baseAddress.map { $0 + offset }, size - offset, off_t(offset)) }
        if count < 0 && errno == EINTR { continue }
        guard count > 0 else { throw CallError("pread", code: count == 0 ? EIO : errno) }
        offset += count
    }
    guard back == written else { throw CallError("compare what was read with what was written", code: EIO) }
    return offset
}
