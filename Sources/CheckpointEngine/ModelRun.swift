import CheckpointCore
import CheckpointModels

extension Model {
  /// Runs a forward pass on `inputs` (named as `Architecture/inputs`, batch-first) and
  /// returns the outputs named as `Architecture/outputs`, all float32.
  ///
  /// - Throws: `CheckpointError` `.notFound` for a missing input, `.invalidShape` for
  ///   an input of the wrong rank, size or type, `.invalidArgument` for an unexpected input.
  public func run(_ inputs: Checkpoint) throws -> Checkpoint {
    try run(inputs, trace: nil)
  }

  /// Runs a forward pass as ``run(_:)`` does and, with a `trace`, records every module's
  /// inputs and outputs under its canonical name (see ``ModuleDescriptor``).
  public func run(_ inputs: Checkpoint, trace: ModuleTrace?) throws -> Checkpoint {
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
    // Graph inputs: token ids for embeddings, else float sequences of the consumer's width.
    var values: [String: Matrix] = [:]
    var tokens: [String: (ids: [Int], shape: [Int])] = [:]
    for port in graph.inputs where port.name != "mask" {
      guard let consumer = steps.first(where: { $0.node.inputs.contains(port.name) }) else { continue }
      if case .embedding = consumer.kernel {
        tokens[port.name] = try Model.tokens(inputs, port.name)
      } else {
        values[port.name] = try Model.sequence(inputs, port.name, features: consumer.inputWidth)
      }
    }
    if let first = graph.inputs.first?.name, let batch = values[first]?.shape[0] ?? tokens[first]?.shape[0] {
      for port in graph.inputs.dropFirst() {
        if let other = values[port.name]?.shape[0] ?? tokens[port.name]?.shape[0], other != batch {
          throw ModelError.invalidInput(port.name, "batch \(other) differs from \(first)'s \(batch)")
        }
      }
    }
    var keep: [Bool]?
    if let mask = inputs["mask"], graph.inputs.contains(where: { $0.name == "mask" }), let x = values["x"] {
      let expectedShape = Array(x.shape.prefix(2))
      guard mask.shape == expectedShape else {
        throw ModelError.invalidInput(
          "mask",
          "shape \(Shape.describe(mask.shape)) does not match x's [B, S] = \(Shape.describe(expectedShape))")
      }
      keep = try TensorValues.floats(mask).map { $0 != 0 }
    }
    for step in steps {
      let node = step.node
      func value(_ index: Int) throws -> Matrix {
        guard index < node.inputs.count, let value = values[node.inputs[index]] else {
          throw Model.unwired(
            node.inputs.indices.contains(index) ? node.inputs[index] : "input \(index)", node.name)
        }
        return value
      }
      var results: [Matrix]
      switch step.kernel {
      case .lstm(let lstm):
        let states = node.inputs.count == 3
        let result = lstm.forward(
          try value(0), h0: states ? try value(1) : nil, c0: states ? try value(2) : nil, trace: trace,
          name: node.name)
        results = [result.y, result.hN, result.cN]
      case .gru(let gru):
        let result = gru.forward(try value(0), trace: trace, name: node.name)
        results = [result.y, result.hN]
      case .encoderLayer(let layer):
        results = [layer(try value(0), keep: keep, trace: trace, name: node.name)]
      case .decoderLayer(let layer):
        results = [layer(try value(0), memory: try value(1), trace: trace, name: node.name)]
      case .norm(let norm):
        results = [Model.applyingFinalNorm(norm, to: try value(0), trace: trace, name: node.name)]
      case .embedding(let embedding):
        let input = node.inputs[0]
        guard let (ids, shape) = tokens[input] else {
          throw CheckpointError(.notFound, "missing input '\(input)'")
        }
        let embedded = try embedding.apply(ids, shape: shape, input: input)
        trace?.append(
          name: node.name, parent: nil, inputs: [Matrix(shape: shape, values: ids.map { Float($0) })],
          outputs: [embedded])
        results = [embedded]
      case .dense(let linear):
        let x = try value(0)
        let y = x.applying(linear)
        trace?.append(name: node.name, parent: nil, inputs: [x], outputs: [y])
        results = [y]
      }
      for (name, result) in zip(node.outputs, results) { values[name] = result }
    }
    let outputs = try graph.outputs.map { output -> (String, Matrix) in
      guard let value = values[output.value] else {
        throw Model.unwired(output.value, "output \(output.name)")
      }
      return (output.name, value)
    }
    return try Checkpoint(format: "memory", tensors: outputs.map { try TensorValues.tensor($0.0, $0.1) })
  }

  /// A graph value that no input or earlier node gives: a builder's mistake, never run around.
  static func unwired(_ value: String, _ reader: String) -> CheckpointError {
    CheckpointError(.invalidArgument, "model graph: '\(reader)' reads '\(value)', which nothing gives")
  }

  /// A float input `[B, T, features]`.
  private static func sequence(_ inputs: Checkpoint, _ name: String, features: Int) throws -> Matrix {
    guard let tensor = inputs[name] else { throw CheckpointError(.notFound, "missing input '\(name)'") }
    let shape = tensor.shape
    guard shape.count == 3, shape[0] > 0, shape[1] > 0, shape[2] == features else {
      throw ModelError.invalidInput(
        name, "expected shape [B, T, \(features)] (batch-first, B and T ≥ 1), got \(Shape.describe(shape))")
    }
    guard [DType.f32, .f64, .f16, .bf16].contains(tensor.dtype) else {
      throw ModelError.invalidInput(name, "expected floating-point values, got \(tensor.dtype)")
    }
    return Matrix(shape: shape, values: try TensorValues.floats(tensor))
  }

  /// An integer token input `[B, T]`.
  private static func tokens(_ inputs: Checkpoint, _ name: String) throws -> ([Int], [Int]) {
    guard let tensor = inputs[name] else { throw CheckpointError(.notFound, "missing input '\(name)'") }
    guard tensor.shape.count == 2, tensor.shape[0] > 0, tensor.shape[1] > 0 else {
      throw ModelError.invalidInput(
        name, "expected token ids of shape [B, T], got \(Shape.describe(tensor.shape))")
    }
    guard !tensor.dtype.isFloatingPoint else {
      throw ModelError.invalidInput(name, "expected integer token ids, got \(tensor.dtype)")
    }
    return (try TensorValues.ints(tensor), tensor.shape)
  }
}
