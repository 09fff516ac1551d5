/// Coroutine-aware versions of libc's blocking calls.
///
/// Each function has its libc namesake's signature, return value and errno. Inside a
/// coroutine that a scheduler resumed, it waits by suspending only that coroutine, so the
/// thread runs others meanwhile. Anywhere else (a plain thread, a coroutine nested inside
/// another) it does exactly what libc does. It never calls libc's own symbol for the real
/// work, so a library that exports libc's names and forwards them here cannot recurse.
///
/// A task cancelled while it waits in one of these calls, or before it makes one, has the
/// call end at once with `ECANCELED` (a sleep's `remaining` holds the time left). Not `EINTR`:
/// C code retries on EINTR (`while (read(…) == -1 && errno == EINTR)`), and every wait of a
/// cancelled task ends at once, so EINTR would turn those loops into spins that never end;
/// ECANCELED ("operation canceled") falls into the branch for every other error, so the call
/// fails and the code unwinds its error path. The waits no cancellation cuts short: a call
/// the blocking pool runs (it keeps its arguments until done), a lock or condition wait
/// (pthread locks cannot fail that way), and an io_uring operation the kernel finished first.
///
/// Blocking socket calls keep the user's view of the socket (blocking or not, its timeouts)
/// while the runtime holds it non-blocking in the kernel; see `Descriptor`.
///
/// One file per call family: `Sleep.swift` (sleep, usleep, nanosleep, clock_nanosleep),
/// `Poll.swift` (poll, ppoll), `Select.swift` (select, pselect), `EpollWait.swift`,
/// `Socket.swift` (socket, socketpair, connect, listen, accept, accept4, shutdown),
/// `Read.swift` and `Write.swift` (the read and write families), `Open.swift` (open,
/// openat), `Close.swift` (close and the dup family), `Control.swift` (fcntl, ioctl,
/// getsockopt, setsockopt).
public enum Syscall {}
