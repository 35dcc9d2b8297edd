import CheckpointConversion
import CheckpointCore
import CheckpointEngine
import CheckpointKit
import CheckpointModels
import CheckpointTestSupport
import CheckpointVerification
import XCTest

/// Every conversion the layout converter makes among the engine fixtures verifies.
final class ConversionVerifyTests: XCTestCase {
  /// The `ckpt run` flags of a fixture as engine options.
  private func engineOptions(_ flags: [String]) -> ModelSettings { TestFixtures.modelSettings(flags: flags) }

  func testEveryFixtureConversionVerifies() throws {
    let folder = TestFixtures.path("engine")
    let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }
      .sorted()
    let targets: [(CheckpointConversion.Layout, String)] = [
      (.pytorch, "safetensors"), (.keras, "h5"), (.keras3, "weights.h5"), (.hf, "safetensors"),
    ]
    var verified: [String] = []
    var refused: [String] = []
    var unassembled: [String] = []
    try TestFixtures.withTemporaryFolder { scratch in
      for name in names {
        let stem = String(name.dropLast(5))
        let json = try JSONValue.parse(
          Array(try String(contentsOfFile: folder + "/" + name, encoding: .utf8).utf8))
        let flags = json["flags"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let engine = engineOptions(flags)
        guard
          let file = [".safetensors", ".weights.h5", ".h5"].map({ stem + $0 })
            .first(where: { FileManager.default.fileExists(atPath: folder + "/" + $0) })
        else { return XCTFail("no model for \(stem)") }
        let source = try Faults.fixture(file)
        for (target, ext) in targets {
          let label = "\(file) → \(target.rawValue)"
          let converted: Checkpoint
          do {
            converted = try LayoutConverter.convert(
              source, from: nil, to: target, options: ConversionOptions(heads: engine.heads))
          } catch let error as CheckpointError {
            refused.append("\(label): \(error.message)")
            continue
          }
          let path = "\(scratch)/\(stem)-\(target.rawValue).\(ext)"
          do {
            try FormatRegistry.write(converted, to: path)
          } catch let error as CheckpointError {
            refused.append("\(label) (write): \(error.message)")
            continue
          }
          let report: ParityReport
          do {
            report = try ParityVerifier.verify(
              source, try FormatRegistry.read(path: path), options: ParityOptions(engine: engine))
          } catch let error as CheckpointError where error.message.hasPrefix("B: ") {
            unassembled.append("\(label): \(error.message)")
            continue
          }
          XCTAssertTrue(report.passed, "\(label)\n\(report.text)")
          XCTAssertGreaterThan(report.modules.count, 0, label)
          verified.append(
            "\(label) (B \(report.layoutB)): \(report.modules.count) modules, whole max abs "
              + "\(report.whole.statistics.map { String($0.maxAbsError) } ?? "-")")
        }
      }
    }
    print("verified conversions (\(verified.count)):\n  " + verified.joined(separator: "\n  "))
    print("refused conversions (\(refused.count)):\n  " + refused.joined(separator: "\n  "))
    print(
      "converted but not assembled by the engine (\(unassembled.count)):\n  "
        + unassembled.joined(separator: "\n  "))
    XCTAssertGreaterThanOrEqual(verified.count, 69)
    // Known: the converter names a 2-layer PyTorch seq2seq's Keras 3 layers lstm … lstm_3, without
    // the encoder/decoder hints the engine pairs them by, so B cannot be assembled.
    for entry in unassembled {
      XCTAssertTrue(entry.hasPrefix("seq2seq_lstm_pytorch.safetensors → keras3:"), entry)
    }
  }
}
