// sleep_not_co: the contrast to sleep_co. The runtime runs with the hooks off, so a plain
// `sleep(1)` in a task blocks the thread under it, as it would anywhere else. 4 tasks on 2
// threads then sleep two at a time and take about 2 s, where sleep_co's 1,000 take about 1 s.
// Handoff is off too: with it, spare threads would start the tasks queued behind the held
// threads after 2 ms (Docs/scheduling.md), and this example shows what the hooks do.
//
// Prints:
//   4 tasks slept 1 s each with the hooks off on 2 threads
//   all 4 woke after 2.00 s: each sleep held its thread
import ExampleSupport
import Glibc
import OpenCoroutine

exampleMain(usage: "sleep_not_co") { _ in
    let tasks = 4
    try withCoroutines(Config(threads: 2, hooks: false, handoffAfter: nil)) {
        let start = ContinuousClock.now
        let sleepers = try (0..<tasks).map { _ in try co { _ = sleep(1) } }
        for sleeper in sleepers { try sleeper.join() }
        let elapsed = ContinuousClock.now - start
        print("\(tasks) tasks slept 1 s each with the hooks off on 2 threads")
        print("all \(tasks) woke after \(elapsed.readable): each sleep held its thread")
    }
}
