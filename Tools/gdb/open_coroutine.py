# OpenCoroutine's gdb extension: the coroutines of a process, and where the suspended ones stand.
#
# gdb knows threads, not coroutines: a coroutine suspended in a task is a stack that no thread
# runs, invisible to `thread apply all bt`. The runtime lists every coroutine frame from its
# first run until its stack goes back to the pool (`oc_frames_first`, frame_registry.c); each frame
# (`struct oc_frame`, oc_frame.h, at the top of the coroutine's stack) holds its task's id and
# name, what it waits for (`oc_wait`) and, while suspended, the context its switch saved. This
# script walks that list in a live process or in a core file.
#
# Loading:
#   (gdb) source Tools/gdb/open_coroutine.py
#   gdb -p PID -x Tools/gdb/open_coroutine.py
#   gdb -batch -p PID -x Tools/gdb/open_coroutine.py -ex oc-coroutines -ex 'oc-backtrace all'
#   gdb PROGRAM CORE -x Tools/gdb/open_coroutine.py
#
# Commands:
#   oc-coroutines     One line per coroutine: its index, task id and name (or "coroutine"), its
#                     state in the wording of CoroutineDump ("sleeping", "waiting for fd 3 to
#                     be readable (in read)", "joining task #7", "parked on lock 0x...", "in
#                     the blocking pool", "idle worker", "running", "ready to run"), how long it
#                     has been in it (live processes only), and where it stands: for a
#                     suspended coroutine its saved program counter and the first frame of
#                     its backtrace outside the runtime's libraries (the program's own code);
#                     for a running one, its thread.
#   oc-backtrace N    The frame-pointer chain of suspended coroutine N (an index from
#   oc-backtrace all  oc-coroutines), or of every suspended coroutine, innermost first, with
#                     function names (Swift ones demangled by `swift demangle` when it is on
#                     PATH) and file:line where gdb has line tables.
#
# Limits:
#   - A running coroutine is a thread's current stack: its backtrace is the thread's, in
#     `thread apply all bt`; oc-backtrace only names the thread. A coroutine is running when its
#     frame says so (`is_running`); its thread is the one with a stack pointer inside its stack
#     (in any of the thread's first 32 frames, to see through a signal handler on an alternate
#     stack).
#   - Backtraces follow frame pointers: a function built without them (some C libraries) ends
#     the chain or skips a frame, and a tail call leaves no frame. The walk never leaves the
#     coroutine's stack, stops when the chain stops climbing, and shows at most 64 frames.
#   - The list is walked without the runtime's lock (the process is stopped, or a core): a
#     coroutine caught mid-switch may show a state a moment old or a short backtrace.
#   - Without debug information for the runtime's C target (a release build that strips it),
#     the frame layout comes from the offsets below, which assume LP64 (x86_64 and aarch64);
#     they must change with the struct (Tests/IntegrationTests/DebuggerTests.swift checks them).
#   - A core file written by gcore lacks the coroutine stacks on Linux 6.13+, where the runtime
#     puts its guard pages inside the stacks' mapping (madvise guard regions) and gcore fails to
#     read the mapping: those coroutines show as "unreadable". A core the kernel writes has them.
#   - Durations ("for 2.3 s", "wakes in ...") need the process's clock: live processes only.

import os
import re
import shutil
import subprocess
import time

import gdb

# Read frames through the DWARF type `oc_frame` when the program has it; False forces the fixed
# offsets below (`python USE_DEBUG_INFO = False`), which is how the tests check them.
USE_DEBUG_INFO = True

