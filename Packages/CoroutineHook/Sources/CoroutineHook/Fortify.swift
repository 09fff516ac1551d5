import CCoroutineHook

/// What glibc's fortified entry points (`__read_chk` and the like, which code built with
/// `_FORTIFY_SOURCE` calls) check before the call itself: the caller's buffer holds `needed`
/// bytes. Aborts through glibc's own `__chk_fail` otherwise, as the fortified call does.
// Inlined: in every fortified entry point; a comparison and a branch never taken.
@inline(__always)
func checkBounds(_ needed: Int, within length: Int) {
    if needed > length {
        __chk_fail()
    }
}
