import CheckpointCore

/// A restricted pickle virtual machine for `torch.save` state dicts.
///
/// It interprets the binary opcodes of protocols 2–5 that state dicts use
/// (``PickleOpcode``) and resolves every `GLOBAL`/`STACK_GLOBAL` against
/// ``PickleAllowList``: anything else is refused by name
/// (`refused global posix.system`). Nothing is ever imported or executed —
/// a `REDUCE` on an allow-listed callable builds a Swift value, and `REDUCE`
/// on anything else is an error. `SETITEM(S)` must target a dict, `APPEND(S)`
/// a list and `BUILD` an `OrderedDict` with a string-keyed state dict.
///
/// Every length is checked against the bytes left before anything is
/// allocated, and errors carry the byte offset of the failing opcode.
struct PickleMachine {
  /// The result of a run: the root value, and the arena that owns its containers
  /// (keep it alive while using the value).
  struct Result {
    /// The unpickled value.
    var root: PickleValue
    /// Owns every container reachable from `root`.
    let arena: PickleArena
  }

  private let bytes: [UInt8]
  private let baseOffset: Int
  private let persistentLoad: (PickleValue) throws -> PickleValue
  private var position = 0
  private var stack: [PickleValue] = []
  private var metastack: [[PickleValue]] = []
  private var memo: [Int: PickleValue] = [:]
  private let arena = PickleArena()

  /// Prepares to unpickle `bytes`, whose first byte sits at `baseOffset` in its
  /// file; `persistentLoad` turns a `BINPERSID` id into a value.
  init(
    bytes: [UInt8], baseOffset: Int = 0,
    persistentLoad: @escaping (PickleValue) throws -> PickleValue = PickleAllowList.persistentLoad
  ) {
    self.bytes = bytes
    self.baseOffset = baseOffset
    self.persistentLoad = persistentLoad
  }

  /// Unpickles the bytes.
  ///
  /// - Throws: ``CheckpointError`` at the offset of the failing opcode: `.unsupported`
  ///   for refused globals, calls and opcodes, `.corrupt`/`.truncated` for malformed data.
  static func run(
    _ bytes: [UInt8], baseOffset: Int = 0,
    persistentLoad: @escaping (PickleValue) throws -> PickleValue = PickleAllowList.persistentLoad
  ) throws -> Result {
    var machine = PickleMachine(bytes: bytes, baseOffset: baseOffset, persistentLoad: persistentLoad)
    return try machine.run()
  }

  private mutating func run() throws -> Result {
    while position < bytes.count {
      let start = position
      let byte = bytes[position]
      position += 1
      do {
        guard let opcode = PickleOpcode(rawValue: byte) else {
          let name = PickleOpcode.refusedName(byte).map { "\($0) (0x\(hex(byte)))" } ?? "0x\(hex(byte))"
          throw CheckpointError(.unsupported, "pickle opcode \(name) is not allowed in a state dict")
        }
        if opcode == .stop {
          guard metastack.isEmpty, stack.count == 1, let root = stack.popLast() else {
            throw CheckpointError(
              .corrupt, "STOP with \(stack.count) values and \(metastack.count) open marks")
          }
          guard position == bytes.count else {
            throw CheckpointError(.corrupt, "\(bytes.count - position) bytes after the pickle's STOP")
          }
          return Result(root: root, arena: arena)
        }
        try execute(opcode)
      } catch let error as CheckpointError {
        throw error.located(offset: baseOffset + start)
      }
    }
    throw CheckpointError(.truncated, "pickle ends without STOP", offset: baseOffset + position)
  }

  // MARK: - Opcodes