# The byte offsets of `struct oc_frame` and `struct oc_wait` (oc_frame.h), used when gdb has no
# DWARF type for them. Both architectures are LP64 with natural alignment, so one table serves:
# every pointer, uintptr_t and uint64_t field is 8 bytes and 8-aligned.
FRAME_OFFSETS = {
    "context": 0,              # void *
    "resumer": 8,              # void *
    "stack_low": 16,           # uintptr_t
    "stack_high": 24,          # uintptr_t
    "guard_low": 32,           # uintptr_t
    # exclusivity[2] 40..56, saved_errno 56 (int, 4 bytes of padding after it)
    "owner": 64,               # void *
    # body 72, task 80, preemption_disabled 88 (uint32_t, 4 bytes of padding after it)
    "task_id": 96,             # uint64_t
    "task_name": 104,          # const char *
    "wait": 112,               # oc_wait, 48 bytes
    "is_running": 160,         # uint8_t (7 bytes of padding after it)
    "registry_previous": 168,  # struct oc_frame *
    "registry_next": 176,      # struct oc_frame *
}
FRAME_SIZE = 184
WAIT_OFFSETS = {
    "since_ns": 0,     # uint64_t
    "deadline_ns": 8,  # uint64_t
    "target": 16,      # uint64_t
    "fd": 24,          # int32_t
    "kind": 28,        # uint8_t
    "events": 29,      # uint8_t
    "call": 30,        # char[18]
}
WAIT_CALL_SIZE = 18

# Where the switch's record keeps the frame pointer and the return address, in 8-byte words
# from the saved context (context_x86_64.S: rbp at 0x30, return address at 0x38;
# context_aarch64.S: x29 at 0x90, x30 at 0x98), as oc_frame_saved_registers reads them.
SAVED_REGISTER_WORDS = {
    "x86_64": (6, 7),
    "aarch64": (18, 19),
}

# enum oc_wait_kind (oc_frame.h).
WAIT_NONE, WAIT_SLEEP, WAIT_DESCRIPTOR, WAIT_DESCRIPTORS, WAIT_JOIN, WAIT_LOCK, \
    WAIT_BLOCKING_POOL, WAIT_IDLE, WAIT_OTHER = range(9)

# The most frames a backtrace shows, and the most thread frames searched for a stack pointer.
BACKTRACE_LIMIT = 64
THREAD_FRAME_LIMIT = 32
# A bound on the list walk, should the list be corrupt in a core file.
LIST_LIMIT = 1_000_000


# MARK: - Reading the inferior

def inferior():
    """The inferior, or a gdb.GdbError when there is no process or core file to read."""
    current = gdb.selected_inferior()
    if current is None or current.pid == 0 and not current.threads():
        raise gdb.GdbError("no process or core file: attach to a process or load a core first")
    return current


def architecture():
    """"x86_64" or "aarch64", the architectures the runtime supports."""
    name = gdb.selected_inferior().architecture().name()
    if "x86-64" in name or "x86_64" in name:
        return "x86_64"
    if "aarch64" in name:
        return "aarch64"
    raise gdb.GdbError("OpenCoroutine runs on x86_64 and aarch64, not on " + name)


def unsigned(value):
    """A gdb.Value, pointer or integer, as a Python int."""
    return int(value.cast(gdb.lookup_type("unsigned long")))


def read_word(address):
    """The 8-byte little-endian word at `address`."""
    return int.from_bytes(bytes(inferior().read_memory(address, 8)), "little")


def read_c_string(address, limit=256):
    """The NUL-terminated string at `address`, read in small pieces so that one near the end
    of a mapping does not fail as a whole."""
    data = b""
    while len(data) < limit:
        try:
            chunk = bytes(inferior().read_memory(address + len(data), 16))
        except gdb.MemoryError:
            break
        end = chunk.find(b"\0")
        if end >= 0:
            return (data + chunk[:end]).decode("utf-8", "replace")
        data += chunk
    return data[:limit].decode("utf-8", "replace")


def frame_type():
    """The DWARF type `oc_frame *`, or None when the program has no debug information for it
    (or only an incomplete declaration), or when USE_DEBUG_INFO is off."""
    if not USE_DEBUG_INFO:
        return None
    try:
        frame = gdb.lookup_type("oc_frame").strip_typedefs()
    except gdb.error:
        return None
    if not any(field.name == "registry_next" for field in frame.fields()):
        return None
    return frame.pointer()


def first_frame_address():
    """The value of `oc_frames_first`, read as a word at its address: the address is known
    from the ELF symbol table, with or without the variable's DWARF type."""
    try:
        symbol = gdb.parse_and_eval("&oc_frames_first")
    except gdb.error:
        raise gdb.GdbError("no symbol oc_frames_first: is this an OpenCoroutine program, with "
                           "libCoroutineCore loaded?")
    return read_word(unsigned(symbol))


