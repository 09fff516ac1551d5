import Testing

extension ExamplesTests {
    /// The C API from C (Examples/capi): every check passes, and each step reports `ok`.
    @Test func cProgramOnTheCAPIPassesEveryCheck() throws {
        let output = try runExample("capi_demo", timeout: 30)
        for step in [
            "bad configurations are EINVAL and name the field",
            "init",
            "init twice is EALREADY",
            "100 tasks joined with their results",
            "task_timeout_join times out, then succeeds on the same handle",
            "task_cancel ends a sleeping task and its join is ECANCELED",
            "stop, and no task_crate after it",
        ] {
            #expect(output.contains("ok \(step)\n"), "capi_demo did not report: \(step)")
        }
    }
}
