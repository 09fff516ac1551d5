import CCoroutineHook
import CoroutineCore
import Glibc

// How a hook decides. Each exported libc name asks one of three questions, then either calls
// the Syscall layer or libc's own function (found once, with dlsym(RTLD_NEXT)):
//
//   inCoroutine     the sleep and multiplexing calls wait cooperatively only in a coroutine;
//   forDescriptor   a descriptor call also goes to the layer on a plain thread when the runtime
//                   holds the socket non-blocking for the user (libc's call would not block);
//   always          calls that change what the runtime knows of a descriptor (close, dup,
//                   fcntl, ioctl, setsockopt) go to the layer wherever they are made.
//
// With hooking off (the library does not interpose libc, or the user switched it off) every
// hook is libc's own function; so it is for a caller on a foreign stack (a signal handler on
// its alternate stack, a crash handler's cloned helper), which the thread's runtime state
// does not describe.
//
// A hooked call made in a coroutine is also a safe point for preemption: a request that found
// the coroutine somewhere unsafe (inside libc, say) takes effect here, before the call.
//
// How a hook is exported. Each is an internal Swift function, `@c(oc_hook_NAME) @implementation`
// of its declaration in oc_hook_exports.h (the compiler checks the two agree); libc's name
// itself is a C function of exports.c that calls it, exported with default visibility as
// libc's are (Swift would export it protected; oc_hook_exports.h says what that breaks).

/// The routing questions of the hooks.
enum Route {
    /// The call waits cooperatively: hooking is on and the caller runs in a scheduled coroutine.
    // Inlined, as the two below: every hooked call asks first, and a call that goes to libc
    // (outside a coroutine) pays two loads and no call for it.
    @inline(__always)
    static var inCoroutine: Bool {
        guard oc_hook_enabled(), !oc_hook_caller_is_foreign(), Syscall.waitsCooperatively else { return false }
        Preemption.safePoint()
        return true
    }

    /// The call on `fd` belongs to the runtime: in a coroutine, or on a socket it manages.
    @inline(__always)
    static func forDescriptor(_ fd: Int32) -> Bool {
        guard oc_hook_enabled(), !oc_hook_caller_is_foreign() else { return false }
        guard Syscall.waitsCooperatively else { return Syscall.managesDescriptor(fd) }
        Preemption.safePoint()
        return true
    }

    /// Hooking is on.
    @inline(__always)
    static var always: Bool {
        oc_hook_enabled() && !oc_hook_caller_is_foreign()
    }
}

/// libc's own function `name`: the next definition after this library in the search order.
func libcFunction<Function>(_ name: String, as _: Function.Type) -> Function {
    // RTLD_NEXT, which Swift does not import.
    let next = UnsafeMutableRawPointer(bitPattern: -1)
    guard let symbol = dlsym(next, name) else {
        fatalError("open_coroutine_hook: libc has no \(name)")
    }
    return unsafeBitCast(symbol, to: Function.self)
}
