import XCTest

@testable import CheckpointEngine

/// The GRU's threaded schedules against its one-thread pass.
final class GRUTests: XCTestCase {
  private func makeGRU(
    layers: Int, directions: Int, input: Int, hidden: Int, order: GRU.GateOrder, resetAfter: Bool,
    seed: UInt64
  ) -> GRU {
    var state = seed
    func values(_ count: Int) -> [Float] {
      (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return (Float(state >> 40) / Float(1 << 24) - 0.5) * 2 / Float(hidden).squareRoot()
      }
    }
    let cells = (0..<layers).map { layer in
      (0..<directions).map { _ in
        let inputs = layer == 0 ? input : directions * hidden
        return GRU.Cell(
          input: DenseWeight(
            values: values(inputs * 3 * hidden), inFeatures: inputs, outFeatures: 3 * hidden, layout: .outIn),
          recurrent: DenseWeight(
            values: values(hidden * 3 * hidden), inFeatures: hidden, outFeatures: 3 * hidden, layout: .outIn
          ).inOutLayout(),
          inputBias: values(3 * hidden),
          recurrentBias: resetAfter ? values(3 * hidden) : [Float](repeating: 0, count: 3 * hidden))
      }
    }
    return GRU(layers: cells, inputSize: input, hiddenSize: hidden, order: order, resetAfter: resetAfter)
  }

  func testThreadedSchedulesMatchTheSequentialPassAndReplayExactly() {
    let cases: [(String, GRU, [Int])] = [
      (
        "3 layers",
        makeGRU(layers: 3, directions: 1, input: 5, hidden: 7, order: .pytorch, resetAfter: true, seed: 1),
        [3, 13]
      ),
      (
        "batch 1, Keras reset-before",
        makeGRU(layers: 2, directions: 1, input: 4, hidden: 6, order: .keras, resetAfter: false, seed: 2),
        [1, 17]
      ),
      (
        "bidirectional",
        makeGRU(layers: 2, directions: 2, input: 6, hidden: 5, order: .pytorch, resetAfter: true, seed: 3),
        [2, 9]
      ),
      (
        "wide",
        makeGRU(layers: 2, directions: 1, input: 64, hidden: 96, order: .keras, resetAfter: false, seed: 4),
        [8, 40]
      ),
      // Large enough for the recurrent weight to be used panel by panel.
      (
        "panels",
        makeGRU(layers: 2, directions: 1, input: 32, hidden: 256, order: .pytorch, resetAfter: true, seed: 5),
        [8, 16]
      ),
    ]
    for (name, gru, dims) in cases {
      let count = dims[0] * dims[1] * gru.inputSize
      let x = Matrix(
        shape: dims + [gru.inputSize], values: (0..<count).map { Float(($0 * 7_919) % 1_000) / 500 - 1 })
      let sequential = gru.forward(x, threads: 1)
      for threads in [2, 3] {
        let trace = ModuleTrace()
        let threaded = gru.forward(x, trace: trace, threads: threads)
        XCTAssertLessThanOrEqual(
          threaded.y.maxAbsDifference(to: sequential.y), 1e-6, "\(name), \(threads) threads")
        XCTAssertLessThanOrEqual(
          threaded.hN.maxAbsDifference(to: sequential.hN), 1e-6, "\(name), \(threads) threads")
        for (index, record) in trace.records.enumerated() {
          let layer = gru.forwardLayer(index, record.inputs[0], threads: threads)
          assertBitIdentical(
            [layer.y, layer.hN], record.outputs, "\(name): \(record.name), \(threads) threads")
        }
      }
    }
  }
}
