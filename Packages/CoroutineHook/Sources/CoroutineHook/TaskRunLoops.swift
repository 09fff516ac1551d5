import CCoroutineHook
import CoroutineCore
import Glibc
import Synchronization

// CoreFoundation's run loop, one per task.
//
// A run loop belongs to a thread: CoreFoundation keeps the current one in a thread-specific
// slot and makes one per `pthread_t`. Tasks that share a scheduler thread would share it, and
// a timer or source one task adds would fire inside another task's run of it. So each task
// that asks for its current run loop gets one of its own.
//
// How. Every read of the current run loop in CoreFoundation and Foundation (`CFRunLoopGetCurrent`,
// the copies of it the compiler inlined into `CFRunLoopRun` and `CFRunLoopRunInMode`, the check
// `_CFRunLoopIsCurrent`) reads that slot through `_CFGetTSD` or `_CFGetTSDCreateIfNeeded`,
// exported functions that libFoundation.so calls through its own procedure linkage table. The
// hook library points those calls at its own (redirect.c, core_foundation.c): in a task, the
// run-loop slot answers the task's run loop (`taskRunLoop(creating:)`), and any other slot, or
// any caller that is not a task, gets CoreFoundation's answer. The first task to ask checks
// that CoreFoundation keeps a thread's run loop in that slot; if not (a CoreFoundation this
// was not written against), run loops stay per thread, as without the hook. A task's run loop
// comes from `_CFRunLoopGet0`, the function that makes a thread's, given a key that is no
// thread: the address of an allocation the library never frees, so no live `pthread_t` can
// equal it.
//
// Recycled, not destroyed. CoreFoundation keeps every run loop it made in a table keyed by
// thread, and only the thread-exit destructor of the thread itself takes one out; a run loop
// holds three descriptors (its wakeup eventfd, its default mode's epoll and timerfd). So a run
// loop outlives its task: the task's end (its values are released then, before `join`
// returns) gives it back, and the next task to ask takes it. A run loop that still has
// sources or timers in some mode (a `Process` whose child is still running keeps one until
// the child ends; a repeating timer nobody invalidated keeps one for ever) is not given to
// another task, whose runs would fire them; it waits aside until every mode is empty. The run
// loops alive at once are the most tasks that used one at the same time, plus those aside.
//
// Rejected: swapping CoreFoundation's slot at every switch of a task that has a run loop (a
// cost on the switch, paid by every such task, where this costs one lookup per read); and
// destroying a task's run loop at its end, which needs CoreFoundation's private finalizer.
//
// What stays per thread: `RunLoop.main`, and a task's run of any run loop that is not its own
// (another task's, passed to it): RunLoopWaits keeps such shared runs in order.
enum TaskRunLoops {
    /// The calling task's run loop (see `taskRunLoop(creating:)`).
    static func current(creating: Bool) -> UnsafeMutableRawPointer? {
        guard oc_hook_enabled(), !oc_hook_caller_is_foreign(), Syscall.waitsCooperatively, CurrentTask.id != nil,
              let functions = oc_hook_core_foundation(), slotIsKnown()
        else { return nil }
        if let owned = CurrentTask[ownedLoop] { return owned.loop.pointer }
        guard creating, let loop = take(functions.pointee) else { return nil }
        CurrentTask[ownedLoop] = OwnedRunLoop(loop, functions.pointee)
        return loop.pointer
    }

    /// Whether CoreFoundation keeps the current run loop where this file reads it. The first
    /// task to ask checks, and may suspend in CoreFoundation while it does: the tasks that ask
    /// meanwhile yield until it knows.
    private static func slotIsKnown() -> Bool {
        while true {
            switch oc_hook_run_loop_slot() {
            case OC_RUN_LOOP_SLOT_FOUND: return true
            case OC_RUN_LOOP_SLOT_CHECKING: do { try Scheduler.yield() } catch { return false }
            default: return false
            }
        }
    }

    /// The run loops no task owns: `idle` ones are empty, `aside` ones still have sources.
    private struct Recycled {
        var idle: [RunLoopReference] = []
        var aside: [RunLoopReference] = []
    }

    private static let recycled = Mutex(Recycled())
    private static let ownedLoop = CoroutineLocal<OwnedRunLoop>()

    /// How many run loops aside one `take` looks at, oldest first: a program that leaves many
    /// timers behind makes no task's first read of its run loop slow.
    private static let asideLookedAt = 8

    /// An idle run loop, one that was aside and is empty now, or a new one.
    private static func take(_ functions: oc_core_foundation) -> RunLoopReference? {
        if let idle = recycled.withLock({ $0.idle.popLast() }) { return idle }
        let oldest = recycled.withLock { recycled in
            let count = min(asideLookedAt, recycled.aside.count)
            defer { recycled.aside.removeFirst(count) }
            return Array(recycled.aside.prefix(count))
        }
        var emptied: RunLoopReference?
        var stillAside: [RunLoopReference] = []
        for loop in oldest {
            if emptied == nil, isEmpty(loop, functions) { emptied = loop } else { stillAside.append(loop) }
        }
        recycled.withLock { $0.aside.append(contentsOf: stillAside) }
        return emptied ?? makeRunLoop(functions)
    }

    /// Takes back the run loop of a task that ended.
    fileprivate static func recycle(_ loop: RunLoopReference, _ functions: oc_core_foundation) {
        let empty = isEmpty(loop, functions)
        recycled.withLock { empty ? $0.idle.append(loop) : $0.aside.append(loop) }
    }

    /// Whether no mode of `loop` has a source, timer, observer or block left.
    private static func isEmpty(_ loop: RunLoopReference, _ functions: oc_core_foundation) -> Bool {
        guard let modes = functions.copy_all_modes(loop.pointer) else { return false }
        defer { functions.release(modes) }
        return (0..<functions.array_count(modes)).allSatisfy { index in
            functions.mode_is_finished(loop.pointer, functions.array_element(modes, index)) != 0
        }
    }

    /// A new run loop, keyed by an address no thread has.
    private static func makeRunLoop(_ functions: oc_core_foundation) -> RunLoopReference? {
        // Never freed: the key stays in CoreFoundation's table as long as the run loop does,
        // which is the process's life.
        let key = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 16)
        return functions.run_loop_for_thread(UInt(bitPattern: key)).map(RunLoopReference.init)
    }
}

/// A CoreFoundation run loop, by address.
// @unchecked Sendable: a CFRunLoop is thread-safe (it takes its own lock in every function
// this file calls), and the address never changes.
private struct RunLoopReference: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
}

/// A task's run loop, kept as a value of the task (`CurrentTask[key]`): it goes back to the
/// recycled ones when the task ends and its values are released.
// @unchecked Sendable: the function table is immutable C function pointers.
private final class OwnedRunLoop: @unchecked Sendable {
    let loop: RunLoopReference
    private let functions: oc_core_foundation

    init(_ loop: RunLoopReference, _ functions: oc_core_foundation) {
        self.loop = loop
        self.functions = functions
    }

    deinit {
        TaskRunLoops.recycle(loop, functions)
    }
}

@c(oc_hook_task_run_loop) @implementation
func taskRunLoop(creating: Bool) -> UnsafeMutableRawPointer? {
    TaskRunLoops.current(creating: creating)
}
