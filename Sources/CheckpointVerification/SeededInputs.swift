import CheckpointCore
import CheckpointEngine

/// Deterministic inputs of the right shapes for a model, from a seed.
///
/// One ``SplitMix64`` generator started from the seed fills the model's inputs in the
/// order of `Model/inputSpecs`, row-major: float inputs `[batch, length, features]` get
/// standard normal values (``SplitMix64/nextNormal()`` rounded to float32), token inputs
/// `[batch, length]` get uniform ids in `0..<vocabulary` (``SplitMix64/nextInt(below:)``),
/// stored as I64. The same seed, sizes and model widths always give the same bytes.
public enum SeededInputs {
  /// The inputs for `specs`.
  ///
  /// - Throws: `CheckpointError` `.invalidArgument` for a batch or length below 1.
  public static func make(for specs: [InputSpec], seed: UInt64, batch: Int, length: Int) throws -> Checkpoint
  {
    guard batch >= 1, length >= 1 else {
      throw CheckpointError(.invalidArgument, "batch and length must be at least 1")
    }
    var generator = SplitMix64(seed: seed)
    var tensors: [Tensor] = []
    for spec in specs {
      if spec.isTokens {
        let count = try Shape.elementCount([batch, length])
        let values = (0..<count).map { _ in Int64(generator.nextInt(below: max(1, spec.size))) }
        let bytes = TensorBytes.allocate(count: count * 8) { buffer in
          for (index, value) in values.enumerated() {
            buffer.storeBytes(of: value.littleEndian, toByteOffset: index * 8, as: Int64.self)
          }
        }
        tensors.append(try Tensor(name: spec.name, dtype: .i64, shape: [batch, length], bytes: bytes))
      } else {
        let shape = [batch, length, spec.size]
        let count = try Shape.elementCount(shape)
        let values = (0..<count).map { _ in Float(generator.nextNormal()) }
        tensors.append(try TensorValues.tensor(spec.name, Matrix(shape: shape, values: values)))
      }
    }
    return try Checkpoint(format: "memory", tensors: tensors)
  }
}
