import CoroutineCore
import Foundation
import Glibc
import OpenCoroutine
import Testing

extension SharedRuntimeTests {
    /// The process holds one copy of the runtime, libCoroutineCore.so, which the test bundle,
    /// the facade, the hook library and the examples all link.
    @Suite struct OneRuntimeTests {
        @Test func onlyTheRuntimeLibraryDefinesTheRuntimesTypes() throws {
            // The type's metadata, which only the runtime library defines.
            let metadata = unsafeBitCast(CoroutineRuntime.self, to: UnsafeRawPointer.self)
            let runtimeLibrary = try #require(try image(containing: metadata))
            #expect(runtimeLibrary.hasSuffix("/libCoroutineCore.so"))
            // The check below would pass vacuously if it recognized no type descriptor.
            #expect(try runtimeTypeSymbols(in: runtimeLibrary).contains("$s13CoroutineCore0A7RuntimeCMn"))
            let loaded = try loadedImages()
            #expect(loaded.contains(runtimeLibrary))
            #expect(loaded.contains { $0.hasSuffix("/libopen_coroutine_hook.so") })
            for path in loaded where path != runtimeLibrary {
                let copies = try runtimeTypeSymbols(in: path)
                #expect(copies.isEmpty, "\(path) defines \(copies.prefix(5)) of CoroutineCore")
            }
            let copies = try runtimeTypeSymbols(in: try builtExample("readme").path)
            #expect(copies.isEmpty, "the readme example defines \(copies.prefix(5)) of CoroutineCore")
        }

