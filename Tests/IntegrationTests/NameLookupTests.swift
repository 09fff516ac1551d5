import Foundation
import Testing

/// Whether this process may make a mount namespace of its own (`unshare -m`), which the name
/// lookup test needs to give its probe an /etc/resolv.conf of its own.
private let canUnshareMounts: Bool = {
    let probe = Process()
    probe.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
    probe.arguments = ["-m", "true"]
    probe.standardError = FileHandle.nullDevice
    guard (try? probe.run()) != nil else { return false }
    probe.waitUntilExit()
    return probe.terminationStatus == 0
}()

extension SharedRuntimeTests {
    @Suite(.enabled(if: canUnshareMounts, "needs unshare -m (root, or a kernel that allows mount namespaces)"))
    struct NameLookupTests {
        /// 200 lookups of names no hosts file knows, against a local DNS server that answers
        /// each after 200 ms, from tasks on 2 threads: they wait on the blocking pool together,
        /// so all of them take about one lookup's time (one after another: 40 s).
        @Test func twoHundredSlowLookupsTakeAboutOneLookupsTime() throws {
            let address = "127.53.\((getpid() >> 8) & 0xFF).\(getpid() & 0xFF | 1)"
            let resolver = FileManager.default.temporaryDirectory.appendingPathComponent("oc-resolv-\(getpid())").path
            try "nameserver \(address)\noptions attempts:1 timeout:5\n".write(toFile: resolver, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: resolver) }
            let probe = try builtExample("dns_probe").path
            let example = try BackgroundExample(
                "unshare", arguments: ["-m", "sh", "-c", "mount --bind \"$0\" /etc/resolv.conf && exec \"$1\" \"$2\" 200 200",
                                       resolver, probe, address],
                executable: URL(fileURLWithPath: "/usr/bin/unshare"))
            let (status, output) = example.finish(timeout: 30)
            #expect(status == 0)
            let fields = Dictionary(uniqueKeysWithValues: output.split(whereSeparator: \.isWhitespace).compactMap { field in
                let parts = field.split(separator: "=")
                return parts.count == 2 ? (String(parts[0]), Int(parts[1]) ?? -1) : nil
            })
            #expect(fields["resolved"] == 200, "\(output)")
            #expect((fields["elapsed_ms"] ?? .max) < 1_000, "\(output)")
            #expect((fields["elapsed_ms"] ?? 0) >= 190, "the lookups did not wait for the slow server: \(output)")
        }
    }
}
