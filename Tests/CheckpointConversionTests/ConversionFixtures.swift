import CheckpointConversion
import CheckpointCore
import CheckpointEngine
import CheckpointKit
import CheckpointModels
import CheckpointTestSupport
import XCTest

/// Conversions checked against the engine fixtures (Fixtures/engine): a model saved by a real
/// framework, its inputs and the framework's outputs.
enum ConversionFixtures {
  /// The largest absolute error allowed against the framework's outputs.
  static let tolerance: Float = 1e-5

  /// Reads `engine/NAME.EXT`.
  static func model(_ file: String) throws -> Checkpoint {
    try FormatRegistry.read(path: TestFixtures.path("engine/\(file)"))
  }

  /// Converts `file` to `layout`, writes it to `fileName` in a scratch folder (so the target
  /// format's writer accepts the names), reads it back and runs it as `architecture` on the
  /// fixture's inputs; returns the largest error against the framework's outputs.
  static func convertedError(
    _ file: String, to layout: CheckpointConversion.Layout, writing fileName: String,
    architecture: Architecture,
    options: ConversionOptions = ConversionOptions(), engine: ModelSettings = ModelSettings(),
    line: UInt = #line
  ) throws -> Float {
    let stem = file.components(separatedBy: ".")[0]
    // The settings the fixture's file cannot record are given to the conversion, which records
    // them where the target format holds metadata; Keras 3 weights files hold none, so there
    // the engine is given them.
    let fixture = try TestFixtures.engineFixtureSettings(stem)
    var options = options
    options.settings.activation = options.settings.activation ?? fixture.activation
    options.settings.normFirst = options.settings.normFirst ?? fixture.normFirst
    options.settings.eps = options.settings.eps ?? fixture.eps
    options.settings.heads = options.settings.heads ?? fixture.heads
    var engine = engine
    if layout == .keras3 {
      engine.activation = engine.activation ?? fixture.activation
      engine.normFirst = engine.normFirst ?? fixture.normFirst
      engine.eps = engine.eps ?? fixture.eps
    }
    let converted = try LayoutConverter.convert(try model(file), from: nil, to: layout, options: options)
    return try TestFixtures.withTemporaryFolder { folder in
      let path = folder + "/" + fileName
      try FormatRegistry.write(converted, to: path)
      let written = try FormatRegistry.read(path: path)
      let model = try Model(written, architecture: architecture, options: engine)
      let inputs = try FormatRegistry.read(path: TestFixtures.path("engine/\(stem).inputs.npz"))
      let expected = try FormatRegistry.read(path: TestFixtures.path("engine/\(stem).outputs.npz"))
      let outputs = try model.run(inputs)
      var worst: Float = 0
      for want in expected.tensors {
        guard let got = outputs[want.name] else {
          XCTFail("\(file) → \(layout): missing output \(want.name)", line: line)
          continue
        }
        XCTAssertEqual(got.shape, want.shape, "\(file) → \(layout): \(want.name)", line: line)
        for (a, b) in zip(try floats(got), try floats(want)) { worst = max(worst, abs(a - b)) }
      }
      print("layout \(file) → \(layout.rawValue) (\(fileName)): max abs error \(worst)")
      return worst
    }
  }

  /// The float32 values of a tensor.
  static func floats(_ tensor: Tensor) throws -> [Float] {
    let bytes = try tensor.load()
    switch tensor.dtype {
    case .f32:
      return bytes.withUnsafeBytes { raw in
        (0..<(tensor.byteCount / 4)).map {
          Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
        }
      }
    default:
      XCTFail("\(tensor.name): expected F32, found \(tensor.dtype)")
      return []
    }
  }

  /// Asserts that two checkpoints hold the same tensor values (dtype, shape, bytes) as multisets,
  /// ignoring names: Keras layer names are numbered by class and order, not kept.
  static func assertSameValues(_ a: Checkpoint, _ b: Checkpoint, _ label: String, line: UInt = #line) throws {
    func keys(_ checkpoint: Checkpoint) throws -> [String] {
      try checkpoint.tensors.map { "\($0.dtype) \($0.shape) \(try $0.load().array)" }.sorted()
    }
    XCTAssertEqual(a.tensors.count, b.tensors.count, label, line: line)
    XCTAssertTrue(try keys(a) == keys(b), "\(label): values differ", line: line)
  }

  /// Asserts that two checkpoints hold the same tensors (names, dtypes, shapes, bytes), in any order.
  static func assertBitExact(_ a: Checkpoint, _ b: Checkpoint, _ label: String, line: UInt = #line) throws {
    XCTAssertEqual(a.tensors.map(\.name).sorted(), b.tensors.map(\.name).sorted(), label, line: line)
    for tensor in a.tensors {
      guard let other = b[tensor.name] else { continue }
      XCTAssertEqual(tensor.dtype, other.dtype, "\(label): \(tensor.name)", line: line)
      XCTAssertEqual(tensor.shape, other.shape, "\(label): \(tensor.name)", line: line)
      XCTAssertEqual(try tensor.load(), try other.load(), "\(label): \(tensor.name) bytes", line: line)
    }
  }
}
