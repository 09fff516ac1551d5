import Foundation
import Glibc

/// Writes `size` bytes to a new file in the temporary directory with plain write(2), syncs
/// them to the disk with fsync(2), reads them back with pread(2), checks them and removes the
/// file; returns the bytes read back.
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
    var written = [UInt8](repeating: tag, count: size)
    for page in stride(from: 0, to: size, by: 4_096) {
        written[page] = UInt8(truncatingIfNeeded: page >> 12)
    }
    try written.withUnsafeBytes { try writeAll(fd, $0) }
    guard fsync(fd) == 0 else { throw CallError("fsync") }
    var back = [UInt8](repeating: 0, count: size)
    var offset = 0
    while offset < size {
        let count = back.withUnsafeMutableBytes { pread(fd, $0.baseAddress.map { $0 + offset }, size - offset, off_t(offset)) }
        if count < 0 && errno == EINTR { continue }
        guard count > 0 else { throw CallError("pread", code: count == 0 ? EIO : errno) }
        offset += count
    }
    let same = back.withUnsafeBytes { back in
        written.withUnsafeBytes { written in
            guard let back = back.baseAddress, let written = written.baseAddress else { return size == 0 }
            return memcmp(back, written, size) == 0
        }
    }
    guard same else { throw CallError("compare what was read with what was written", code: EIO) }
    return offset
}
