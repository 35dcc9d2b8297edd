import CheckpointCore

extension Model {
  /// Runs a forward pass on `inputs` (named as ``Architecture/inputs``, batch-first) and
  /// returns the outputs named as ``Architecture/outputs``, all float32.
  ///
  /// - Throws: ``CheckpointError`` `.notFound` for a missing input, `.invalidShape` for
  ///   an input of the wrong rank, size or type, `.invalidArgument` for an unexpected input.
  public func run(_ inputs: Checkpoint) throws -> Checkpoint {
    let expected = architecture.inputs
    for tensor in inputs.tensors where !expected.contains(where: { $0.name == tensor.name }) {
      throw CheckpointError(
        .invalidArgument,
        "unexpected input '\(tensor.name)' (\(architecture.rawValue) takes \(expected.map(\.name).joined(separator: ", ")))"
      )
    }
    for input in expected where input.required && inputs[input.name] == nil {
      throw CheckpointError(
        .notFound,
        "missing input '\(input.name)' (\(architecture.rawValue) takes \(expected.map(\.name).joined(separator: ", ")); "
          + "found \(inputs.tensors.isEmpty ? "none" : inputs.tensors.map(\.name).joined(separator: ", ")))")
    }
    var outputs: [(String, Matrix)] = []
    switch body {
    case .lstm(let lstm):
      let x = try Model.sequence(inputs, "x", features: lstm.inputSize)
      let result = lstm.forward(x)
      outputs = [("y", result.y), ("h_n", result.hN), ("c_n", result.cN)]
    case .gru(let gru):
      let x = try Model.sequence(inputs, "x", features: gru.inputSize)
      let result = gru.forward(x)
      outputs = [("y", result.y), ("h_n", result.hN)]
    case .encoder(let encoder):
      let x = try Model.sequence(inputs, "x", features: encoder.embed)
      var keep: [Bool]?
      if let mask = inputs["mask"] {
        let expectedShape = Array(x.shape.prefix(2))
        guard mask.shape == expectedShape else {
          throw EngineError.invalidInput(
            "mask",
            "shape \(Shape.describe(mask.shape)) does not match x's [B, S] = \(Shape.describe(expectedShape))"
          )
        }
        keep = try TensorValues.floats(mask).map { $0 != 0 }
      }
      outputs = [("y", encoder.callAsFunction(x, keep: keep))]
    case .transformer(let encoder, let decoder):
      let src = try Model.sequence(inputs, "src", features: encoder.embed)
      let tgt = try Model.sequence(inputs, "tgt", features: decoder.embed)
      guard src.shape[0] == tgt.shape[0] else {
        throw EngineError.invalidInput("tgt", "batch \(tgt.shape[0]) differs from src's \(src.shape[0])")
      }
      outputs = [("out", decoder.callAsFunction(tgt, memory: encoder.callAsFunction(src, keep: nil)))]
    case .seq2seq(let model):
      let (src, srcShape) = try Model.tokens(inputs, "src")
      let (tgt, tgtShape) = try Model.tokens(inputs, "tgt")
      guard srcShape[0] == tgtShape[0] else {
        throw EngineError.invalidInput("tgt", "batch \(tgtShape[0]) differs from src's \(srcShape[0])")
      }
      outputs = [
        ("logits", try model.forward(source: src, sourceShape: srcShape, target: tgt, targetShape: tgtShape))
      ]
    }
    return try Checkpoint(format: "memory", tensors: outputs.map { try TensorValues.tensor($0.0, $0.1) })
  }

  /// A float input `[B, T, features]`.
  private static func sequence(_ inputs: Checkpoint, _ name: String, features: Int) throws -> Matrix {
    guard let tensor = inputs[name] else { throw CheckpointError(.notFound, "missing input '\(name)'") }
    let shape = tensor.shape
    guard shape.count == 3, shape[0] > 0, shape[1] > 0, shape[2] == features else {
      throw EngineError.invalidInput(
        name, "expected shape [B, T, \(features)] (batch-first, B and T ≥ 1), got \(Shape.describe(shape))")
    }
    guard [DType.f32, .f64, .f16, .bf16].contains(tensor.dtype) else {
      throw EngineError.invalidInput(name, "expected floating-point values, got \(tensor.dtype)")
    }
    return Matrix(shape: shape, values: try TensorValues.floats(tensor))
  }

  /// An integer token input `[B, T]`.
  private static func tokens(_ inputs: Checkpoint, _ name: String) throws -> ([Int], [Int]) {
    guard let tensor = inputs[name] else { throw CheckpointError(.notFound, "missing input '\(name)'") }
    guard tensor.shape.count == 2, tensor.shape[0] > 0, tensor.shape[1] > 0 else {
      throw EngineError.invalidInput(
        name, "expected token ids of shape [B, T], got \(Shape.describe(tensor.shape))")
    }
    guard !tensor.dtype.isFloatingPoint else {
      throw EngineError.invalidInput(name, "expected integer token ids, got \(tensor.dtype)")
    }
    return (try TensorValues.ints(tensor), tensor.shape)
  }
}