class Frame:
    """What the commands need of one `struct oc_frame`, read once."""

    # What is read of a frame: (attribute, field path in oc_frame, how to read it).
    FIELDS = (
        ("context", ("context",), "u64"),
        ("stack_low", ("stack_low",), "u64"),
        ("stack_high", ("stack_high",), "u64"),
        ("task_id", ("task_id",), "u64"),
        ("task_name_address", ("task_name",), "u64"),
        ("next", ("registry_next",), "u64"),
        ("is_running", ("is_running",), "u8"),
        ("since_ns", ("wait", "since_ns"), "u64"),
        ("deadline_ns", ("wait", "deadline_ns"), "u64"),
        ("target", ("wait", "target"), "u64"),
        ("fd", ("wait", "fd"), "i32"),
        ("kind", ("wait", "kind"), "u8"),
        ("events", ("wait", "events"), "u8"),
        ("call", ("wait", "call"), "bytes"),
    )

    def __init__(self, address, pointer_type):
        self.address = address
        if pointer_type is not None:
            frame = gdb.Value(address).cast(pointer_type).dereference()
            read = lambda path, how: self._typed(frame, path, how)
        else:
            data = bytes(inferior().read_memory(address, FRAME_SIZE))
            read = lambda path, how: self._raw(data, path, how)
        for attribute, path, how in self.FIELDS:
            setattr(self, attribute, read(path, how))
        self.is_running = self.is_running != 0

    @staticmethod
    def _typed(frame, path, how):
        value = frame
        for name in path:
            value = value[name]
        if how == "bytes":
            return bytes(int(value[index]) & 0xFF for index in range(WAIT_CALL_SIZE))
        return unsigned(value) if how == "u64" else int(value)

    @staticmethod
    def _raw(data, path, how):
        offset = FRAME_OFFSETS[path[0]] + (WAIT_OFFSETS[path[1]] if len(path) > 1 else 0)
        if how == "bytes":
            return data[offset:offset + WAIT_CALL_SIZE]
        size = {"u64": 8, "i32": 4, "u8": 1}[how]
        return int.from_bytes(data[offset:offset + size], "little", signed=how == "i32")

    @property
    def task_name(self):
        return read_c_string(self.task_name_address) if self.task_name_address else None

    @property
    def call_name(self):
        """The system call waited in, or None."""
        name = self.call.split(b"\0", 1)[0].decode("utf-8", "replace")
        return name or None

    def contains(self, address):
        return self.stack_low <= address < self.stack_high

    def saved_registers(self):
        """The saved (pc, fp) of a suspended frame's context, or None when it has none inside
        its stack (oc_frame_saved_registers)."""
        if self.context == 0 or not self.contains(self.context):
            return None
        fp_word, pc_word = SAVED_REGISTER_WORDS[architecture()]
        try:
            return read_word(self.context + 8 * pc_word), read_word(self.context + 8 * fp_word)
        except gdb.MemoryError:
            return None


def frames():
    """Every registered coroutine frame, in list order."""
    inferior()
    pointer_type = frame_type()
    listed = []
    seen = set()
    address = first_frame_address()
    while address != 0 and address not in seen and len(listed) < LIST_LIMIT:
        seen.add(address)
        try:
            frame = Frame(address, pointer_type)
        except gdb.MemoryError:
            gdb.write("oc: cannot read the coroutine frame at 0x%x; the list ends there\n" % address)
            break
        listed.append(frame)
        address = frame.next
    return listed


def thread_stack_pointers():
    """(thread number, stack pointer) of each thread's first frames: a coroutine whose stack
    holds one runs on that thread. Leaves the selected thread and frame as they were."""
    selected_thread = gdb.selected_thread()
    try:
        selected_frame = gdb.selected_frame()
    except gdb.error:
        selected_frame = None
    pointers = []
    try:
        for thread in inferior().threads():
            try:
                thread.switch()
                frame = gdb.newest_frame()
                for _ in range(THREAD_FRAME_LIMIT):
                    if frame is None:
                        break
                    pointers.append((thread.num, unsigned(frame.read_register("sp"))))
                    frame = frame.older()
            except gdb.error:
                continue
    finally:
        if selected_thread is not None and selected_thread.is_valid():
            selected_thread.switch()
            if selected_frame is not None and selected_frame.is_valid():
                selected_frame.select()
    return pointers


