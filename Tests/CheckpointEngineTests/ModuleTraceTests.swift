import CheckpointCore
import CheckpointEngine
import CheckpointKit
import CheckpointModels
import CheckpointStorage
import CheckpointTestSupport
import XCTest

/// Traced forward passes, canonical module names and replaying modules on recorded inputs.
final class ModuleTraceTests: XCTestCase {
  func testTraceMatchesModulesAndReplaysExactly() throws {
    for name in try EngineFixtures.all() {
      let fixture = try EngineFixtures.load(name)
      guard let path = fixture.models.first else { return XCTFail("no model for \(name)") }
      let checkpoint = try FormatRegistry.read(path: path)
      let model = try Model(
        checkpoint, architecture: try Architecture(parsing: fixture.arch), options: fixture.options)
      let trace = ModuleTrace()
      let traced = try model.run(try FormatRegistry.read(path: fixture.inputs), trace: trace)
      // The trace names every module once, in the order `modules` lists them.
      XCTAssertEqual(trace.records.map(\.name), model.modules.map(\.name), name)
      // Tracing does not change the outputs.
      EngineFixtures.assertSame(
        traced, try model.run(try FormatRegistry.read(path: fixture.inputs)), label: name)
      // Every module replayed on its recorded inputs returns its recorded outputs, bit for bit.
      for record in trace.records {
        XCTAssertEqual(try model.runModule(record), record.outputs, "\(name): \(record.name)")
      }
      // Every tensor of a recurrent or Transformer model belongs to a located module.
      let located = ModuleLocator.modules(of: checkpoint, architecture: model.architecture)
      let names = Set(model.modules.map(\.name))
      XCTAssertTrue(located.values.allSatisfy { names.contains($0) }, name)
      XCTAssertTrue(Set(located.keys).isSubset(of: checkpoint.tensors.map(\.name)), name)
      // (HF files also hold embeddings, which the engine does not run.)
      if model.architecture != .seq2seqLSTM, !fixture.layout.hasPrefix("hf") {
        XCTAssertEqual(Set(located.keys), Set(checkpoint.tensors.map(\.name)), name)
      }
    }
  }

  func testCanonicalNames() throws {
    let lstm = try Model(
      try FormatRegistry.read(path: TestFixtures.path("engine/lstm_keras2.h5")), architecture: .lstm)
    XCTAssertEqual(lstm.modules.map(\.name), ["lstm.l0", "lstm.l1"])
    let encoder = try Model(
      try FormatRegistry.read(path: TestFixtures.path("engine/encoder_pre_gelu_keras3.weights.h5")),
      architecture: .transformerEncoder, options: ModelSettings(activation: .gelu, normFirst: true, eps: 1e-6)
    )
    XCTAssertEqual(
      Array(encoder.modules.map(\.name).prefix(5)),
      [
        "encoder.layers.0.norm1", "encoder.layers.0.self_attn", "encoder.layers.0.norm2",
        "encoder.layers.0.feed_forward", "encoder.layers.0",
      ])
    XCTAssertEqual(encoder.modules[1].settings, "heads 2")
    XCTAssertEqual(encoder.modules[1].parent, "encoder.layers.0")
  }

  func testReplayRejectsInputsThatDoNotFit() throws {
    let model = try Model(
      try FormatRegistry.read(path: TestFixtures.path("engine/gru_pytorch.safetensors")), architecture: .gru)
    let record = ModuleRecord(name: "gru.l0", inputs: [Matrix(zeros: [1, 2, 5])])
    XCTAssertThrowsError(try model.runModule(record)) { error in
      XCTAssertEqual((error as? CheckpointError)?.kind, .invalidShape)
    }
    XCTAssertThrowsError(try model.runModule(ModuleRecord(name: "gru.l7", inputs: []))) { error in
      XCTAssertEqual((error as? CheckpointError)?.kind, .notFound)
    }
  }
}
