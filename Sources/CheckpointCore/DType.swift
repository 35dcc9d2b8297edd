/// The element type of a tensor.
///
/// Raw values are the safetensors dtype names (`F32`, `BF16`, ...), which is
/// also how `ckpt inspect --json` spells them. Quantized block types
/// (`Q8_0`, `Q4_0`) store a fixed number of elements per block.
public enum DType: String, CaseIterable, Sendable, Hashable, Codable {
  case f64 = "F64"
  case f32 = "F32"
  case f16 = "F16"
  case bf16 = "BF16"
  case f8e4m3 = "F8_E4M3"
  case f8e5m2 = "F8_E5M2"
  case i64 = "I64"
  case i32 = "I32"
  case i16 = "I16"
  case i8 = "I8"
  case u64 = "U64"
  case u32 = "U32"
  case u16 = "U16"
  case u8 = "U8"
  case bool = "BOOL"
  /// ggml Q8_0: blocks of 32 elements, an fp16 scale and 32 int8 values (34 bytes).
  case q8_0 = "Q8_0"
  /// ggml Q4_0: blocks of 32 elements, an fp16 scale and 16 bytes of nibbles (18 bytes).
  case q4_0 = "Q4_0"

  /// Creates a dtype from its safetensors name (case-insensitive).
  public init?(name: String) {
    guard let value = DType(rawValue: name.uppercased()) else { return nil }
    self = value
  }

  /// The safetensors name of this dtype (`F32`, `BF16`, ...).
  public var name: String { rawValue }

  /// Number of elements in one storage block: 1 for plain types, 32 for ggml blocks.
  public var blockElements: Int {
    switch self {
    case .q8_0, .q4_0: return 32
    default: return 1
    }
  }

  /// Number of bytes in one storage block (for plain types, the element size).
  public var blockBytes: Int {
    switch self {
    case .f64, .i64, .u64: return 8
    case .f32, .i32, .u32: return 4
    case .f16, .bf16, .i16, .u16: return 2
    case .f8e4m3, .f8e5m2, .i8, .u8, .bool: return 1
    case .q8_0: return 34
    case .q4_0: return 18
    }
  }

  /// Whether the dtype stores whole elements (not blocks).
  public var isBlockQuantized: Bool { blockElements > 1 }

  /// The size of one element in bytes, or `nil` for block-quantized types.
  public var elementSize: Int? { isBlockQuantized ? nil : blockBytes }

  /// Whether values are floating point (including quantized block types).
  public var isFloatingPoint: Bool {
    switch self {
    case .f64, .f32, .f16, .bf16, .f8e4m3, .f8e5m2, .q8_0, .q4_0: return true
    default: return false
    }
  }

  /// The storage size of `elements` elements of this type, with overflow checking.
  ///
  /// - Throws: ``CheckpointError`` when the size overflows `Int`, or when a
  ///   block-quantized type is asked for a count that is not a whole number of blocks.
  public func byteCount(elements: Int) throws -> Int {
    guard elements >= 0 else {
      throw CheckpointError(.invalidShape, "negative element count \(elements)")
    }
    guard elements % blockElements == 0 else {
      throw CheckpointError(
        .invalidShape,
        "\(elements) elements is not a whole number of \(name) blocks of \(blockElements)")
    }
    let (bytes, overflow) = (elements / blockElements).multipliedReportingOverflow(by: blockBytes)
    guard !overflow else {
      throw CheckpointError(.invalidShape, "\(elements) elements of \(name) overflow the byte count")
    }
    return bytes
  }
}

extension DType: CustomStringConvertible {
  /// The value as messages and `ckpt inspect` print it.
  public var description: String { rawValue }
}
