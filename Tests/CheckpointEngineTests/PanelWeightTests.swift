import XCTest

@testable import CheckpointEngine

/// Products through the panel-by-panel copy of a weight against the weight as stored.
final class PanelWeightTests: XCTestCase {
  func testPanelsGiveTheBlockedProductBitForBit() {
    let (inputs, outputs) = (300, 1_000)
    let w = (0..<(inputs * outputs)).map { Float(($0 * 5) % 11) / 11 - 0.5 }
    let weight = DenseWeight(values: w, inFeatures: inputs, outFeatures: outputs, layout: .inOut)
    for (rows, threads) in [(8, 1), (8, 2), (16, 3), (32, 1)] {
      guard let panels = PanelWeight(weight, rows: rows, threads: threads, steps: 64) else {
        return XCTFail("\(rows) rows: no panels")
      }
      defer { panels.free() }
      XCTAssertLessThan(panels.width, outputs)
      let x = (0..<(rows * inputs)).map { Float(($0 * 7) % 13) / 13 - 0.5 }
      var expected = [Float](repeating: 0.25, count: rows * (outputs + 3))
      var actual = expected
      x.withUnsafeBufferPointer { xb in
        expected.withUnsafeMutableBufferPointer { yb in
          weight.multiply(
            xb.baseAddress!, rows: rows, ldx: inputs, into: yb.baseAddress!, ldy: outputs + 3, beta: 1,
            threads: threads)
        }
        actual.withUnsafeMutableBufferPointer { yb in
          panels.multiply(
            xb.baseAddress!, rows: rows, ldx: inputs, into: yb.baseAddress!, ldy: outputs + 3, beta: 1,
            threads: threads)
        }
      }
      XCTAssertEqual(actual, expected, "\(rows) rows, \(threads) threads")
      var direct: Double = 0.25
      for k in 0..<inputs { direct += Double(x[k]) * Double(w[k * outputs + 997]) }
      XCTAssertEqual(Double(actual[997]), direct, accuracy: 1e-4)
    }
  }

  func testNoPanelsWhenTheProductIsNotSplitOrTheSequenceIsShort() {
    let weight = DenseWeight(
      values: [Float](repeating: 1, count: 64 * 256), inFeatures: 64, outFeatures: 256, layout: .inOut)
    XCTAssertNil(PanelWeight(weight, rows: 8, threads: 1, steps: 64), "one block")
    let wide = DenseWeight(
      values: [Float](repeating: 1, count: 512 * 2048), inFeatures: 512, outFeatures: 2048, layout: .inOut)
    XCTAssertNil(PanelWeight(wide, rows: 8, threads: 1, steps: 4), "too few steps")
    XCTAssertNil(PanelWeight(wide, rows: 64, threads: 1, steps: 64), "too many rows")
    XCTAssertEqual(PanelWeight(wide, rows: 8, threads: 1, steps: 64)?.width, 240)
  }
}
