// scalable_stack: deep recursion in tasks whose stacks are small. The runtime gives each task
// a 32 KiB stack here, far too little for 50,000 nested calls; `maybeGrowStack` continues the
// recursion on a fresh 1 MiB stack whenever less than 64 KiB (its red zone) remain, and gives
// the stack back when the calls return. At the bottom each task sleeps, to show that a task
// can suspend on a grown stack while the others run.
//
// Prints:
//   task 1 recursed 50000 calls deep from a 32 KiB stack, on <n> grown stacks
//   ... one line per task, tasks 1 to 3
import ExampleSupport
import Glibc
import OpenCoroutine

/// Recurses `calls` deep, each call on a fresh stack when the current one runs low; returns
/// the depth reached and how many stacks were grown on the way.
func recurse(_ calls: Int) -> (depth: Int, grown: Int) {
    guard calls > 0 else {
        usleep(100_000)
        return (0, 0)
    }
    let below = remainingStack()
    return maybeGrowStack {
        // More room than the caller had left means this call runs on a stack of its own.
        let grew = remainingStack() > below
        let inner = recurse(calls - 1)
        return (inner.depth + 1, inner.grown + (grew ? 1 : 0))
    }
}

exampleMain(usage: "scalable_stack") { _ in
    let stackSize = 32 * 1024
    let depth = 50_000
    try withCoroutines(Config(threads: 2, stackSize: stackSize)) {
        let tasks = try (1...3).map { _ in try co { recurse(depth) } }
        for (index, task) in tasks.enumerated() {
            let (reached, grown) = try task.join()
            print("task \(index + 1) recursed \(reached) calls deep from a \(stackSize / 1024) KiB stack, on \(grown) grown stacks")
        }
    }
}
