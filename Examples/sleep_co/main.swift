// sleep_co: 1,000 tasks call plain `sleep(1)` or `usleep(1_000_000)` from Glibc. The hook
// library turns each call into a suspension of its task only, so the runtime's 2 threads keep
// running the others and all 1,000 sleeps end together, about 1 s after they began (on
// threads of their own, the same would take 1,000 threads). sleep_not_co shows the contrast.
//
// Prints:
//   1000 tasks slept 1 s each (500 with sleep, 500 with usleep) on 2 threads
//   all 1000 woke after 1.00 s
import ExampleSupport
import Glibc
import OpenCoroutine

exampleMain(usage: "sleep_co") { _ in
    let tasks = 1_000
    try withCoroutines(Config(threads: 2)) {
        let start = ContinuousClock.now
        let sleepers = try (0..<tasks).map { index in
            try co {
                if index.isMultiple(of: 2) { sleep(1) } else { usleep(1_000_000) }
            }
        }
        for sleeper in sleepers { try sleeper.join() }
        let elapsed = ContinuousClock.now - start
        print("\(tasks) tasks slept 1 s each (\(tasks / 2) with sleep, \(tasks / 2) with usleep) on 2 threads")
        print("all \(tasks) woke after \(elapsed.readable)")
    }
}
