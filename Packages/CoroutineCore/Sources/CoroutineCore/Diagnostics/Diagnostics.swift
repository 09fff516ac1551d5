import CCoroutineCore
import Glibc

/// The runtime's answers to "what are my tasks doing?": the crash report, the dump signal
/// (crash.c) and the dump itself (`CoroutineDump`), set up when the runtime starts.
enum Diagnostics {
    /// Installs the crash handler and the dump signal as `configuration` asks.
    static func install(_ configuration: RuntimeConfiguration) throws(RuntimeError) {
        oc_crash_install()
        let everyCoroutine = configuration.crashReport == .allCoroutines
            || getenv("OPEN_COROUTINE_TRACEBACK").map { String(cString: $0) } == "all"
        oc_crash_report_others(everyCoroutine ? dumpEveryCoroutine : nil)
        let result = oc_dump_signal_install(configuration.dumpSignal ?? 0, dumpEveryCoroutine)
        guard result == 0 else { throw .dumpSignalUnavailable(errno: result) }
    }
}

/// Writes every coroutine but the idle workers to standard error.
private let dumpEveryCoroutine: @convention(c) () -> Void = {
    CoroutineDump.dumpToStandardError(includingIdle: false)
}
