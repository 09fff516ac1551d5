import CCoroutineHook
import CoroutineCore

/// `maybe_grow_stack` of the C API (include/open_coroutine.h): runs `function(parameter)`
/// on a fresh stack of `stackSize` bytes when fewer than `redZone` bytes remain.
@c(oc_hook_maybe_grow_stack) @implementation
func maybeGrowStackForC(
    _ redZone: Int,
    _ stackSize: Int,
    _ function: @convention(c) (UInt) -> UInt,
    _ parameter: UInt
) -> UInt {
    maybeGrowStack(redZone: redZone, stackSize: stackSize) { function(parameter) }
}
