// What the facade brings along from the runtime: the declarations an application touches,
// one by one, and nothing else. The rest of CoroutineCore (the `Syscall` layer, `Scheduler`,
// the parking and stack machinery) stays out of a user's namespace, so a user's own `Config`
// or `Scheduler` never collides with it; code that needs those imports CoroutineCore itself.
// Each scoped import re-exports one declaration with its members, and a file that imports
// both modules sees each declaration once.

// Tasks: what `co` returns, how its join fails, and the running task's identity and
// cancellation.
@_exported import struct CoroutineCore.JoinHandle
@_exported import enum CoroutineCore.JoinError
@_exported import enum CoroutineCore.CurrentTask

// The errors the facade's calls throw besides their own (`ConfigError` is declared in
// Config.swift): a wait ended by cancellation, a runtime that refused, hooks that cannot
// interpose libc.
@_exported import enum CoroutineCore.CoroutineError
@_exported import enum CoroutineCore.RuntimeError
@_exported import enum CoroutineHook.HookError

// Calling async code from a task, and recursion deeper than a task's stack.
@_exported import func CoroutineCore.awaitResult
@_exported import func CoroutineCore.maybeGrowStack
@_exported import func CoroutineCore.remainingStack
