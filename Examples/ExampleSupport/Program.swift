import Foundation

/// A command line the example does not accept.
public struct UsageError: Error, CustomStringConvertible {
    public let description: String

    public init(description: String) {
        self.description = description
    }
}

/// An example's command line: positional arguments and `--name value` options.
public struct Arguments {
    public let positional: [String]
    private let options: [String: String]

    /// Parses `arguments`, allowing only the options in `names`.
    public init(_ arguments: [String], options names: Set<String>) throws(UsageError) {
        var positional: [String] = []
        var options: [String: String] = [:]
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            guard argument.hasPrefix("--") else {
                positional.append(argument)
                continue
            }
            guard names.contains(argument) else { throw UsageError(description: "unknown option \(argument)") }
            guard let value = rest.popFirst() else { throw UsageError(description: "\(argument) needs a value") }
            options[argument] = value
        }
        self.positional = positional
        self.options = options
    }

    /// The whole number given for option `name`, or `defaultValue`.
    public func integer(_ name: String, default defaultValue: Int, in range: ClosedRange<Int>) throws(UsageError) -> Int {
        guard let text = options[name] else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw UsageError(description: "\(name) \(text): expected a whole number in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    /// The TCP port given as positional argument `index`.
    public func port(at index: Int, named name: String = "PORT") throws(UsageError) -> UInt16 {
        guard index < positional.count else { throw UsageError(description: "missing \(name)") }
        guard let port = UInt16(positional[index]), port > 0 else {
            throw UsageError(description: "\(name) \(positional[index]): expected a port number in 1...65535")
        }
        return port
    }
}

/// Runs an example: parses its command line (the options in `options`) and calls `body`. A
/// failure ends the process with its description on stderr, status 2 for a bad command line
/// (with `usage`) and 1 for anything else, instead of a crash report.
public func exampleMain(usage: String, options: Set<String> = [], _ body: (Arguments) throws -> Void) {
    do {
        try body(try Arguments(Array(CommandLine.arguments.dropFirst()), options: options))
    } catch let error as UsageError {
        FileHandle.standardError.write(Data("\(error)\nusage: \(usage)\n".utf8))
        exit(2)
    } catch {
        FileHandle.standardError.write(Data("\(CommandLine.arguments[0]): \(error)\n".utf8))
        exit(1)
    }
}

/// Writes out what `print` buffered: with stdout a pipe, a line another process waits for
/// would otherwise stay in the buffer until exit.
public func flushOutput() {
    // fflush(nil) flushes every stream; Swift 6 rejects naming C's global `stdout`.
    fflush(nil)
}

extension Duration {
    /// The duration in seconds.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }

    /// The duration for a reader: "1.02 s", "12.3 ms" or "850 µs".
    public var readable: String {
        switch seconds {
        case 1...: String(format: "%.2f s", seconds)
        case 0.001...: String(format: "%.1f ms", seconds * 1e3)
        default: String(format: "%.0f µs", seconds * 1e6)
        }
    }
}
