// Preemption, after the original's preemptive example: three tasks on ONE scheduler thread.
// The first spins in a loop with no call at all inside it; the second spins in a loop that
// calls a function; the third clears both flags. None of them ever yields: without
// preemption the first would hold the only thread forever, and the program would never end
// (run it with OPEN_COROUTINE_PREEMPTION=0 to see). With it, each spinner is switched out
// after its 10 ms slice, the third task gets to run, and the program prints
//
//     coroutine1 launched
//     coroutine2 launched
//     coroutine3 launched
//
// followed by "loop1 end" and "loop2 end" as the spinners next get the thread.
import Glibc
import OpenCoroutine
import Synchronization

/// Prints `line` at once, even into a pipe, to show the order of events.
func say(_ line: String) {
    print(line)
    fflush(nil)
}

let spinning1 = Atomic<Bool>(true)
let spinning2 = Atomic<Bool>(true)

/// A call the optimizer cannot remove from the second loop.
@inline(never)
func step(_ value: UInt64) -> UInt64 {
    value &* 6_364_136_223_846_793_005 &+ 1
}

try withCoroutines(Config(threads: 1)) {
    let first = try co {
        say("coroutine1 launched")
        while spinning1.load(ordering: .relaxed) {}
        say("loop1 end")
    }
    let second = try co {
        say("coroutine2 launched")
        var state: UInt64 = 0
        while spinning2.load(ordering: .relaxed) {
            state = step(state)
        }
        say("loop2 end")
        return state
    }
    let third = try co {
        say("coroutine3 launched")
        spinning1.store(false, ordering: .relaxed)
        spinning2.store(false, ordering: .relaxed)
    }
    try first.join()
    _ = try second.join()
    try third.join()
}
