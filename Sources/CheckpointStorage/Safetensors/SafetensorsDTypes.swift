import CheckpointCore

/// How safetensors names and orders dtypes.
///
/// The names are the `Dtype` variants of the `safetensors` crate. The
/// serializer sorts tensors by their variant's position in that enum,
/// descending; for `safetensors` 0.8.0 the enum reads
/// `BOOL, F4, F6_E2M3, F6_E3M2, U8, I8, F8_E5M2, F8_E4M3, F8_E8M0,
/// F8_E4M3FNUZ, F8_E5M2FNUZ, I16, U16, F16, BF16, I32, U32, F32, C64, F64, I64, U64`
/// (checked against the library's own output).
public enum SafetensorsDTypes {
  /// Every dtype name the reference crate accepts, in its enum order.
  public static let referenceOrder = [
    "BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0",
    "F8_E4M3FNUZ", "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64",
    "F64", "I64", "U64",
  ]

  private static let ranks: [String: Int] = Dictionary(
    uniqueKeysWithValues: referenceOrder.enumerated().map { ($1, $0) })

  /// The dtype's position in the reference enum (higher is written first), or
  /// `nil` when safetensors cannot store it (ggml block types).
  public static func rank(of dtype: DType) -> Int? {
    dtype.isBlockQuantized ? nil : ranks[dtype.name]
  }

  /// Throws `.unsupportedDType` unless safetensors can store `dtype`.
  public static func checkWritable(_ dtype: DType, tensor: String) throws {
    guard rank(of: dtype) != nil else {
      throw CheckpointError(
        .unsupportedDType, "safetensors cannot store \(dtype) tensors; dequantize first", tensor: tensor)
    }
  }

  /// The dtype a header names, spelled exactly as the reference spells it.
  ///
  /// - Throws: `.unsupportedDType` for an unknown name, or for a name the
  ///   reference knows but ckpt does not handle (`C64`, `F4`, ...).
  public static func dtype(named name: String, tensor: String, offset: Int) throws -> DType {
    if let dtype = DType(rawValue: name), rank(of: dtype) != nil { return dtype }
    if ranks[name] != nil {
      throw CheckpointError(
        .unsupportedDType, "dtype \(name) is valid safetensors but not supported by ckpt", tensor: tensor,
        offset: offset)
    }
    throw CheckpointError(
      .unsupportedDType, "unknown dtype '\(name)' (known: \(referenceOrder.joined(separator: ", ")))",
      tensor: tensor, offset: offset)
  }

  /// Whether `a` sorts before `b` by Unicode code points (Python's and Rust's string order).
  public static func codePointPrecedes(_ a: String, _ b: String) -> Bool {
    a.unicodeScalars.map(\.value).lexicographicallyPrecedes(b.unicodeScalars.map(\.value))
  }
}
