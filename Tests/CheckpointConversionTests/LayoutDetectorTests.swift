import CheckpointConversion
import XCTest

final class LayoutDetectorTests: XCTestCase {
  func testDetectsEachLayoutFromRealNames() {
    XCTAssertEqual(
      LayoutDetector.detect(names: ["layers/lstm/cell/vars/0", "layers/dense/vars/1"]).layout, .keras3)
    XCTAssertEqual(LayoutDetector.detect(names: ["lstm/lstm/lstm_cell/kernel:0"]).layout, .keras)
    XCTAssertEqual(
      LayoutDetector.detect(names: ["encoder.layer.0.attention.self.query.weight"]).layout, .hf)
    XCTAssertEqual(
      LayoutDetector.detect(names: ["rnn.weight_ih_l0", "rnn.bias_hh_l0"]).layout, .pytorch)
    XCTAssertEqual(LayoutDetector.detect(names: ["fc.weight"]).layout, .pytorch)
    let unknown = LayoutDetector.detect(names: ["a", "b"])
    XCTAssertEqual(unknown.layout, .unknown)
    XCTAssertEqual(unknown.evidence, [])
  }

  func testEvidenceNamesTheTensor() {
    let detection = LayoutDetector.detect(names: ["x", "rnn.weight_ih_l0"])
    XCTAssertEqual(detection.evidence, ["rnn.weight_ih_l0 (PyTorch module parameter name)"])
  }
}
