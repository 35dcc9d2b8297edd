import CheckpointCore
import CheckpointTestSupport

/// The gguf-py quantization fixtures (Fixtures/gguf/quant_*).
enum QuantizationFixtures {
  static let rows = 40
  static let columns = 256

  /// The input values (float32, rows × columns).
  static func input() throws -> [Float] {
    let bytes = try TestFixtures.bytes("gguf/quant_input.f32")
    return stride(from: 0, to: bytes.count, by: 4).map { i in
      Float(
        bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16
          | UInt32(bytes[i + 3]) << 24)
    }
  }

  /// The input as F32 tensor bytes.
  static func inputBytes() throws -> TensorBytes {
    TensorBytes(try TestFixtures.bytes("gguf/quant_input.f32"))
  }

  /// What gguf-py produced for `file` (`quant_q8_0.bin`, ...).
  static func expected(_ file: String) throws -> [UInt8] {
    try TestFixtures.bytes("gguf/" + file)
  }
}
