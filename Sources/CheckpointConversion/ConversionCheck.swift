import CheckpointCore
import CheckpointEngine

/// Checks a conversion by running the engine on the source and the converted checkpoint with
/// the same seeded inputs (what `ckpt convert --verify` does until `ckpt verify` takes over).
public enum ConversionCheck {
  /// The largest absolute difference allowed between the two models' outputs.
  public static let tolerance: Float = 1e-5

  /// What a check found.
  public struct Result: Sendable {
    /// The architecture both checkpoints were run as.
    public var architecture: Architecture
    /// The largest absolute difference over every output.
    public var maxAbsError: Float
    /// Whether it is within ``ConversionCheck/tolerance``.
    public var passed: Bool { maxAbsError <= ConversionCheck.tolerance }
  }

  /// Runs `source` and `converted` as the first architecture the engine can assemble from
  /// `source` (seq2seq LSTM, Transformer, Transformer encoder, LSTM, GRU) on seeded inputs.
  ///
  /// - Throws: ``CheckpointError`` when no architecture fits the source, or the converted
  ///   checkpoint cannot be assembled as the same architecture.
  public static func run(
    source: Checkpoint, converted: Checkpoint, options: EngineOptions = EngineOptions(), seed: UInt64 = 1
  ) throws -> Result {
    var failures: [String] = []
    for architecture in [Architecture.seq2seqLSTM, .transformer, .transformerEncoder, .lstm, .gru] {
      let original: Model
      do {
        original = try Model(source, architecture: architecture, options: options)
      } catch {
        failures.append("\(architecture.rawValue): \(error)")
        continue
      }
      let other = try Model(converted, architecture: architecture, options: options)
      let inputs = try original.sampleInputs(seed: seed)
      let expected = try original.run(inputs)
      let actual = try other.run(inputs)
      var worst: Float = 0
      for want in expected.tensors {
        guard let got = actual[want.name], got.shape == want.shape else {
          throw CheckpointError(.invalidShape, "the converted model's output '\(want.name)' differs in shape")
        }
        let a = try floatValues(got)
        let b = try floatValues(want)
        for (x, y) in zip(a, b) {
          let difference = abs(x - y)
          worst = difference.isNaN ? .infinity : max(worst, difference)
        }
      }
      return Result(architecture: architecture, maxAbsError: worst)
    }
    throw CheckpointError(
      .unsupported,
      "cannot verify: the engine assembles none of its architectures from the source ("
        + failures.joined(separator: "; ") + ")")
  }

  private static func floatValues(_ tensor: Tensor) throws -> [Float] {
    let bytes = try tensor.load()
    return bytes.withUnsafeBytes { raw in
      (0..<(tensor.byteCount / 4)).map {
        Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
      }
    }
  }
}
