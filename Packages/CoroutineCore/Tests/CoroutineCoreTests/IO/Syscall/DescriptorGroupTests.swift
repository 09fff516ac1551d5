import CCoroutineCore
import DescriptorScenarios
import Glibc
import Testing
@testable import CoroutineCore

/// The runtime's own O_NONBLOCK is the open file description's too: a copy `dup` made before
/// a coroutine took the socket must hide the flag and wait as a blocking socket, which no
/// differential scenario reaches (it creates its sockets where it runs).
@Suite struct DescriptorGroupTests {
    @Test func aCopyMadeBeforeTheRuntimeTookTheSocketStillBlocks() throws {
        let (left, right) = try DescriptorCalls.ours.pair()
        let copy = Syscall.dup(left)
        defer {
            for fd in [left, right, copy] {
                _ = Syscall.close(fd)
            }
        }
        #expect(copy >= 0)
        let read = try runInCoroutine { () -> Int in
            later(.milliseconds(10)) { DescriptorCalls.ours.write(right, "taken") }
            return DescriptorCalls.ours.read(left).0
        }
        #expect(read == 5)
        #expect(oc_sys_fcntl(left, F_GETFL, 0) & O_NONBLOCK != 0, "the runtime holds the socket non-blocking")
        #expect(Syscall.fcntl(copy, F_GETFL) & O_NONBLOCK == 0)
        later(.milliseconds(10)) { DescriptorCalls.ours.write(right, "late") }
        let (count, text) = DescriptorCalls.ours.read(copy)
        #expect(count == 4 && text == "late")
    }
}
