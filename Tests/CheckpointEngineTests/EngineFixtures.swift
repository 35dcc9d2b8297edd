import CheckpointCore
import CheckpointEngine
import CheckpointHDF5
import CheckpointModels
import CheckpointStorage
import CheckpointTestSupport
import XCTest

/// The engine fixtures (Fixtures/engine): models saved by the real frameworks with their
/// inputs and outputs, and the `ckpt run` arguments that reproduce them.
enum EngineFixtures {
  /// The largest absolute error allowed against the framework's outputs.
  static let tolerance: Float = 1e-5

  /// Model file endings, in the order tried.
  static let modelExtensions = [".safetensors", ".pt", ".weights.h5", ".h5"]

  /// One fixture's description (`NAME.json`).
  struct Case {
    var name: String
    var arch: String
    var layout: String
    var flags: [String]

    var inputs: String { TestFixtures.path("engine/\(name).inputs.npz") }
    var outputs: String { TestFixtures.path("engine/\(name).outputs.npz") }

    /// The model files saved for this fixture (a PyTorch model has .safetensors and maybe .pt).
    var models: [String] {
      EngineFixtures.modelExtensions.map { TestFixtures.path("engine/\(name)\($0)") }
        .filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// The options the flags ask for.
    var options: ModelSettings { TestFixtures.modelSettings(flags: flags) }
  }

  /// The fixture named `name`.
  static func load(_ name: String) throws -> Case {
    let text = try String(contentsOfFile: TestFixtures.path("engine/\(name).json"), encoding: .utf8)
    let json = try JSONValue.parse(Array(text.utf8))
    return Case(
      name: name, arch: json["arch"]?.stringValue ?? "", layout: json["layout"]?.stringValue ?? "",
      flags: json["flags"]?.arrayValue?.compactMap(\.stringValue) ?? [])
  }

  /// Every fixture name.
  static func all() throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: TestFixtures.path("engine"))
      .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
  }

  /// The float32 values of a tensor.
  static func floats(_ tensor: Tensor) throws -> [Float] {
    XCTAssertEqual(tensor.dtype, .f32, tensor.name)
    let bytes = try tensor.load()
    return bytes.withUnsafeBytes { raw in
      (0..<(tensor.byteCount / 4)).map {
        Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
      }
    }
  }

  /// Compares `actual` to the framework's `expected` outputs: same names and shapes, then the
  /// largest absolute error ≤ ``tolerance``; returns the largest error over all outputs.
  @discardableResult
  static func assertMatches(
    _ actual: Checkpoint, _ expected: Checkpoint, label: String, file: StaticString = #filePath,
    line: UInt = #line
  ) throws -> Float {
    XCTAssertEqual(
      actual.tensors.map(\.name).sorted(), expected.tensors.map(\.name).sorted(), label, file: file,
      line: line)
    var worst: Float = 0
    for want in expected.tensors {
      guard let got = actual[want.name] else { continue }
      XCTAssertEqual(got.shape, want.shape, "\(label): \(want.name) shape", file: file, line: line)
      guard got.shape == want.shape else { continue }
      let error = Matrix(shape: got.shape, values: try floats(got))
        .maxAbsDifference(to: Matrix(shape: want.shape, values: try floats(want)))
      XCTAssertLessThanOrEqual(
        error, tolerance, "\(label): \(want.name) max abs error", file: file, line: line)
      worst = max(worst, error)
    }
    return worst
  }

  /// Asserts two runs returned the same arrays, bit for bit.
  static func assertSame(
    _ actual: Checkpoint, _ expected: Checkpoint, label: String, file: StaticString = #filePath,
    line: UInt = #line
  ) {
    XCTAssertEqual(actual.tensors.map(\.name), expected.tensors.map(\.name), label, file: file, line: line)
    for want in expected.tensors {
      XCTAssertEqual(
        try actual[want.name]?.load(), try want.load(), "\(label): \(want.name)", file: file, line: line)
    }
  }
}

/// Asserts that `actual` and `expected` hold the same arrays bit for bit; a failure names the
/// array and the first value that differs (rather than printing every value).
func assertBitIdentical(
  _ actual: [Matrix], _ expected: [Matrix], _ label: String, file: StaticString = #filePath,
  line: UInt = #line
) {
  XCTAssertEqual(actual.count, expected.count, "\(label): array count", file: file, line: line)
  for (index, (a, b)) in zip(actual, expected).enumerated() {
    guard a.shape == b.shape else {
      XCTFail("\(label): array \(index) has shape \(a.shape), expected \(b.shape)", file: file, line: line)
      continue
    }
    if let at = a.values.indices.first(where: { a.values[$0].bitPattern != b.values[$0].bitPattern }) {
      let differing = a.values.indices.filter { a.values[$0].bitPattern != b.values[$0].bitPattern }.count
      XCTFail(
        "\(label): array \(index) differs at value \(at) (\(a.values[at]) vs \(b.values[at])), "
          + "\(differing) of \(a.count) values differ, max abs \(a.maxAbsDifference(to: b))",
        file: file, line: line)
    }
  }
}