  private mutating func execute(_ opcode: PickleOpcode) throws {
    switch opcode {
    case .proto:
      let version = try readByte()
      guard (2...5).contains(version) else {
        throw CheckpointError(.unsupported, "pickle protocol \(version) (supported: 2 to 5)")
      }
    case .frame:
      let length = try readInteger(UInt64.self)
      guard length <= UInt64(bytes.count - position) else {
        throw CheckpointError(.truncated, "frame of \(length) bytes, only \(bytes.count - position) left")
      }
    case .stop:
      break  // handled by run()
    case .mark:
      metastack.append(stack)
      stack = []
    case .pop:
      _ = try pop()
    case .popMark:
      _ = try popMark()
    case .dup:
      stack.append(try top())
    case .none:
      stack.append(.none)
    case .newTrue:
      stack.append(.bool(true))
    case .newFalse:
      stack.append(.bool(false))
    case .binInt:
      stack.append(.int(Int(Int32(bitPattern: try readInteger(UInt32.self)))))
    case .binInt1:
      stack.append(.int(Int(try readByte())))
    case .binInt2:
      stack.append(.int(Int(try readInteger(UInt16.self))))
    case .long1:
      stack.append(.int(try readLong(count: Int(try readByte()))))
    case .long4:
      let count = Int(Int32(bitPattern: try readInteger(UInt32.self)))
      stack.append(.int(try readLong(count: count)))
    case .binFloat:
      // The one big-endian field of the format.
      var raw: UInt64 = 0
      for byte in try readBytes(8, "BINFLOAT") { raw = raw << 8 | UInt64(byte) }
      stack.append(.float(Double(bitPattern: raw)))
    case .binUnicode, .binString:
      stack.append(.string(try readString(count: Int(try readInteger(UInt32.self)))))
    case .shortBinUnicode, .shortBinString:
      stack.append(.string(try readString(count: Int(try readByte()))))
    case .binUnicode8:
      stack.append(.string(try readString(count: try readLength64())))
    case .binBytes:
      stack.append(.bytes(try readBytes(Int(try readInteger(UInt32.self)), "BINBYTES")))
    case .shortBinBytes:
      stack.append(.bytes(try readBytes(Int(try readByte()), "SHORT_BINBYTES")))
    case .binBytes8:
      stack.append(.bytes(try readBytes(try readLength64(), "BINBYTES8")))
    case .emptyTuple:
      stack.append(.tuple(arena.track(PickleTuple([]))))
    case .tuple:
      stack.append(.tuple(arena.track(PickleTuple(try popMark()))))
    case .tuple1, .tuple2, .tuple3:
      let count = opcode == .tuple1 ? 1 : opcode == .tuple2 ? 2 : 3
      guard stack.count >= count else { throw underflow(opcode) }
      let items = Array(stack.suffix(count))
      stack.removeLast(count)
      stack.append(.tuple(arena.track(PickleTuple(items))))
    case .emptyList:
      stack.append(.list(arena.track(PickleList())))
    case .list:
      let list = arena.track(PickleList())
      list.items = try popMark()
      stack.append(.list(list))
    case .append:
      let value = try pop()
      try listTarget(opcode).items.append(value)
    case .appends:
      let values = try popMark()
      try listTarget(opcode).items.append(contentsOf: values)
    case .emptyDict:
      stack.append(.dict(arena.track(PickleDict(ordered: false))))
    case .dict:
      let dict = arena.track(PickleDict(ordered: false))
      try setItems(try popMark(), into: dict)
      stack.append(.dict(dict))
    case .setItem:
      let value = try pop()
      let key = try pop()
      try setItems([key, value], into: try dictTarget(opcode))
    case .setItems:
      let items = try popMark()
      try setItems(items, into: try dictTarget(opcode))
    case .global:
      let module = try readLine("GLOBAL module")
      let name = try readLine("GLOBAL name")
      stack.append(.global(try PickleAllowList.resolve(module: module, name: name)))
    case .stackGlobal:
      let name = try pop()
      let module = try pop()
      guard case .string(let moduleName) = module, case .string(let globalName) = name else {
        throw CheckpointError(
          .corrupt, "STACK_GLOBAL needs two strings, got \(module.typeName) and \(name.typeName)")
      }
      stack.append(.global(try PickleAllowList.resolve(module: moduleName, name: globalName)))
    case .reduce:
      let arguments = try pop()
      let callable = try pop()
      guard case .global(let global) = callable else {
        throw CheckpointError(.unsupported, "REDUCE on a \(callable.typeName), which is not callable")
      }
      guard case .tuple(let tuple) = arguments else {
        throw CheckpointError(.corrupt, "REDUCE arguments are a \(arguments.typeName), expected a tuple")
      }
      stack.append(try PickleAllowList.call(global, arguments: tuple.items, arena: arena))
    case .build:
      let state = try pop()
      let target = try top()
      guard case .dict(let dict) = target, dict.isOrdered else {
        throw CheckpointError(
          .unsupported, "BUILD on a \(target.typeName) (only an OrderedDict's attributes)")
      }
      guard case .dict(let attributes) = state else {
        throw CheckpointError(
          .unsupported, "BUILD with a \(state.typeName) state (only a dict of attributes)")
      }
      for (key, value) in attributes.items {
        guard case .string(let name) = key else {
          throw CheckpointError(.corrupt, "BUILD attribute name is a \(key.value.typeName), expected str")
        }
        dict.attributes[name] = value
      }
    case .binPersistentID:
      stack.append(try persistentLoad(try pop()))
    case .binPut:
      memo[Int(try readByte())] = try top()
    case .longBinPut:
      memo[Int(try readInteger(UInt32.self))] = try top()
    case .memoize:
      memo[memo.count] = try top()
    case .binGet:
      stack.append(try memoValue(Int(try readByte())))
    case .longBinGet:
      stack.append(try memoValue(Int(try readInteger(UInt32.self))))
    }
  }

  // MARK: - Stack

  private mutating func pop() throws -> PickleValue {
    guard let value = stack.popLast() else { throw CheckpointError(.corrupt, "pickle stack underflow") }
    return value
  }

  private func top() throws -> PickleValue {
    guard let value = stack.last else { throw CheckpointError(.corrupt, "pickle stack underflow") }
    return value
  }

