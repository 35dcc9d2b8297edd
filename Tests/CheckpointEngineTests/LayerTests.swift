import CheckpointCore
import CheckpointModels
import Foundation
import XCTest

@testable import CheckpointEngine

/// The building blocks on hand-checked values.
final class LayerTests: XCTestCase {
  func testActivations() {
    var values: [Float] = [-1, 0, 1, 2]
    Activation.relu.apply(&values)
    XCTAssertEqual(values, [0, 0, 1, 2])
    values = [-1, 1, 2]
    Activation.gelu.apply(&values)
    // x·Φ(x): Φ(1) = 0.8413447, Φ(2) = 0.9772499.
    XCTAssertEqual(values[0], -0.158_655_3, accuracy: 1e-6)
    XCTAssertEqual(values[1], 0.841_344_7, accuracy: 1e-6)
    XCTAssertEqual(values[2], 1.954_499_7, accuracy: 1e-6)
    values = [1]
    Activation.geluTanh.apply(&values)
    XCTAssertEqual(values[0], 0.841_192, accuracy: 1e-6)
  }

  func testLayerNormTwoPassOnSmallVarianceRows() {
    // Large offset, tiny spread: a one-pass E[x²] − E[x]² would lose it all in float32.
    var x = Matrix(shape: [1, 4], values: [10_000.001, 10_000.002, 10_000.003, 10_000.004])
    let centred: [Float] = x.values.map { $0 - 10_000 }
    let mean = centred.reduce(0, +) / 4
    let variance = centred.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 4
    LayerNorm(gamma: [1, 1, 1, 1], beta: [0, 0, 0, 0], eps: 1e-12).apply(&x)
    for (value, c) in zip(x.values, centred) {
      XCTAssertEqual(value, (c - mean) / variance.squareRoot(), accuracy: 1e-2)
    }
  }

  func testAttentionMasksAndSoftmax() {
    // One head, identity projections: scores are x·xᵀ/√2; a padded key gets no weight.
    func identity(_ n: Int) -> Linear {
      var values = [Float](repeating: 0, count: n * n)
      for i in 0..<n { values[i * n + i] = 1 }
      return Linear(
        weight: DenseWeight(values: values, inFeatures: n, outFeatures: n, layout: .outIn), bias: nil)
    }
    let attention = MultiHeadAttention(
      query: identity(2), key: identity(2), value: identity(2), output: identity(2), heads: 1)
    let x = Matrix(shape: [1, 3, 2], values: [1, 0, 0, 1, 5, 5])
    let masked = attention(x, memory: x, keep: [true, true, false])
    // Query 0 attends to keys 0 and 1 only: weights softmax([1, 0]/√2).
    let w0 = Float(1 / (1 + exp(-1 / 2.0.squareRoot())))
    XCTAssertEqual(masked.values[0], w0, accuracy: 1e-6)
    XCTAssertEqual(masked.values[1], 1 - w0, accuracy: 1e-6)
    let causal = attention(x, memory: x, causal: true)
    XCTAssertEqual(Array(causal.values[0..<2]), [1, 0], "the first query sees only itself")
  }

  func testBlockedSmallProductsMatchTheDirectProduct() {
    // 2 rows × 1000 × 2000 with an [in, out] weight is split into column blocks.
    let (rows, inputs, outputs) = (2, 1000, 2000)
    let x = (0..<(rows * inputs)).map { Float(($0 * 7) % 13) / 13 - 0.5 }
    let w = (0..<(inputs * outputs)).map { Float(($0 * 5) % 11) / 11 - 0.5 }
    let weight = DenseWeight(values: w, inFeatures: inputs, outFeatures: outputs, layout: .inOut)
    XCTAssertEqual(weight.inOutLayout().values, w)
    var y = [Float](repeating: 1, count: rows * outputs)
    let range = 3..<1999
    x.withUnsafeBufferPointer { xb in
      y.withUnsafeMutableBufferPointer { yb in
        weight.multiply(
          xb.baseAddress!, rows: rows, ldx: inputs, outputs: range, into: yb.baseAddress! + range.lowerBound,
          ldy: outputs, beta: 1)
      }
    }
    for row in 0..<rows {
      for column in [0, 3, 500, 991, 992, 1998, 1999] {
        var expected: Double = 1
        if range.contains(column) {
          for k in 0..<inputs { expected += Double(x[row * inputs + k]) * Double(w[k * outputs + column]) }
        }
        XCTAssertEqual(Double(y[row * outputs + column]), expected, accuracy: 1e-3, "[\(row), \(column)]")
      }
    }
    // The transposing copy holds the same matrix.
    let outIn = DenseWeight(values: [1, 2, 3, 4, 5, 6], inFeatures: 3, outFeatures: 2, layout: .outIn)
    XCTAssertEqual(outIn.inOutLayout().values, [1, 4, 2, 5, 3, 6])
  }

