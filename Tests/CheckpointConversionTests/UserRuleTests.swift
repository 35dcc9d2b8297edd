import CheckpointConversion
import CheckpointCore
import CheckpointEngine
import CheckpointKit
import CheckpointTestSupport
import XCTest

/// `--map rules.json`: regex renames and transforms applied with the built-in rules.
final class UserRuleTests: XCTestCase {
  func testSourceRulesMakeCustomNamesRecognisable() throws {
    // A custom module stores the GRU as rnn.W{ih,hh}{layer}{direction} with Keras-style [in, out] kernels.
    let torch = try ConversionFixtures.model("gru_pytorch.safetensors")
    let custom = try Checkpoint(
      format: "memory",
      tensors: try torch.tensors.map { tensor in
        let name = tensor.name.replacingOccurrences(of: "_reverse", with: "r")
          .replacingOccurrences(of: "_l", with: "")
        guard tensor.name.hasPrefix("weight") else { return tensor.renamed("rnn." + name) }
        let transposed = try LayoutConverter.convert(
          try Checkpoint(format: "memory", tensors: [tensor.renamed("x.weight")]), from: .pytorch, to: .keras
        ).tensors[0]
        return transposed.renamed("rnn.K" + name)
      })
    let rules = try UserRule.parse(
      Array(
        #"""
        {"rules": [
          {"match": "rnn\\.Kweight_(ih|hh)(\\d)", "rename": "rnn.weight_$1_l$2", "transform": ["transpose"]},
          {"match": "rnn\\.Kweight_(ih|hh)(\\d)r", "rename": "rnn.weight_$1_l$2_reverse", "transform": ["transpose"]},
          {"match": "rnn\\.bias_(ih|hh)(\\d)", "rename": "rnn.bias_$1_l$2"},
          {"match": "rnn\\.bias_(ih|hh)(\\d)r", "rename": "rnn.bias_$1_l$2_reverse"},
          {"stage": "target", "match": "rnn\\.(.*)", "rename": "gru.$1"}
        ]}
        """#.utf8))
    XCTAssertEqual(rules.count, 5)
    let converted = try LayoutConverter.convert(
      custom, from: nil, to: .pytorch, options: ConversionOptions(rules: rules))
    let expected = try Checkpoint(
      format: "memory", tensors: torch.tensors.map { $0.renamed("gru." + $0.name) })
    try ConversionFixtures.assertBitExact(converted, expected, "custom names")
  }

  func testRulesFileErrorsNameTheRule() {
    for (text, message) in [
      (#"{"rules": [{"rename": "x"}]}"#, "rule 0: 'match'"),
      (#"{"rules": [{"match": "(", "rename": "x"}]}"#, "not a valid regex"),
      (#"{"rules": [{"match": "a"}, {"match": "b", "transform": ["flip"]}]}"#, "rule 1: a transform step"),
      (#"{"rules": [{"match": "a", "colour": 1}]}"#, "unknown member 'colour'"),
      (#"{"rules": [{"match": "a", "stage": "later"}]}"#, "'stage'"),
      (#"[]"#, "{\"rules\": [...]}"),
    ] {
      XCTAssertThrowsError(try UserRule.parse(Array(text.utf8), file: "rules.json")) { error in
        XCTAssertTrue("\(error)".contains(message), "\(error)")
      }
    }
  }

  func testTransformSteps() throws {
    let rules = try UserRule.parse(
      Array(
        #"{"rules": [{"match": "w", "rename": "v.weight", "transform": [{"reshape": [2, 3]}, "transpose"]}]}"#
          .utf8))
    XCTAssertEqual(rules[0].steps, [.reshape([2, 3]), .transpose])
    let bytes = (0..<6).flatMap { i -> [UInt8] in
      withUnsafeBytes(of: Float(i).bitPattern.littleEndian) { Array($0) }
    }
    let tensor = try Tensor(name: "w", dtype: .f32, shape: [6], bytes: TensorBytes(bytes))
    let converted = try LayoutConverter.convert(
      try Checkpoint(format: "memory", tensors: [tensor]), from: .pytorch, to: .pytorch,
      options: ConversionOptions(rules: rules))
    let linear = try XCTUnwrap(converted["v.weight"])
    XCTAssertEqual(linear.shape, [3, 2])
    XCTAssertEqual(try ConversionFixtures.floats(linear), [0, 3, 1, 4, 2, 5])
  }
}