  private mutating func popMark() throws -> [PickleValue] {
    guard let outer = metastack.popLast() else {
      throw CheckpointError(.corrupt, "no MARK on the pickle stack")
    }
    let items = stack
    stack = outer
    return items
  }

  private func underflow(_ opcode: PickleOpcode) -> CheckpointError {
    CheckpointError(.corrupt, "\(opcode.name) with too few values on the pickle stack")
  }

  private func memoValue(_ index: Int) throws -> PickleValue {
    guard let value = memo[index] else {
      throw CheckpointError(.corrupt, "memo entry \(index) read before it was written")
    }
    return value
  }

  private func listTarget(_ opcode: PickleOpcode) throws -> PickleList {
    let target = try top()
    guard case .list(let list) = target else {
      throw CheckpointError(.corrupt, "\(opcode.name) on a \(target.typeName), expected a list")
    }
    return list
  }

  private func dictTarget(_ opcode: PickleOpcode) throws -> PickleDict {
    let target = try top()
    guard case .dict(let dict) = target else {
      throw CheckpointError(.corrupt, "\(opcode.name) on a \(target.typeName), expected a dict")
    }
    return dict
  }

  private func setItems(_ items: [PickleValue], into dict: PickleDict) throws {
    guard items.count % 2 == 0 else {
      throw CheckpointError(.corrupt, "odd number of values (\(items.count)) for dict items")
    }
    for index in stride(from: 0, to: items.count, by: 2) {
      dict.set(items[index + 1], for: try key(items[index]))
    }
  }

  private func key(_ value: PickleValue) throws -> PickleKey {
    switch value {
    case .string(let s): return .string(s)
    case .int(let i): return .int(i)
    case .bool(let b): return .bool(b)
    case .none: return .none
    default: throw CheckpointError(.unsupported, "dict key of type \(value.typeName)")
    }
  }

  // MARK: - Reading

  private mutating func readByte() throws -> UInt8 {
    guard position < bytes.count else { throw CheckpointError(.truncated, "pickle ends inside an opcode") }
    defer { position += 1 }
    return bytes[position]
  }

  private mutating func readInteger<T: FixedWidthInteger>(_: T.Type) throws -> T {
    let size = MemoryLayout<T>.size
    guard size <= bytes.count - position else {
      throw CheckpointError(.truncated, "pickle ends inside an opcode")
    }
    var value: T = 0
    for i in 0..<size { value |= T(truncatingIfNeeded: bytes[position + i]) << (8 * i) }
    position += size
    return value
  }

  private mutating func readLength64() throws -> Int {
    let length = try readInteger(UInt64.self)
    guard length <= UInt64(bytes.count - position) else {
      throw CheckpointError(.truncated, "length \(length) is past the end of the pickle")
    }
    return Int(length)
  }

  private mutating func readBytes(_ count: Int, _ what: String) throws -> [UInt8] {
    guard count >= 0, count <= bytes.count - position else {
      throw CheckpointError(
        .truncated, "\(what) of \(count) bytes, only \(bytes.count - position) left in the pickle")
    }
    defer { position += count }
    return Array(bytes[position..<position + count])
  }

  private mutating func readString(count: Int) throws -> String {
    let raw = try readBytes(count, "string")
    guard let string = String(validating: raw, as: UTF8.self) else {
      throw CheckpointError(.corrupt, "string is not valid UTF-8")
    }
    return string
  }

  /// A two's-complement little-endian integer of `count` bytes (LONG1/LONG4), up to 64 bits.
  private mutating func readLong(count: Int) throws -> Int {
    guard count >= 0 else { throw CheckpointError(.corrupt, "negative LONG size \(count)") }
    let raw = try readBytes(count, "LONG")
    guard count <= 8 else {
      throw CheckpointError(.unsupported, "integer of \(count) bytes does not fit in 64 bits")
    }
    guard let last = raw.last else { return 0 }
    var value: UInt64 = last & 0x80 != 0 ? ~0 : 0
    for byte in raw.reversed() { value = value << 8 | UInt64(byte) }
    return Int(Int64(bitPattern: value))
  }

  /// A newline-terminated ASCII line (GLOBAL operands), at most 256 bytes.
  private mutating func readLine(_ what: String) throws -> String {
    let limit = min(bytes.count, position + 256)
    guard let end = bytes[position..<limit].firstIndex(of: 0x0A) else {
      throw CheckpointError(.corrupt, "\(what) is not a line of at most 256 bytes")
    }
    let raw = bytes[position..<end]
    position = end + 1
    guard raw.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
      throw CheckpointError(.corrupt, "\(what) is not printable ASCII")
    }
    return String(decoding: raw, as: UTF8.self)
  }

  private func hex(_ byte: UInt8) -> String {
    let digits = String(byte, radix: 16, uppercase: true)
    return digits.count == 1 ? "0" + digits : digits
  }
}
