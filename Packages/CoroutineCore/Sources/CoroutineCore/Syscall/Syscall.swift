/// Coroutine-aware versions of libc's blocking calls.
///
/// Each function has its libc namesake's signature, return value and errno. Inside a
/// coroutine that a scheduler resumed, it waits by suspending only that coroutine, so the
/// thread runs others meanwhile. Anywhere else (a plain thread, a coroutine nested inside
/// another) it does exactly what libc does. It never calls libc's own symbol for the real
/// work, so a library that exports libc's names and forwards them here cannot recurse.
///
/// A task cancelled while it waits in one of these calls is woken as if by a signal: the
/// call ends with `EINTR`, as libc's does when a signal interrupts it.
///
/// One file per call family: `Sleep.swift` holds sleep, usleep, nanosleep and clock_nanosleep.
public enum Syscall {}
