import OpenCoroutine
import Synchronization
import Testing

@Suite struct GeneratorTests {
    @Test func yieldsFromNestedCalls() {
        func walk(_ tree: [Any], _ yield: Generator<Int>.Yield) throws(CoroutineError) {
            for node in tree {
                if let leaf = node as? Int {
                    try yield(leaf)
                } else if let subtree = node as? [Any] {
                    try walk(subtree, yield)
                }
            }
        }
        let tree: [Any] = [1, [2, [3, 4]], 5]
        #expect(Array(Generator<Int> { yield throws(CoroutineError) in try walk(tree, yield) }) == [1, 2, 3, 4, 5])
    }

    @Test func endsWhenTheProducerReturns() {
        var generator = Generator<String> { yield throws(CoroutineError) in try yield("only") }
        #expect(generator.next() == "only")
        #expect(generator.next() == nil)
        #expect(generator.next() == nil)
    }

    @Test func droppingAGeneratorCancelsItsProducer() {
        let finished = Atomic<Bool>(false)
        do {
            var naturals = Generator<Int> { yield throws(CoroutineError) in
                defer { finished.store(true, ordering: .relaxed) }
                var n = 0
                while true {
                    try yield(n)
                    n += 1
                }
            }
            #expect(naturals.next() == 0)
            #expect(naturals.next() == 1)
        }
        let producerUnwound = finished.load(ordering: .relaxed)
        #expect(producerUnwound)
    }
}
