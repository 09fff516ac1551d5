// The facade is what users import: it brings the runtime's types along.
@_exported import CoroutineCore