        /// A task submitted through the hook library's C API runs on the runtime that Swift
        /// started, and only while it runs.
        @Test func cTasksRunOnTheRuntimeSwiftStarted() throws {
            typealias TaskCreate = @convention(c) (@convention(c) (UInt) -> UInt, UInt, Int32) -> UnsafeMutableRawPointer?
            typealias TaskJoin = @convention(c) (UnsafeMutableRawPointer, UnsafeMutablePointer<UInt>?) -> Int32
            // RTLD_DEFAULT: the names as a C program finds them.
            let global = UnsafeMutableRawPointer(bitPattern: 0)
            let taskCreate = unsafeBitCast(try #require(dlsym(global, "task_crate")), to: TaskCreate.self)
            let taskJoin = unsafeBitCast(try #require(dlsym(global, "task_join")), to: TaskJoin.self)
            // Answers its parameter only when it runs in a coroutine of this module's runtime.
            let onOurScheduler: @convention(c) (UInt) -> UInt = { Scheduler.current != nil ? $0 : 0 }

            #expect(taskCreate(onOurScheduler, 42, 0) == nil, "the C API spawned while the runtime was stopped")
            try withSharedRuntime { _ in
                let task = try #require(taskCreate(onOurScheduler, 42, 0))
                var result: UInt = 0
                #expect(taskJoin(task, &result) == 0)
                #expect(result == 42)
            }
            #expect(taskCreate(onOurScheduler, 42, 0) == nil, "the C API spawned after the runtime stopped")
        }

        /// `open_coroutine_init(NULL)` starts the runtime with the runtime's defaults, the ones
        /// the facade's `Config` takes too (its keep-alive was once 0 s where Swift's is 10 s).
        @Test func theCAPIStartsWithTheFacadesDefaults() throws {
            typealias Initialize = @convention(c) (UnsafeRawPointer?) -> Int32
            typealias Stop = @convention(c) (UInt64) -> Int32
            let global = UnsafeMutableRawPointer(bitPattern: 0)
            let initialize = unsafeBitCast(try #require(dlsym(global, "open_coroutine_init")), to: Initialize.self)
            let stop = unsafeBitCast(try #require(dlsym(global, "open_coroutine_stop")), to: Stop.self)
            // 0, or OPEN_COROUTINE_HOOKS_INACTIVE: either way the runtime started.
            #expect([0, 1].contains(initialize(nil)))
            let configuration = CoroutineRuntime.shared.configuration
            #expect(stop(5) == 0)
            #expect(configuration == RuntimeConfiguration())
            let facade = Config()
            #expect(configuration?.keepAlive == facade.keepAlive)
            #expect(configuration?.threads == facade.threads && configuration?.stackSize == facade.stackSize)
            #expect(configuration?.maxWorkers == facade.maxWorkers && configuration?.preemptionSlice == facade.preemptionSlice)
        }
    }
}

/// The file mapped into this process at `address` (what dladdr answers, which Swift does
/// not import: glibc declares it only under _GNU_SOURCE).
private func image(containing address: UnsafeRawPointer) throws -> String? {
    let target = UInt(bitPattern: address)
    return try mappedFiles().first { $0.range.contains(target) }?.path
}

/// The files mapped into this process (the executable and every shared library).
private func loadedImages() throws -> Set<String> {
    Set(try mappedFiles().map(\.path).filter(isELF))
}

/// The file mappings of this process, from /proc/self/maps.
private func mappedFiles() throws -> [(range: Range<UInt>, path: String)] {
    // Not String(contentsOfFile:): it stops after the first 4 KiB of a /proc file.
    let file = try #require(FileHandle(forReadingAtPath: "/proc/self/maps"))
    defer { try? file.close() }
    let maps = String(decoding: try file.readToEnd() ?? Data(), as: UTF8.self)
    return maps.split(separator: "\n").compactMap { line in
        // start-end perms offset device inode path
        let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
        let bounds = fields[0].split(separator: "-").compactMap { UInt($0, radix: 16) }
        guard fields.count == 6, bounds.count == 2 else { return nil }
        let path = fields[5].trimmingCharacters(in: .whitespaces)
        return path.hasPrefix("/") && !path.hasSuffix("(deleted)") ? (bounds[0]..<bounds[1], path) : nil
    }
}

private func isELF(_ path: String) -> Bool {
    guard let file = FileHandle(forReadingAtPath: path) else { return false }
    defer { try? file.close() }
    return (try? file.read(upToCount: 4)) == Data([0x7f, 0x45, 0x4c, 0x46])
}

/// The symbols of CoroutineCore's types that the ELF file at `path` defines (static or
/// dynamic symbol table): type metadata, full metadata, metadata accessors, nominal type and
/// protocol descriptors. A module that only uses the runtime references these; only a copy of
/// the runtime defines them.
private func runtimeTypeSymbols(in path: String) throws -> [String] {
    try definedSymbols(in: path).filter { name in
        name.hasPrefix("$s13CoroutineCore") && ["N", "Mf", "Ma", "Mn", "Mp"].contains { name.hasSuffix($0) }
    }
}

/// The names that the 64-bit ELF file at `path` defines in its symbol tables.
private func definedSymbols(in path: String) throws -> Set<String> {
    let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
    return data.withUnsafeBytes { file in
        let header = file.loadUnaligned(as: Elf64_Ehdr.self)
        let sections = (0..<Int(header.e_shnum)).map {
            file.loadUnaligned(fromByteOffset: Int(header.e_shoff) + $0 * Int(header.e_shentsize), as: Elf64_Shdr.self)
        }
        var names = Set<String>()
        for table in sections where table.sh_type == SHT_SYMTAB || table.sh_type == SHT_DYNSYM {
            let strings = sections[Int(table.sh_link)]
            for index in 1..<Int(table.sh_size / table.sh_entsize) {
                let symbol = file.loadUnaligned(
                    fromByteOffset: Int(table.sh_offset) + index * Int(table.sh_entsize), as: Elf64_Sym.self)
                guard symbol.st_shndx != SHN_UNDEF, symbol.st_name != 0 else { continue }
                let start = Int(strings.sh_offset) + Int(symbol.st_name)
                let end = file[start...].firstIndex(of: 0) ?? file.endIndex
                names.insert(String(decoding: file[start..<end], as: UTF8.self))
            }
        }
        return names
    }
}