  func testHalfAndBFloatDecoding() {
    XCTAssertEqual(TensorValues.halfToFloat(0x3C00), 1)
    XCTAssertEqual(TensorValues.halfToFloat(0xC000), -2)
    XCTAssertEqual(TensorValues.halfToFloat(0x0001), Float(sign: .plus, exponent: -24, significand: 1))
    XCTAssertEqual(TensorValues.halfToFloat(0x7C00), .infinity)
  }

  func testNameNormalisationAndKerasOrder() {
    XCTAssertEqual(
      ParameterSet.normalize("model_weights/lstm/lstm/lstm_cell/kernel:0"), "lstm.lstm.lstm_cell.kernel")
    XCTAssertEqual(ParameterSet.normalize("/layers/lstm_1/cell/vars/0"), "layers.lstm_1.cell.vars.0")
    XCTAssertEqual(
      ["lstm_10", "lstm_2", "lstm", "lstm_1"].sorted(by: kerasOrder), ["lstm", "lstm_1", "lstm_2", "lstm_10"])
  }

  func testKerasRecurrentStackIsOrderedByLayerNumber() throws {
    // Eleven Keras 3 LSTM layers: lstm_10 is the last layer, not the third.
    var tensors: [Tensor] = []
    for layer in [
      "lstm", "lstm_1", "lstm_10", "lstm_2", "lstm_3", "lstm_4", "lstm_5", "lstm_6", "lstm_7", "lstm_8",
      "lstm_9",
    ] {
      let inputs = layer == "lstm" ? 3 : 2
      for (index, shape) in [[inputs, 8], [2, 8], [8]].enumerated() {
        let count = shape.reduce(1, *)
        tensors.append(
          try Tensor(
            name: "layers/\(layer)/cell/vars/\(index)", dtype: .f32, shape: shape,
            bytes: TensorBytes([UInt8](repeating: 0, count: count * 4))))
      }
    }
    let model = try Model(try Checkpoint(tensors: tensors), architecture: .lstm)
    XCTAssertEqual(model.layout, .keras3)
    XCTAssertTrue(model.summary.contains("11 layer(s) × 1 direction(s), input 3, hidden 2"), model.summary)
    // Inside a nested model the layers keep their own path.
    let nested = tensors.map {
      $0.renamed($0.name.replacingOccurrences(of: "layers/", with: "layers/functional/layers/"))
    }
    let nestedModel = try Model(try Checkpoint(tensors: nested), architecture: .lstm)
    XCTAssertTrue(
      nestedModel.summary.contains("11 layer(s) × 1 direction(s), input 3, hidden 2"), nestedModel.summary)
  }
}

/// The vectorised exp, sigmoid and tanh against libm.
final class VectorMathTests: XCTestCase {
  func testAgainstLibm() {
    let inputs = stride(from: Float(-30), through: 30, by: 0.0137).map { $0 }
    var e = inputs.map { min($0, 20) }
    var s = inputs
    var t = inputs
    e.withUnsafeMutableBufferPointer { VectorMath.exp($0.baseAddress!, count: $0.count) }
    s.withUnsafeMutableBufferPointer { VectorMath.sigmoid($0.baseAddress!, count: $0.count) }
    t.withUnsafeMutableBufferPointer { VectorMath.tanh($0.baseAddress!, count: $0.count) }
    for (index, x) in inputs.enumerated() {
      let exact = Foundation.exp(Double(min(x, 20)))
      XCTAssertEqual(Double(e[index]), exact, accuracy: exact * 4e-7, "exp(\(x))")
      XCTAssertEqual(Double(s[index]), 1 / (1 + Foundation.exp(-Double(x))), accuracy: 3e-7, "sigmoid(\(x))")
      XCTAssertEqual(Double(t[index]), Foundation.tanh(Double(x)), accuracy: 3e-7, "tanh(\(x))")
    }
  }
}
