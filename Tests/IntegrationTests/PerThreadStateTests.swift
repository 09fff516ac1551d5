import CCoroutineCore
import CoroutineCore
import Foundation
import Glibc
import Synchronization
import Testing

extension SharedRuntimeTests {
    /// The rows of Docs/coroutines.md's "What is per task, what is per thread" that say "per
    /// thread": what tasks of one thread share, as a test that fails if that ever changes
    /// without the table.
    @Suite struct PerThreadStateTests {
        /// Two tasks of one thread see one `pthread_self()`, one kernel thread id and one
        /// value of a pthread key: the second reads what the first set before it suspended.
        @Test func tasksOfOneThreadShareItsIdentityAndKeys() throws {
            var key = pthread_key_t()
            try #require(pthread_key_create(&key, nil) == 0)
            defer { pthread_key_delete(key) }
            let sharedKey = key
            let firstSet = Atomic<Bool>(false)
            let (first, second) = try withSharedRuntime(RuntimeConfiguration(threads: 1)) { runtime in
                let first = try runtime.spawn { () -> [UInt] in
                    pthread_setspecific(sharedKey, UnsafeRawPointer(bitPattern: 0x5EED))
                    firstSet.store(true, ordering: .releasing)
                    usleep(50_000)
                    return [UInt(bitPattern: Int(bitPattern: UInt(pthread_self()))), UInt(oc_thread_id())]
                }
                let second = try runtime.spawn { () -> [UInt] in
                    while !firstSet.load(ordering: .acquiring) { usleep(1_000) }
                    let seen = UInt(bitPattern: pthread_getspecific(sharedKey))
                    return [UInt(bitPattern: Int(bitPattern: UInt(pthread_self()))), UInt(oc_thread_id()), seen]
                }
                return (try first.join(timeout: .seconds(5)), try second.join(timeout: .seconds(5)))
            }
            #expect(first[0] == second[0], "pthread_self")
            #expect(first[1] == second[1], "gettid")
            #expect(second[2] == 0x5EED, "the key's value set by the other task")
        }

        /// A task's thread is its scheduler thread, named `oc-scheduler-N`, as
        /// `Thread.current` and the kernel see it.
        @Test func threadCurrentIsTheSchedulerThread() throws {
            let names = try withSharedRuntime(RuntimeConfiguration(threads: 1)) { runtime in
                try (0..<2).map { _ in
                    try runtime.spawn { () -> String in
                        // Opened through the hooks: /proc/thread-self must still be the task's
                        // thread, not the io_uring worker that makes a task's other opens.
                        let comm = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
                        return comm.trimmingCharacters(in: .whitespacesAndNewlines)
                    }
                }.map { try $0.join(timeout: .seconds(5)) }
            }
            #expect(names == ["oc-scheduler-0", "oc-scheduler-0"])
        }
    }
}
