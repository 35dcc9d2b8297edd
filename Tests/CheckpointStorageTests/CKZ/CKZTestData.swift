import CheckpointCore
import Foundation

@testable import CheckpointStorage

/// Deterministic tensors for `.ckz` tests.
enum CKZTestData {
  /// A small deterministic generator (SplitMix64).
  struct Generator {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    /// A roughly normal value with standard deviation `scale`.
    mutating func normal(_ scale: Float) -> Float {
      var sum: Float = 0
      for _ in 0..<4 { sum += Float(next() >> 40) / Float(1 << 24) - 0.5 }
      return sum * scale * 1.7
    }
  }

  /// Weight-like float32 bytes.
  static func float32(_ count: Int, seed: UInt64, scale: Float = 0.05) -> [UInt8] {
    var generator = Generator(state: seed)
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count * 4)
    for _ in 0..<count { bytes.appendLittleEndian(generator.normal(scale).bitPattern) }
    return bytes
  }

  /// bfloat16 bytes (round to nearest even) of weight-like values.
  static func bfloat16(_ count: Int, seed: UInt64) -> [UInt8] {
    var generator = Generator(state: seed)
    var bytes: [UInt8] = []
    for _ in 0..<count {
      let bits = generator.normal(0.05).bitPattern
      let rounded = (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16
      bytes.appendLittleEndian(UInt16(truncatingIfNeeded: rounded))
    }
    return bytes
  }

  /// Uniformly random bytes.
  static func random(_ count: Int, seed: UInt64) -> [UInt8] {
    var generator = Generator(state: seed)
    return (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
  }

  static func tensor(_ name: String, _ dtype: DType, _ shape: [Int], _ bytes: [UInt8]) throws -> Tensor {
    try Tensor(name: name, dtype: dtype, shape: shape, bytes: TensorBytes(bytes))
  }

  /// A checkpoint with every dtype, a scalar, an empty tensor and a multi-chunk tensor.
  static func everyDType(largeElements: Int = 600_000) throws -> Checkpoint {
    var tensors: [Tensor] = []
    for (number, dtype) in DType.allCases.enumerated() {
      let elements = 64
      let count = try dtype.byteCount(elements: elements)
      let bytes: [UInt8]
      switch dtype {
      case .f32: bytes = float32(elements, seed: UInt64(number))
      case .bf16: bytes = bfloat16(elements, seed: UInt64(number))
      default: bytes = random(count, seed: UInt64(number))
      }
      tensors.append(
        try tensor("layer.\(number).\(dtype.name.lowercased())", dtype, [2, elements / 2], bytes))
    }
    tensors.append(try tensor("scalar", .f64, [], random(8, seed: 99)))
    tensors.append(try tensor("empty", .f32, [0, 3], []))
    tensors.append(try tensor("big.weight", .f32, [largeElements], float32(largeElements, seed: 7)))
    let third = largeElements / 3
    tensors.append(try tensor("big.bf16", .bf16, [3, third], bfloat16(3 * third, seed: 8)))
    return try Checkpoint(
      tensors: tensors, metadata: ["format": "pt", "note": "ünïcode ✓", "": "empty key"])
  }

  /// Writes `checkpoint` as `.ckz` into memory (through a temporary file).
  static func ckzBytes(
    _ checkpoint: Checkpoint, compression: CompressionSetting?, provenance: Provenance? = nil
  ) throws -> [UInt8] {
    let folder = NSTemporaryDirectory() + "ckz-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let path = folder + "/model.ckz"
    try CKZFormat.write(
      checkpoint, to: path, options: WriteOptions(compression: compression, provenance: provenance))
    return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
  }
}