def running_thread(frame, stack_pointers):
    """The number of the thread running `frame`'s coroutine, or None."""
    for number, pointer in stack_pointers:
        if frame.contains(pointer):
            return number
    return None


def monotonic_now_ns():
    """CLOCK_MONOTONIC now, which a live process on this machine shares; None for a core file,
    whose waits began at a time now unknown."""
    connection = getattr(gdb.selected_inferior(), "connection", None)
    if connection is not None and connection.type == "core":
        return None
    if gdb.selected_inferior().pid == 0:
        return None
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


# MARK: - States


def format_duration(nanoseconds):
    """A duration as CoroutineDump writes it: "1.52 s", "340 ms", "12 µs"."""
    if nanoseconds >= 1e9:
        return "%s s" % (round(nanoseconds / 1e7) / 100)
    if nanoseconds >= 1e6:
        return "%d ms" % round(nanoseconds / 1e6)
    return "%d µs" % round(nanoseconds / 1e3)


def in_call(frame):
    return " (in %s)" % frame.call_name if frame.call_name else ""


def describe_wait(frame, now):
    """The wait of a suspended frame, in CoroutineDump's words."""
    kind = frame.kind
    if kind == WAIT_NONE:
        return "ready to run"
    if kind == WAIT_SLEEP:
        if frame.deadline_ns and now is not None:
            return "sleeping, wakes in " + format_duration(max(frame.deadline_ns - now, 0))
        return "sleeping"
    if kind == WAIT_DESCRIPTOR:
        directions = [name for bit, name in ((1, "readable"), (2, "writable")) if frame.events & bit]
        return "waiting for fd %d to be %s%s" % (frame.fd, " or ".join(directions), in_call(frame))
    if kind == WAIT_DESCRIPTORS:
        return "waiting for any of %d descriptors%s" % (frame.target, in_call(frame))
    if kind == WAIT_JOIN:
        return "joining task #%d" % frame.target
    if kind == WAIT_LOCK:
        return "parked on lock 0x%x" % frame.target
    if kind == WAIT_BLOCKING_POOL:
        return "in the blocking pool" + in_call(frame)
    if kind == WAIT_IDLE:
        return "idle worker"
    if kind == WAIT_OTHER:
        return "waiting to be woken" + in_call(frame)
    return "waiting (kind %d)%s" % (kind, in_call(frame))


class Coroutine:
    """One listed coroutine: its frame, its index and what it was doing."""

    def __init__(self, index, frame, thread, now):
        self.index = index
        self.frame = frame
        self.thread = thread
        running = thread is not None or frame.is_running
        self.registers = None if running else frame.saved_registers()
        if thread is not None:
            self.state = "running on thread %d" % thread
        elif running:
            self.state = "running"
        elif frame.stack_high == 0:
            # gcore cannot read stacks with madvise guard regions (Linux 6.13+) and writes zeros.
            self.state = "unreadable (its stack is missing from the core file)"
        elif frame.context == 0:
            self.state = "finished"
        else:
            self.state = describe_wait(frame, now)
            if frame.kind != WAIT_NONE and now is not None and 0 < frame.since_ns <= now:
                self.state += ", for " + format_duration(now - frame.since_ns)

    @property
    def title(self):
        """`task #4 "name"` as CoroutineDump writes it, or "coroutine" outside tasks."""
        title = "task #%d" % self.frame.task_id if self.frame.task_id else "coroutine"
        name = self.frame.task_name
        return title + (' "%s"' % name if name else "")

    @property
    def is_suspended(self):
        return self.registers is not None


def coroutines():
    """Every listed coroutine, indexed in list order."""
    listed = frames()
    # Unwinding every thread costs, and only a running coroutine has a thread to name.
    pointers = thread_stack_pointers() if any(frame.is_running for frame in listed) else []
    now = monotonic_now_ns()
    return [Coroutine(index, frame, running_thread(frame, pointers), now) for index, frame in enumerate(listed)]


# MARK: - Symbols


