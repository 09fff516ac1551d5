import CCoroutineCore
import Glibc

/// How the guard region below each stack is made inaccessible.
public enum StackGuardMechanism: Sendable, Equatable, CustomStringConvertible {
    /// `madvise(MADV_GUARD_INSTALL)` (Linux 6.13+): guard markers inside one mapping. Slabs
    /// stay one mapping each, so the number of coroutines is bounded by memory only.
    case guardRegions
    /// `mprotect(PROT_NONE)`: each guard splits its slab's mapping, costing two of the
    /// process's `vm.max_map_count` mappings per stack (about 32,000 stacks by default).
    case protectedPages

    public var description: String {
        switch self {
        case .guardRegions: return "madvise guard regions"
        case .protectedPages: return "mprotect'ed guard pages"
        }
    }
}

/// Carves stacks out of large slabs of reserved address space.
///
/// One `mmap` per stack would cost one mapping (two with a guard page) of the process's
/// `vm.max_map_count` (65530 by default); carving stacks from slabs keeps the count of
/// mappings small. Slabs are reserved with `MAP_NORESERVE` and `MADV_NOHUGEPAGE`: a stack
/// costs only the pages it touches, and a touch never commits a 2 MiB huge page.
/// Not thread-safe; `StackPool` serializes access.
struct StackAllocator {
    /// Address space reserved per slab; a slab holds at least one stack.
    static let slabBytes = 64 << 20

    private(set) var mechanism: StackGuardMechanism = .guardRegions
    private var slabCursor: UnsafeMutableRawPointer?
    private var slabEnd: UnsafeMutableRawPointer?
    /// Rounds `size` up to whole pages after checking it is a valid stack size.
    static func normalizedSize(_ size: Int) throws(CoroutineError) -> Int {
        guard size >= StackSize.minimum, size <= StackSize.maximum else {
            throw .invalidStackSize(size)
        }
        let pageSize = Int(getpagesize())
        return (size + pageSize - 1) / pageSize * pageSize
    }

    /// A new stack of `size` bytes (already normalized) with its guard region installed.
    mutating func allocate(size: Int) throws(CoroutineError) -> Stack {
        let slot = StackSize.guardSize + size
        if let cursor = slabCursor, let end = slabEnd, cursor.distance(to: end) >= slot {
            slabCursor = cursor + slot
            return try installGuard(slot: cursor, size: size)
        }
        let slab = try mapSlab(bytes: max(Self.slabBytes, slot))
        slabCursor = slab + slot
        slabEnd = slab + max(Self.slabBytes, slot)
        return try installGuard(slot: slab, size: size)
    }

    /// Gives a stack's touched pages back to the kernel; the stack stays usable.
    func releasePages(of stack: Stack) {
        // Sound: the range is a stack we own and nobody runs on while it is pooled.
        _ = madvise(stack.low, stack.size, MADV_DONTNEED)
    }

    private func mapSlab(bytes: Int) throws(CoroutineError) -> UnsafeMutableRawPointer {
        let flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE
        guard let slab = mmap(nil, bytes, PROT_READ | PROT_WRITE, flags, -1, 0), slab != MAP_FAILED else {
            throw .stackAllocationFailed(errno: errno)
        }
        _ = madvise(slab, bytes, MADV_NOHUGEPAGE)
        return slab
    }

    private mutating func installGuard(slot: UnsafeMutableRawPointer, size: Int) throws(CoroutineError) -> Stack {
        let guardSize = StackSize.guardSize
        if mechanism == .guardRegions, madvise(slot, guardSize, oc_madv_guard_install) != 0 {
            CoroutineLogging.logger.notice("madvise guard regions unavailable (errno \(errno)); using mprotect")
            mechanism = .protectedPages
        }
        if mechanism == .protectedPages, mprotect(slot, guardSize, PROT_NONE) != 0 {
            throw .stackAllocationFailed(errno: errno)
        }
        let low = slot + guardSize
        return Stack(guardLow: slot, low: low, high: low + size)
    }
}
