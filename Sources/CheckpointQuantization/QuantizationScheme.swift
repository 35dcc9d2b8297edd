import CheckpointCore

/// A quantization scheme of `ckpt quantize --scheme`.
public enum QuantizationScheme: String, CaseIterable, Sendable {
  /// IEEE half precision, round to nearest even.
  case f16
  /// bfloat16, round to nearest even (NaN stays a quiet NaN, ±inf kept), as ggml and gguf-py.
  case bf16
  /// Per-output-channel (first dimension) symmetric int8 with one F32 scale per channel.
  case int8
  /// ggml Q8_0: blocks of 32 values, an fp16 scale `amax/127`, 32 int8 values.
  case q8_0
  /// ggml Q4_0: blocks of 32 values, an fp16 scale `max/-8`, 32 4-bit values.
  case q4_0

  /// The dtype quantized tensors get.
  public var outputDType: DType {
    switch self {
    case .f16: return .f16
    case .bf16: return .bf16
    case .int8: return .i8
    case .q8_0: return .q8_0
    case .q4_0: return .q4_0
    }
  }

  /// Whether the scheme produces ggml blocks (Q8_0, Q4_0).
  public var isBlockQuantized: Bool { outputDType.isBlockQuantized }
}