class Location:
    """What gdb knows of a code address: its function and its source line."""

    def __init__(self, address, is_return_address):
        self.address = address
        # A return address is the instruction after the call: its line and even its function
        # (after a call that never returns) are those of the byte before.
        lookup = address - 1 if is_return_address else address
        self.symbol, self.offset, self.library = symbol_at(lookup)
        if self.symbol is not None and is_return_address:
            self.offset += 1
        self.line = line_at(lookup)


SYMBOL_PATTERN = re.compile(r"^(?P<name>.*?)(?: \+ (?P<offset>\d+))? in section \S+(?: of (?P<library>.*))?$")


def symbol_at(address):
    """(name, offset, library) of the ELF symbol holding `address`; names stay mangled, as
    gdb has them (it does not demangle Swift). (None, 0, library or None) when no symbol
    holds it."""
    try:
        described = gdb.execute("info symbol 0x%x" % address, to_string=True).strip()
    except gdb.error:
        described = ""
    match = SYMBOL_PATTERN.match(described.splitlines()[0] if described else "")
    if match:
        library = match.group("library")
        return match.group("name"), int(match.group("offset") or 0), library and os.path.basename(library)
    block_function = function_at(address)
    if block_function is not None:
        return block_function
    library = gdb.current_progspace().solib_name(address)
    return None, 0, library and os.path.basename(library)


def function_at(address):
    """(name, offset, None) from the debug information's block for `address`, or None."""
    try:
        block = gdb.block_for_pc(address)
    except RuntimeError:
        return None
    while block is not None and block.function is None:
        block = block.superblock
    if block is None:
        return None
    return block.function.name, address - block.start, None


def line_at(address):
    """`file:line` for `address`, or None without line tables."""
    try:
        line = gdb.find_pc_line(address)
    except gdb.error:
        return None
    if line.symtab is None or line.line == 0:
        return None
    return "%s:%d" % (line.symtab.filename, line.line)


def is_swift_mangled(name):
    return name is not None and name.startswith(("$s", "$S", "$e", "_T0"))


def demangler():
    """The command that demangles Swift names, one per line on standard input, or None."""
    if shutil.which("swift-demangle"):
        return ["swift-demangle", "--compact"]
    if shutil.which("swift"):
        return ["swift", "demangle", "--compact"]
    return None


