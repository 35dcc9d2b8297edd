import CheckpointCore
import CheckpointEngine
import CheckpointKit
import CheckpointTestSupport
import Foundation
import XCTest

/// Engine fixtures (Fixtures/engine) and the seeded faults injected into them.
enum Faults {
  /// Reads `Fixtures/engine/<file>`.
  ///
  /// A Transformer fixture gets the settings its file cannot record (activation, norm placement,
  /// eps: its `ckpt run` flags) as metadata under `settings`, as a file `ckpt` converted would
  /// carry them; heads stay with the options, so the tests decide them. A fault's own `config`
  /// metadata sorts first and so wins.
  static func fixture(_ file: String) throws -> Checkpoint {
    let checkpoint = try FormatRegistry.read(path: TestFixtures.path("engine/\(file)"))
    let stem = file.components(separatedBy: ".")[0]
    guard !file.hasSuffix(".npz"),
      FileManager.default.fileExists(atPath: TestFixtures.path("engine/\(stem).json"))
    else { return checkpoint }
    let settings = try TestFixtures.engineFixtureSettings(stem)
    var members: [(String, JSONValue)] = []
    if let activation = settings.activation { members.append(("activation", .string(activation.rawValue))) }
    if let normFirst = settings.normFirst { members.append(("norm_first", .bool(normFirst))) }
    if let eps = settings.eps { members.append(("layer_norm_eps", .double(Double(eps)))) }
    guard !members.isEmpty else { return checkpoint }
    return try withMetadata(checkpoint, ["settings": JSONValue.object(members).compactText])
  }

  /// The float32 values and shape of `name`.
  static func values(_ checkpoint: Checkpoint, _ name: String) throws -> (values: [Float], shape: [Int]) {
    guard let tensor = checkpoint[name] else {
      throw CheckpointError(.notFound, "no tensor '\(name)'")
    }
    return (try TensorValues.floats(tensor), tensor.shape)
  }

  /// `checkpoint` with `name` replaced by `values` of `shape` (float32), metadata kept.
  static func replacing(_ checkpoint: Checkpoint, _ name: String, _ values: [Float], shape: [Int]) throws
    -> Checkpoint
  {
    let tensors = try checkpoint.tensors.map { tensor -> Tensor in
      tensor.name == name ? try TensorValues.tensor(name, Matrix(shape: shape, values: values)) : tensor
    }
    return try Checkpoint(format: "memory", tensors: tensors, metadata: checkpoint.metadata)
  }

  /// `checkpoint` with `name` transformed by `change` (values, shape → values, shape).
  static func editing(
    _ checkpoint: Checkpoint, _ name: String, _ change: ([Float], [Int]) -> ([Float], [Int])
  ) throws -> Checkpoint {
    let (values, shape) = try Faults.values(checkpoint, name)
    let (newValues, newShape) = change(values, shape)
    return try replacing(checkpoint, name, newValues, shape: newShape)
  }

  /// Swaps row blocks `i` and `j` (each `rows` rows) of a row-major array with `columns` columns.
  static func swapBlocks(_ values: [Float], rows: Int, columns: Int, _ i: Int, _ j: Int) -> [Float] {
    var result = values
    for r in 0..<(rows * columns) {
      result[i * rows * columns + r] = values[j * rows * columns + r]
      result[j * rows * columns + r] = values[i * rows * columns + r]
    }
    return result
  }

  /// A matrix `[rows, columns]` transposed to `[columns, rows]`.
  static func transposed(_ values: [Float], _ shape: [Int]) -> [Float] {
    let (rows, columns) = (shape[0], shape[1])
    var result = values
    for r in 0..<rows {
      for c in 0..<columns { result[c * rows + r] = values[r * columns + c] }
    }
    return result
  }

  /// `checkpoint` without the tensors `drop` accepts.
  static func removing(_ checkpoint: Checkpoint, where drop: (String) -> Bool) throws -> Checkpoint {
    try Checkpoint(
      format: "memory", tensors: checkpoint.tensors.filter { !drop($0.name) }, metadata: checkpoint.metadata)
  }

  /// `checkpoint` with names mapped by `rename`.
  static func renaming(_ checkpoint: Checkpoint, _ rename: (String) -> String) throws -> Checkpoint {
    try Checkpoint(
      format: "memory",
      tensors: checkpoint.tensors.map { tensor -> Tensor in
        var copy = tensor
        copy.name = rename(tensor.name)
        return copy
      }, metadata: checkpoint.metadata)
  }

  /// `checkpoint` with extra metadata.
  static func withMetadata(_ checkpoint: Checkpoint, _ metadata: [String: String]) throws -> Checkpoint {
    try Checkpoint(
      format: "memory", tensors: checkpoint.tensors,
      metadata: checkpoint.metadata.merging(metadata) { _, new in new })
  }

  /// The PyTorch 2-layer bidirectional LSTM of `lstm_pytorch` renamed and transposed into
  /// Keras 3 `Bidirectional(LSTM)` layers (kernels `[in, 4H]`, one bias `b_ih + b_hh`; both
  /// frameworks order the gates i, f, g, o): the same function in another layout.
  static func kerasLSTM(fromPyTorch torch: Checkpoint, layers: Int) throws -> Checkpoint {
    var tensors: [Tensor] = []
    for layer in 0..<layers {
      let wrapper = layer == 0 ? "bidirectional" : "bidirectional_\(layer)"
      for (direction, suffix) in [("forward_layer", ""), ("backward_layer", "_reverse")] {
        let prefix = "layers/\(wrapper)/\(direction)/cell/vars/"
        let ih = try values(torch, "weight_ih_l\(layer)\(suffix)")
        let hh = try values(torch, "weight_hh_l\(layer)\(suffix)")
        let bi = try values(torch, "bias_ih_l\(layer)\(suffix)")
        let bh = try values(torch, "bias_hh_l\(layer)\(suffix)")
        tensors.append(
          try TensorValues.tensor(
            prefix + "0", Matrix(shape: [ih.shape[1], ih.shape[0]], values: transposed(ih.values, ih.shape))))
        tensors.append(
          try TensorValues.tensor(
            prefix + "1", Matrix(shape: [hh.shape[1], hh.shape[0]], values: transposed(hh.values, hh.shape))))
        tensors.append(
          try TensorValues.tensor(
            prefix + "2", Matrix(shape: bi.shape, values: zip(bi.values, bh.values).map { $0 + $1 })))
      }
    }
    return try Checkpoint(format: "memory", tensors: tensors)
  }
}
