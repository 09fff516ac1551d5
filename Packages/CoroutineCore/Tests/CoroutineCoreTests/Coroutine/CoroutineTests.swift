import Glibc
import Testing
@testable import CoroutineCore

@Suite struct CoroutineTests {
    @Test func resumeDeliversInputsAndYieldsInOrder() throws {
        let coroutine = Coroutine<Int, Int, String> { suspender, first in
            var input = first
            var total = 0
            while input >= 0 {
                total += input
                input = try suspender.suspend(with: total)
            }
            return "total \(total)"
        }
        #expect(coroutine.status == .ready)
        #expect(try coroutine.resume(with: 1) == .yielded(1))
        #expect(coroutine.status == .suspended)
        #expect(try coroutine.resume(with: 2) == .yielded(3))
        #expect(try coroutine.resume(with: 3) == .yielded(6))
        #expect(try coroutine.resume(with: -1) == .returned("total 6"))
        #expect(coroutine.status == .complete)
        guard case .returned("total 6")? = coroutine.end else {
            Issue.record("expected returned, got \(String(describing: coroutine.end))")
            return
        }
    }

    @Test func generatorProducesFibonacci() throws {
        let fibonacci = Coroutine<Void, Int, Void> { suspender, _ in
            var (a, b) = (0, 1)
            for _ in 0..<10 {
                try suspender.suspend(with: a)
                (a, b) = (b, a + b)
            }
        }
        var values: [Int] = []
        while case .yielded(let value) = try fibonacci.resume() {
            values.append(value)
        }
        #expect(values == [0, 1, 1, 2, 3, 5, 8, 13, 21, 34])
    }

    @Test func throwingBodyEndsFailedAndResumeRethrows() throws {
        struct Boom: Error, Equatable {}
        let coroutine = Coroutine<Void, Void, Int> { suspender, _ in
            try suspender.suspend()
            throw Boom()
        }
        #expect(try coroutine.resume().isYield)
        #expect(throws: Boom.self) { try coroutine.resume() }
        #expect(coroutine.status == .failed)
        guard case .failed(let error)? = coroutine.end else {
            Issue.record("expected failed, got \(String(describing: coroutine.end))")
            return
        }
        #expect(error is Boom)
    }

    @Test func finishedCoroutineIsNotResumable() throws {
        let coroutine = Coroutine<Void, Void, Int> { _, _ in 7 }
        #expect(try coroutine.resume().returnValue == 7)
        #expect(throws: CoroutineError.notResumable(.complete)) { try coroutine.resume() }
    }

    @Test func runningCoroutineCannotResumeItself() throws {
        var observed: (any Error)?
        let holder = Holder<Coroutine<Void, Void, Void>>()
        let coroutine = Coroutine<Void, Void, Void> { _, _ in
            do { _ = try holder.value?.resume() } catch { observed = error }
        }
        holder.value = coroutine
        _ = try coroutine.resume()
        #expect(observed as? CoroutineError == .notResumable(.running))
    }

    @Test func coroutinesNest() throws {
        let outer = Coroutine<Void, Int, Int> { suspender, _ in
            let inner = Coroutine<Void, Int, Int> { innerSuspender, _ in
                try innerSuspender.suspend(with: 1)
                try innerSuspender.suspend(with: 2)
                return 3
            }
            var sum = 0
            while true {
                switch try inner.resume() {
                case .yielded(let value):
                    sum += value
                    try suspender.suspend(with: value * 10)
                case .returned(let value):
                    return sum + value
                }
            }
        }
        #expect(try outer.resume() == .yielded(10))
        #expect(try outer.resume() == .yielded(20))
        #expect(try outer.resume() == .returned(6))
    }

    @Test func currentIsTheRunningCoroutine() throws {
        #expect(AnyCoroutine.current == nil)
        var seen: AnyCoroutine?
        let coroutine = Coroutine<Void, Void, Void>(name: "probe") { _, _ in
            seen = Coroutine.current
        }
        _ = try coroutine.resume()
        #expect(seen === coroutine)
        #expect(seen?.name == "probe")
        #expect(Coroutine.current == nil)
    }

    @Test func suspendOutsideItsCoroutineThrows() throws {
        var escaped: Suspender<Void, Void>?
        let coroutine = Coroutine<Void, Void, Void> { suspender, _ in
            escaped = suspender
            try suspender.suspend()
        }
        _ = try coroutine.resume()
        #expect(throws: CoroutineError.suspendedOutsideCoroutine) { try escaped?.suspend() }
        _ = try coroutine.resume()
    }

    @Test func idsAreDistinct() {
        let first = Coroutine<Void, Void, Void> { _, _ in }
        let second = Coroutine<Void, Void, Void> { _, _ in }
        #expect(first.id != second.id)
    }

    @Test func invalidStackSizeFailsTheFirstResume() {
        let coroutine = Coroutine<Void, Void, Void>(stackSize: 1024) { _, _ in }
        #expect(throws: CoroutineError.invalidStackSize(1024)) { try coroutine.resume() }
        #expect(coroutine.status == .failed)
    }

    @Test func errnoIsKeptPerCoroutine() throws {
        let coroutine = Coroutine<Void, Int32, Void> { suspender, _ in
            errno = 11
            try suspender.suspend(with: errno)
            try suspender.suspend(with: errno)
        }
        errno = 22
        #expect(try coroutine.resume().yieldValue == 11)
        #expect(errno == 22)
        errno = 33
        #expect(try coroutine.resume().yieldValue == 11)
        #expect(errno == 33)
        _ = try coroutine.resume()
    }
}

/// A mutable reference a test closure can capture before the value exists.
final class Holder<Value>: @unchecked Sendable {
    // @unchecked Sendable: tests hand it between threads strictly one after the other.
    var value: Value?
    init(_ value: Value? = nil) { self.value = value }
}

extension CoroutineResult {
    var isYield: Bool {
        if case .yielded = self { return true }
        return false
    }

    var yieldValue: Yield? {
        if case .yielded(let value) = self { return value }
        return nil
    }

    var returnValue: Return? {
        if case .returned(let value) = self { return value }
        return nil
    }
}
