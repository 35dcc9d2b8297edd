import CheckpointCore
import CheckpointEngine
import CheckpointKit
import CheckpointModels
import CheckpointStorage
import CheckpointTestSupport
import XCTest

/// Wrong inputs give typed errors with clear messages.
final class ModelErrorTests: XCTestCase {
  private func checkpoint(_ name: String) throws -> Checkpoint {
    _ = try EngineFixtures.load(name)
    return try FormatRegistry.read(path: TestFixtures.path("engine/\(name).safetensors"))
  }

  private func floats(_ name: String, _ shape: [Int], _ values: [Float]? = nil) throws -> Tensor {
    let count = shape.reduce(1, *)
    let data = values ?? (0..<count).map { Float($0 % 7) * 0.1 }
    return try Tensor(
      name: name, dtype: .f32, shape: shape,
      bytes: TensorBytes(data.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }))
  }

  private func ints(_ name: String, _ shape: [Int], _ values: [Int64]) throws -> Tensor {
    try Tensor(
      name: name, dtype: .i64, shape: shape,
      bytes: TensorBytes(values.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) }))
  }

  private func assertError(
    _ kind: CheckpointError.Kind, containing text: String, file: StaticString = #filePath, line: UInt = #line,
    _ body: () throws -> Void
  ) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
      guard let error = error as? CheckpointError else {
        return XCTFail("not a CheckpointError: \(error)", file: file, line: line)
      }
      XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
      XCTAssertTrue(
        "\(error)".contains(text), "'\(error)' does not contain '\(text)'", file: file, line: line)
    }
  }

  func testUnknownArchitecture() {
    assertError(.invalidArgument, containing: "unknown architecture 'mamba' (known: lstm, gru") {
      _ = try Architecture(parsing: "mamba")
    }
  }

  func testInputShapeMismatch() throws {
    let model = try Model(try checkpoint("lstm_pytorch"), architecture: .lstm)
    assertError(
      .invalidShape,
      containing: "input 'x': expected shape [B, T, 6] (batch-first, B and T ≥ 1), got [2, 5, 7]"
    ) {
      _ = try model.run(try Checkpoint(tensors: [try self.floats("x", [2, 5, 7])]))
    }
    assertError(.invalidShape, containing: "input 'x': expected shape [B, T, 6]") {
      _ = try model.run(try Checkpoint(tensors: [try self.floats("x", [5, 6])]))
    }
  }

  func testMaskShapeMismatch() throws {
    let model = try Model(
      try checkpoint("encoder_post_relu_pytorch"), architecture: .transformerEncoder,
      options: .init(heads: 2, activation: .relu, normFirst: false, eps: 1e-5)
    )
    assertError(.invalidShape, containing: "input 'mask': shape [2, 5] does not match x's [B, S] = [2, 6]") {
      _ = try model.run(
        try Checkpoint(tensors: [
          try self.floats("x", [2, 6, 8]), try self.ints("mask", [2, 5], Array(repeating: 1, count: 10)),
        ]))
    }
  }

  func testMissingAndUnexpectedInputs() throws {
    let model = try Model(
      try checkpoint("transformer_pytorch"), architecture: .transformer,
      options: .init(heads: 2, activation: .relu, normFirst: false, eps: 1e-5))
    assertError(.notFound, containing: "missing input 'tgt' (transformer takes src, tgt; found src)") {
      _ = try model.run(try Checkpoint(tensors: [try self.floats("src", [1, 3, 8])]))
    }
    assertError(.invalidArgument, containing: "unexpected input 'x' (transformer takes src, tgt)") {
      _ = try model.run(try Checkpoint(tensors: [try self.floats("x", [1, 3, 8])]))
    }
  }

  func testTokenOutsideVocabulary() throws {
    let model = try Model(try checkpoint("seq2seq_lstm_pytorch"), architecture: .seq2seqLSTM)
    assertError(
      .invalidShape, containing: "input 'src': token 11 at position 1 is outside the vocabulary 0..<11"
    ) {
      _ = try model.run(
        try Checkpoint(tensors: [try self.ints("src", [1, 2], [3, 11]), try self.ints("tgt", [1, 1], [0])]))
    }
    assertError(.invalidShape, containing: "input 'src': expected integer token ids, got F32") {
      _ = try model.run(
        try Checkpoint(tensors: [try self.floats("src", [1, 2]), try self.ints("tgt", [1, 1], [0])]))
    }
  }

  func testMissingModule() throws {
    assertError(.notFound, containing: "no Transformer encoder layers found") {
      _ = try Model(try self.checkpoint("lstm_pytorch"), architecture: .transformerEncoder)
    }
    assertError(.notFound, containing: "no GRU module found (found LSTM '')") {
      _ = try Model(try self.checkpoint("lstm_pytorch"), architecture: .gru)
    }
    assertError(.notFound, containing: "no Transformer decoder layers found") {
      _ = try Model(
        try self.checkpoint("encoder_post_relu_pytorch"), architecture: .transformer,
        options: .init(heads: 2, activation: .relu, normFirst: false, eps: 1e-5)
      )
    }
    assertError(.notFound, containing: "seq2seq-lstm needs two LSTMs (encoder and decoder); found 1") {
      _ = try Model(try self.checkpoint("lstm_pytorch"), architecture: .seq2seqLSTM)
    }
    // A layer's tensor removed: the error names the module and the tensor.
    var broken = try checkpoint("transformer_pytorch")
    broken.tensors.removeAll { $0.name == "decoder.layers.1.norm2.weight" }
    assertError(
      .notFound,
      containing: "decoder layer 'decoder.layers.1.': missing tensor 'decoder.layers.1.norm2.weight'"
    ) {
      _ = try Model(
        broken, architecture: .transformer,
        options: .init(heads: 2, activation: .relu, normFirst: false, eps: 1e-5))
    }
  }

  func testWeightShapeMismatch() throws {
    var broken = try checkpoint("lstm_pytorch")
    let index = try XCTUnwrap(broken.tensors.firstIndex { $0.name == "weight_ih_l1" })
    broken.tensors[index] = try floats("weight_ih_l1", [16, 7])
    assertError(
      .invalidShape,
      containing:
        "tensor 'weight_ih_l1': LSTM '<root>' layer 1: shape [16, 7] takes 7 input features, expected 8"
    ) {
      _ = try Model(broken, architecture: .lstm)
    }
  }

  func testEmptyWeightIsRefused() throws {
    var broken = try checkpoint("gru_pytorch")
    for name in ["weight_hh_l0", "weight_ih_l0"] {
      let index = try XCTUnwrap(broken.tensors.firstIndex { $0.name == name })
      broken.tensors[index] = try floats(name, [0, name == "weight_hh_l0" ? 0 : 6])
    }
    assertError(.invalidShape, containing: "empty weight of shape [0, 6]") {
      _ = try Model(broken, architecture: .gru)
    }
  }

  func testHeadsNotDividingEmbedding() throws {
    assertError(.invalidArgument, containing: "3 heads do not divide the attention width 8") {
      _ = try Model(
        try self.checkpoint("encoder_post_relu_pytorch"), architecture: .transformerEncoder,
        options: .init(heads: 3, activation: .relu, normFirst: false, eps: 1e-5))
    }
  }

  func testHeadsContradictingKerasKernel() throws {
    let path = TestFixtures.path("engine/encoder_post_relu_keras3.weights.h5")
    assertError(.invalidArgument, containing: "--heads 4 contradicts the query kernel's 2 heads") {
      _ = try Model(
        try FormatRegistry.read(path: path), architecture: .transformerEncoder,
        options: .init(heads: 4, activation: .relu, normFirst: false, eps: 1e-5))
    }
  }
}
