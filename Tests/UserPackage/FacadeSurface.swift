// Not part of UserPackage's build. scripts/test-user-package.sh adds it to the scratch copy as
// a program of its own and requires that it not compile, every name below refused: the facade
// exports what an application needs, and none of the runtime's machinery, so a user's own
// `Scheduler` or `Config` never meets the runtime's. Code that needs these imports CoroutineCore.
import OpenCoroutine

_ = Syscall.self               // the libc-shaped layer (as SwiftNIO keeps its Posix internal)
_ = Scheduler.self
_ = ParkingLot.self
_ = StackGrowth.self
_ = CoroutineRuntime.self
_ = RuntimeConfiguration.self
_ = Coroutine<Void, Void, Void>.self
