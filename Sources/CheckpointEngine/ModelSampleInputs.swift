import CheckpointCore

extension Model {
  /// Seeded pseudo-random inputs that fit the model: float sequences `[batch, steps, features]`
  /// in [-1, 1) (a `mask` is not given) or token ids in `[0, vocabulary)`.
  ///
  /// The same seed gives the same inputs on every machine (a SplitMix64 generator), so two
  /// checkpoints of one model can be compared on them.
  public func sampleInputs(batch: Int = 2, steps: Int = 5, seed: UInt64 = 1) throws -> Checkpoint {
    var state = seed
    func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    func floats(_ name: String, features: Int) throws -> Tensor {
      let values = (0..<(batch * steps * features)).map { _ in Float(next() >> 40) / Float(1 << 24) * 2 - 1 }
      return try TensorValues.tensor(name, Matrix(shape: [batch, steps, features], values: values))
    }
    func tokens(_ name: String, vocabulary: Int) throws -> Tensor {
      var bytes: [UInt8] = []
      for _ in 0..<(batch * steps) {
        let value = Int64(next() % UInt64(max(vocabulary, 1)))
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
      }
      return try Tensor(name: name, dtype: .i64, shape: [batch, steps], bytes: TensorBytes(bytes))
    }
    let tensors: [Tensor]
    switch body {
    case .lstm(let lstm): tensors = [try floats("x", features: lstm.inputSize)]
    case .gru(let gru): tensors = [try floats("x", features: gru.inputSize)]
    case .encoder(let encoder): tensors = [try floats("x", features: encoder.embed)]
    case .transformer(let encoder, let decoder):
      tensors = [try floats("src", features: encoder.embed), try floats("tgt", features: decoder.embed)]
    case .seq2seq(let model):
      tensors = [
        try tokens("src", vocabulary: model.encoderEmbedding.vocabulary),
        try tokens("tgt", vocabulary: model.decoderEmbedding.vocabulary),
      ]
    }
    return try Checkpoint(format: "memory", tensors: tensors)
  }
}