def demangled(names):
    """A map from each Swift name in `names` to its demangled form, in one run of the
    demangler; empty when it is not on PATH or fails (the names then print as they are)."""
    mangled = sorted({name for name in names if is_swift_mangled(name)})
    command = demangler()
    if not mangled or command is None:
        return {}
    try:
        result = subprocess.run(command, input="\n".join(mangled) + "\n", capture_output=True,
                                text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return {}
    lines = result.stdout.splitlines()
    if result.returncode != 0 or len(lines) != len(mangled):
        return {}
    return dict(zip(mangled, lines))


def describe_location(location, names, full_path, with_address=True):
    """`0x… in function + offset at file:line`, gdb's way."""
    text = "0x%016x in " % location.address if with_address else ""
    if location.symbol is None:
        text += "??"
    else:
        text += names.get(location.symbol, location.symbol)
        if location.offset:
            text += " + %d" % location.offset
    if location.line:
        text += " at " + (location.line if full_path else os.path.basename(location.line))
    elif location.library:
        text += " from " + location.library
    return text


# MARK: - Backtraces


def backtrace(coroutine):
    """The return addresses of a suspended coroutine, innermost first: its saved pc, then the
    frame-pointer chain from its saved fp, within its stack (oc_frame_walk)."""
    pc, fp = coroutine.registers
    addresses = [pc]
    low, high = coroutine.frame.stack_low, coroutine.frame.stack_high
    while len(addresses) < BACKTRACE_LIMIT and low <= fp and fp + 16 <= high and fp % 8 == 0:
        # Each frame record is {previous fp, return address}; the chain climbs the stack.
        try:
            previous, address = read_word(fp), read_word(fp + 8)
        except gdb.MemoryError:
            break
        if address == 0:
            break
        addresses.append(address)
        if previous <= fp:
            break
        fp = previous
    return addresses


# The shared libraries of the runtime, Swift's and the C library's: the frames a listing skips
# to show where the program itself waits.
RUNTIME_LIBRARY = re.compile(r"^lib(CoroutineCore|open_coroutine_hook|OpenCoroutine|swift\w*|Foundation\w*|dispatch|c|pthread)[.-]")


def first_outside_runtime(trace):
    """The index of the first frame of `trace` outside the runtime's libraries (see
    RUNTIME_LIBRARY), or None. A runtime linked into the executable is not told apart."""
    for index, location in enumerate(trace):
        library = gdb.current_progspace().solib_name(location.address)
        if library is None or not RUNTIME_LIBRARY.match(os.path.basename(library)):
            return index
    return None


def parse_selection(argument, listed):
    """The coroutines `oc-backtrace` was asked for: `all`, or one index."""
    argument = argument.strip()
    if argument == "all":
        return listed
    try:
        index = int(argument, 0)
    except ValueError:
        raise gdb.GdbError("usage: oc-backtrace N|all (N an index from oc-coroutines)")
    if not 0 <= index < len(listed):
        raise gdb.GdbError("no coroutine %d: oc-coroutines lists %d" % (index, len(listed)))
    return [listed[index]]


def summary(listed):
    idle = sum(1 for coroutine in listed if coroutine.state.startswith("idle worker"))
    text = "OpenCoroutine: %d coroutine%s" % (len(listed), "" if len(listed) == 1 else "s")
    return text + (" (%d idle worker%s)" % (idle, "" if idle == 1 else "s") if idle else "")


# MARK: - Commands


class CoroutinesCommand(gdb.Command):
    """List the process's OpenCoroutine coroutines: index, task, state and where each stands.

Usage: oc-coroutines
A suspended coroutine shows its saved program counter; a running one, its thread.
See oc-backtrace for the stack of a suspended one."""

    def __init__(self):
        super().__init__("oc-coroutines", gdb.COMMAND_STACK)

    def invoke(self, argument, from_tty):
        listed = coroutines()
        traces = {coroutine.index: [Location(address, True) for address in backtrace(coroutine)]
                  for coroutine in listed if coroutine.is_suspended}
        names = demangled(location.symbol for trace in traces.values() for location in trace)
        gdb.write(summary(listed) + "\n")
        for coroutine in listed:
            line = "[%d] %s: %s" % (coroutine.index, coroutine.title, coroutine.state)
            trace = traces.get(coroutine.index)
            if trace:
                line += "; pc " + describe_location(trace[0], names, full_path=False)
                caller = first_outside_runtime(trace)
                if caller is not None:
                    line += "; in #%d %s" % (caller, describe_location(trace[caller], names, full_path=False,
                                                                        with_address=False))
            gdb.write(line + "\n")


class BacktraceCommand(gdb.Command):
    """Print the backtrace of a suspended OpenCoroutine coroutine.

Usage: oc-backtrace N|all
N is an index from oc-coroutines; `all` prints every coroutine's. The backtrace follows the
frame pointers from the context the coroutine's switch saved, within its stack, up to 64
frames. A running coroutine's stack is its thread's: see `thread N` and `bt`."""

    def __init__(self):
        super().__init__("oc-backtrace", gdb.COMMAND_STACK)

    def invoke(self, argument, from_tty):
        selected = parse_selection(argument, coroutines())
        traces = {coroutine.index: [Location(address, True) for address in backtrace(coroutine)]
                  for coroutine in selected if coroutine.is_suspended}
        names = demangled(location.symbol for trace in traces.values() for location in trace)
        for coroutine in selected:
            gdb.write("[%d] %s: %s\n" % (coroutine.index, coroutine.title, coroutine.state))
            if coroutine.thread is not None:
                gdb.write("    (running: see `thread %d` and `bt`)\n" % coroutine.thread)
            elif coroutine.frame.is_running:
                gdb.write("    (running: see `thread apply all bt`)\n")
            elif not coroutine.is_suspended:
                gdb.write("    (no saved context)\n")
            for number, location in enumerate(traces.get(coroutine.index, [])):
                gdb.write("    #%-2d %s\n" % (number, describe_location(location, names, full_path=True)))
            if len(selected) > 1:
                gdb.write("\n")


CoroutinesCommand()
BacktraceCommand()
