import CheckpointCore

extension Model {
  /// Seeded inputs for this model, for comparing two sets of weights on the same data:
  /// float values uniform in [-1, 1), token ids uniform over the embedding's vocabulary,
  /// `batch` sequences of `length` steps, batch-first as ``run(_:)`` takes them.
  ///
  /// The generator is SplitMix64, so the inputs depend only on `seed` and the model's sizes.
  public func sampleInputs(seed: UInt64, batch: Int = 2, length: Int = 6) throws -> Checkpoint {
    var state = seed
    func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    func floats(_ name: String, features: Int) throws -> Tensor {
      let values = (0..<batch * length * features).map { _ in Float(next() >> 40) / Float(1 << 23) - 1 }
      return try TensorValues.tensor(name, Matrix(shape: [batch, length, features], values: values))
    }
    func tokens(_ name: String, vocabulary: Int) throws -> Tensor {
      var bytes: [UInt8] = []
      for _ in 0..<batch * length { bytes.appendLittleEndian(Int64(next() % UInt64(max(1, vocabulary)))) }
      return try Tensor(name: name, dtype: .i64, shape: [batch, length], bytes: TensorBytes(bytes))
    }
    // Every required input, in order; the random stream runs through them in that order.
    return try Checkpoint(
      tensors: inputSpecs.map { spec in
        spec.isTokens
          ? try tokens(spec.name, vocabulary: spec.size) : try floats(spec.name, features: spec.size)
      })
  }
}
