import CheckpointCore

/// Writes the protocol-2 pickle `torch.save` writes for a state dict: an
/// `OrderedDict` of `torch._utils._rebuild_tensor_v2(...)` calls whose storages
/// are persistent ids `('storage', torch.<Type>Storage, key, 'cpu', numel)`.
///
/// Only opcodes the ``PickleMachine`` (and torch's `weights_only` unpickler)
/// accept are used. Globals are memoized once and fetched with `BINGET`.
struct PickleWriter {
  /// One entry of the state dict.
  struct Entry {
    /// The key.
    var name: String
    /// The storage record key (`0`, `1`, ...).
    var storageKey: String
    /// The storage's element type.
    var dtype: DType
    /// The storage's element count.
    var storageCount: Int
    /// The tensor's shape (C-contiguous from offset 0).
    var shape: [Int]
  }

  private(set) var bytes: [UInt8] = []
  private var memo: [String: Int] = [:]

  /// The pickle of an `OrderedDict` of `entries`.
  static func stateDict(_ entries: [Entry]) throws -> [UInt8] {
    var writer = PickleWriter()
    writer.bytes += [PickleOpcode.proto.rawValue, 2]
    writer.global("collections", "OrderedDict")
    writer.op(.emptyTuple)
    writer.op(.reduce)
    for batch in stride(from: 0, to: entries.count, by: 1000) {
      writer.op(.mark)
      for entry in entries[batch..<min(entries.count, batch + 1000)] {
        guard let typeName = PickleAllowList.storageTypeName(for: entry.dtype) else {
          throw CheckpointError(
            .unsupportedDType, "PyTorch storages cannot hold \(entry.dtype)", tensor: entry.name)
        }
        writer.string(entry.name)
        writer.global("torch._utils", "_rebuild_tensor_v2")
        writer.op(.mark)
        writer.op(.mark)
        writer.string("storage")
        writer.global("torch", typeName)
        writer.string(entry.storageKey)
        writer.string("cpu")
        writer.int(entry.storageCount)
        writer.op(.tuple)
        writer.op(.binPersistentID)
        writer.int(0)
        writer.tuple(entry.shape)
        writer.tuple(contiguousStrides(entry.shape))
        writer.op(.newFalse)
        writer.global("collections", "OrderedDict")
        writer.op(.emptyTuple)
        writer.op(.reduce)
        writer.op(.tuple)
        writer.op(.reduce)
      }
      writer.op(.setItems)
    }
    writer.op(.stop)
    return writer.bytes
  }

  /// Row-major strides of `shape`, in elements.
  static func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var step = 1
    for index in shape.indices.reversed() {
      strides[index] = step
      step &*= max(shape[index], 1)
    }
    return strides
  }

  private mutating func op(_ opcode: PickleOpcode) { bytes.append(opcode.rawValue) }

  private mutating func global(_ module: String, _ name: String) {
    let qualified = module + "\n" + name + "\n"
    if let index = memo[qualified] {
      get(index)
      return
    }
    op(.global)
    bytes += Array(qualified.utf8)
    let index = memo.count
    memo[qualified] = index
    put(index)
  }

  private mutating func get(_ index: Int) {
    if index < 256 {
      bytes += [PickleOpcode.binGet.rawValue, UInt8(index)]
    } else {
      op(.longBinGet)
      bytes.appendLittleEndian(UInt32(index))
    }
  }

  private mutating func put(_ index: Int) {
    if index < 256 {
      bytes += [PickleOpcode.binPut.rawValue, UInt8(index)]
    } else {
      op(.longBinPut)
      bytes.appendLittleEndian(UInt32(index))
    }
  }

  private mutating func string(_ text: String) {
    let utf8 = Array(text.utf8)
    op(.binUnicode)
    bytes.appendLittleEndian(UInt32(utf8.count))
    bytes += utf8
  }

  /// The smallest integer opcode for `value` (as Python's pickler chooses).
  private mutating func int(_ value: Int) {
    switch value {
    case 0...0xFF:
      bytes += [PickleOpcode.binInt1.rawValue, UInt8(value)]
    case 0...0xFFFF:
      op(.binInt2)
      bytes.appendLittleEndian(UInt16(value))
    case Int(Int32.min)...Int(Int32.max):
      op(.binInt)
      bytes.appendLittleEndian(Int32(value))
    default:
      // LONG1: minimal two's-complement little-endian bytes.
      var raw = value.littleEndianBytes
      while raw.count > 1 {
        let last = raw[raw.count - 1]
        let previous = raw[raw.count - 2]
        if (last == 0 && previous & 0x80 == 0) || (last == 0xFF && previous & 0x80 != 0) {
          raw.removeLast()
        } else {
          break
        }
      }
      bytes += [PickleOpcode.long1.rawValue, UInt8(raw.count)]
      bytes += raw
    }
  }

  private mutating func tuple(_ values: [Int]) {
    switch values.count {
    case 0: op(.emptyTuple)
    case 1...3:
      for value in values { int(value) }
      op(values.count == 1 ? .tuple1 : values.count == 2 ? .tuple2 : .tuple3)
    default:
      op(.mark)
      for value in values { int(value) }
      op(.tuple)
    }
  }
}
