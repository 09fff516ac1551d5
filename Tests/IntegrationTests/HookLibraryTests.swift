import Glibc
import Testing

/// The hook library's C API, reached the way a C program reaches it: by symbol name in
/// the process's global scope.
@Suite struct HookLibraryTests {
    typealias MaybeGrowStack = @convention(c) (Int, Int, @convention(c) (UInt) -> UInt, UInt) -> UInt

    @Test func maybeGrowStackIsExportedByName() throws {
        let symbol = try #require(dlsym(UnsafeMutableRawPointer(bitPattern: 0), "maybe_grow_stack"))
        let maybeGrowStack = unsafeBitCast(symbol, to: MaybeGrowStack.self)
        let triple: @convention(c) (UInt) -> UInt = { $0 * 3 }
        #expect(maybeGrowStack(Int.max, 1 << 20, triple, 14) == 42)
        #expect(maybeGrowStack(0, 1 << 20, triple, 5) == 15)
    }
}
