import Synchronization
import Testing
@testable import CoroutineCore

@Suite struct AnyCoroutineTests {
    @Test func listenersSeeEveryStatusChange() throws {
        let log = Mutex<[String]>([])
        let coroutine = Coroutine<Void, Void, Void> { suspender, _ in
            try suspender.suspend()
        }
        coroutine.addListener { event in
            log.withLock { $0.append("\(event.previous)->\(event.current)") }
        }
        _ = try coroutine.resume()
        _ = try coroutine.resume()
        #expect(log.withLock { $0 } == ["ready->running", "running->suspended", "suspended->running", "running->complete"])
    }

    @Test func throwingListenerDoesNotBreakTheCoroutine() throws {
        struct ListenerFailure: Error {}
        let calls = Atomic<Int>(0)
        let coroutine = Coroutine<Void, Int, Int> { suspender, _ in
            try suspender.suspend(with: 1)
            return 2
        }
        coroutine.addListener { _ in throw ListenerFailure() }
        coroutine.addListener { _ in calls.add(1, ordering: .relaxed) }
        #expect(try coroutine.resume() == .yielded(1))
        #expect(try coroutine.resume() == .returned(2))
        let callCount = calls.load(ordering: .relaxed)
        #expect(callCount == 4)
    }

    @Test func localsAreTypedAndPerCoroutine() throws {
        let requestID = CoroutineLocal<Int>()
        let label = CoroutineLocal<String>()
        let make = { (value: Int) in
            Coroutine<Void, Int?, String?> { suspender, _ in
                Coroutine.current?[requestID] = value
                try suspender.suspend(with: Coroutine.current?[requestID])
                return Coroutine.current?[label]
            }
        }
        let first = make(1)
        let second = make(2)
        #expect(try first.resume() == .yielded(1))
        #expect(try second.resume() == .yielded(2))
        #expect(first[requestID] == 1)
        first[label] = "one"
        #expect(try first.resume() == .returned("one"))
        #expect(try second.resume() == .returned(nil))
    }

    @Test func localsAreReleasedWhenTheCoroutineEnds() throws {
        let key = CoroutineLocal<Tracked>()
        let releases = Tracked.Releases()
        let coroutine = Coroutine<Void, Int, Int> { suspender, _ in
            Coroutine.current?[key] = Tracked(releases)
            try suspender.suspend(with: 1)
            return 2
        }
        #expect(try coroutine.resume() == .yielded(1))
        #expect(releases.count == 0)
        #expect(try coroutine.resume() == .returned(2))
        // The coroutine object is still referenced here: its end released the value.
        #expect(releases.count == 1)
        #expect(coroutine[key] == nil)
    }

    @Test func cancellingReadyCoroutineNeverRunsIt() {
        var ran = false
        let coroutine = Coroutine<Void, Void, Void> { _, _ in ran = true }
        coroutine.cancel()
        #expect(coroutine.status == .cancelled)
        #expect(throws: CoroutineError.notResumable(.cancelled)) { try coroutine.resume() }
        #expect(!ran)
    }

    @Test func cancellingSuspendedCoroutineUnwindsIt() throws {
        let released = Atomic<Bool>(false)
        final class Resource: Sendable {
            let released: @Sendable () -> Void
            init(released: @escaping @Sendable () -> Void) { self.released = released }
            deinit { released() }
        }
        let coroutine = Coroutine<Void, Void, Void> { suspender, _ in
            let resource = Resource { released.store(true, ordering: .relaxed) }
            try suspender.suspend()
            withExtendedLifetime(resource) {}
        }
        _ = try coroutine.resume()
        let releasedWhileSuspended = released.load(ordering: .relaxed)
        #expect(!releasedWhileSuspended)
        coroutine.cancel()
        #expect(coroutine.status == .cancelled)
        #expect(coroutine.isCancelled)
        let releasedAfterwards = released.load(ordering: .relaxed)
        #expect(releasedAfterwards)
    }

    @Test func droppingSuspendedCoroutineReleasesItsStackValues() throws {
        let released = Atomic<Bool>(false)
        final class Resource: Sendable {
            let released: @Sendable () -> Void
            init(released: @escaping @Sendable () -> Void) { self.released = released }
            deinit { released() }
        }
        do {
            let coroutine = Coroutine<Void, Void, Void> { suspender, _ in
                let resource = Resource { released.store(true, ordering: .relaxed) }
                try suspender.suspend()
                withExtendedLifetime(resource) {}
            }
            _ = try coroutine.resume()
        }
        let releasedAfterwards = released.load(ordering: .relaxed)
        #expect(releasedAfterwards)
    }

    @Test func selfCancellationThrowsAtTheNextSuspension() throws {
        let coroutine = Coroutine<Void, Void, String> { suspender, _ in
            Coroutine.current?.cancel()
            do {
                try suspender.suspend()
                return "suspended"
            } catch {
                return "\(error)"
            }
        }
        guard case .returned(let text) = try coroutine.resume() else {
            Issue.record("expected a return")
            return
        }
        #expect(text == "\(CoroutineError.cancelled)")
        #expect(coroutine.status == .complete)
    }
}

/// A coroutine-local or task value that counts its releases.
final class Tracked: Sendable {
    final class Releases: Sendable {
        private let value = Atomic<Int>(0)
        var count: Int { value.load(ordering: .acquiring) }
        func add() { value.add(1, ordering: .releasing) }
    }

    private let releases: Releases

    init(_ releases: Releases) {
        self.releases = releases
    }

    deinit {
        releases.add()
    }
}
