import Glibc
import Testing

/// CoroutineCore links jemalloc so that it replaces malloc for the whole process: tasks are
/// allocated on one thread and freed on another, which glibc's allocator handles poorly.
@Suite struct AllocatorTests {
    @Test(.disabled(if: runsUnderSanitizer, "a sanitizer build leaves jemalloc out: the sanitizer's allocator serves malloc"))
    func mallocResolvesToJemalloc() throws {
        let jemalloc = try #require(dlopen("libjemalloc.so.2", RTLD_NOW | RTLD_NOLOAD), "jemalloc is not loaded")
        defer { dlclose(jemalloc) }
        let global = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc")
        #expect(global != nil)
        #expect(global == dlsym(jemalloc, "malloc"))
    }
}
