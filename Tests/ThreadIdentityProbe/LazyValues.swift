// The lazy values of the `once` case. Globals of main.swift are initialized in order as the
// program starts; those of another file wait for their first use, behind Swift's once-lock.
import Synchronization

/// How many times the lazy values' initializers ran.
let initializations = Atomic<Int>(0)

/// The hold the lazy values' initializers use, set before any task reads them.
nonisolated(unsafe) var initializerHold = Hold.sleep

/// A lazy global whose initializer takes 50 ms.
let slowGlobal: Int = {
    initializations.add(1, ordering: .relaxed)
    initializerHold.hold()
    return 42
}()

enum SlowStatic {
    /// A `static let` whose initializer takes 50 ms.
    static let value: Int = {
        initializations.add(1, ordering: .relaxed)
        initializerHold.hold()
        return 42
    }()
}

