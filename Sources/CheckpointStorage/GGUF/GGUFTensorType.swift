import CheckpointCore

/// ggml tensor types (`ggml_type`) and the ones CheckpointKit reads and writes.
public enum GGUFTensorType {
  /// The ggml type ids CheckpointKit maps to a `DType`.
  public static let supported: [(id: UInt32, dtype: DType)] = [
    (0, .f32), (1, .f16), (2, .q4_0), (8, .q8_0), (24, .i8), (25, .i16), (26, .i32), (27, .i64),
    (28, .f64), (30, .bf16),
  ]

  /// ggml's type names by id (`GGML_TYPE_COUNT` is 40); `nil` marks ids ggml removed.
  static let names: [String?] = [
    "F32", "F16", "Q4_0", "Q4_1", nil, nil, "Q5_0", "Q5_1", "Q8_0", "Q8_1", "Q2_K", "Q3_K", "Q4_K",
    "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ2_S",
    "IQ4_XS", "I8", "I16", "I32", "I64", "F64", "IQ1_M", "BF16", nil, nil, nil, "TQ1_0", "TQ2_0", nil,
    nil, nil, "MXFP4",
  ]

  /// The dtype of ggml type `id`.
  ///
  /// - Throws: `.corrupt` for ids ggml does not define (as llama.cpp), `.unsupportedDType`
  ///   for ggml types CheckpointKit does not decode (K-quants, IQ types, ...).
  public static func dtype(id: UInt32) throws -> DType {
    if let match = supported.first(where: { $0.id == id }) { return match.dtype }
    guard Int(id) < names.count, let name = names[Int(id)] else {
      throw CheckpointError(.corrupt, "invalid ggml type \(id)")
    }
    throw CheckpointError(
      .unsupportedDType,
      "ggml type \(name) (\(id)) is not supported (F32, F16, BF16, F64, I8–I64, Q8_0, Q4_0 are)")
  }

  /// The ggml type id of `dtype`, or `nil` when GGUF cannot store it.
  public static func id(of dtype: DType) -> UInt32? {
    supported.first(where: { $0.dtype == dtype })?.id
  }
}
