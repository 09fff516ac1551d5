import Foundation
import Testing
@testable import CoroutineCore

@Suite struct StackPoolTests {
    @Test func recycledStacksAreReused() throws {
        let pool = StackPool(warmLimit: 2)
        let first = try pool.take(size: 64 * 1024)
        pool.recycle(first)
        let second = try pool.take(size: 64 * 1024)
        #expect(second.low == first.low)
    }

    @Test func sizesAreRoundedToPages() throws {
        let pool = StackPool()
        let stack = try pool.take(size: 64 * 1024 + 1)
        #expect(stack.size == 64 * 1024 + 4096)
        #expect(stack.guardLow.distance(to: stack.low) == StackSize.guardSize)
    }

    @Test func idleStacksBeyondTheBoundGiveTheirPagesBack() throws {
        let pool = StackPool(warmLimit: 2)
        let stacks = try (0..<5).map { _ in try pool.take(size: 32 * 1024) }
        for stack in stacks {
            stack.high.advanced(by: -8).storeBytes(of: 0xC0FFEE, as: Int.self)
            pool.recycle(stack)
        }
        #expect(pool.idleCounts(size: 32 * 1024) == (warm: 2, cold: 3))
        let cold = stacks[4]
        #expect(cold.high.advanced(by: -8).load(as: Int.self) == 0, "MADV_DONTNEED pages read back as zero")
        let warm = stacks[0]
        #expect(warm.high.advanced(by: -8).load(as: Int.self) == 0xC0FFEE)
    }

    @Test func invalidSizesAreRejected() {
        let pool = StackPool()
        #expect(throws: CoroutineError.invalidStackSize(0)) { try pool.take(size: 0) }
        #expect(throws: CoroutineError.invalidStackSize(StackSize.maximum + 1)) {
            try pool.take(size: StackSize.maximum + 1)
        }
    }

    @Test func hundredThousandStacksStayWithinTheMappingLimit() throws {
        let pool = StackPool()
        pool.recycle(try pool.take(size: 64 * 1024))
        // mprotect'ed guards split mappings: two per stack, so only 20,000 fit the limit.
        let count = pool.guardMechanism == .guardRegions ? 100_000 : 20_000
        let before = try mappingCount()
        let stacks = try (0..<count).map { _ in try pool.take(size: 64 * 1024) }
        let added = try mappingCount() - before
        defer { stacks.forEach(pool.recycle) }
        if pool.guardMechanism == .guardRegions {
            #expect(added < 1_000, "slabs, not stacks, should cost mappings: \(added)")
        } else {
            #expect(added <= 2 * count + 1_000)
        }
    }

    private func mappingCount() throws -> Int {
        try String(contentsOfFile: "/proc/self/maps", encoding: .utf8).split(separator: "\n").count
    }
}

@Suite struct SharedStackPoolTests {
    @Test func exitingThreadHandsItsCachedStacksToThePool() throws {
        let size = 88 * 1024
        let before = StackPool.shared.idleCounts(size: size).warm
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            let stacks = (0..<3).compactMap { _ in try? StackPool.takeShared(size: size) }
            stacks.forEach(StackPool.recycleShared)
            done.signal()
        }
        thread.start()
        #expect(done.wait(timeout: .now() + 10) == .success)
        let deadline = Date().addingTimeInterval(10)
        while StackPool.shared.idleCounts(size: size).warm < before + 3 && Date() < deadline {
            usleep(1_000)
        }
        #expect(StackPool.shared.idleCounts(size: size).warm == before + 3)
    }

    @Test func threadCacheReusesTheLastStack() throws {
        let first = try StackPool.takeShared(size: 96 * 1024)
        StackPool.recycleShared(first)
        let second = try StackPool.takeShared(size: 96 * 1024)
        #expect(second.low == first.low)
        StackPool.recycleShared(second)
    }
}
