import XCTest

@testable import CheckpointEngine

/// The LSTM's threaded schedules (a wavefront of layers, directions side by side) against the
/// one-thread pass and a plain double-precision reference.
final class LSTMTests: XCTestCase {
  /// A seeded LSTM with weights uniform in ±1/√H, as PyTorch initialises them (larger weights make
  /// a chaotic recurrence, where last-bit differences between summation orders grow without bound).
  private func makeLSTM(
    layers: Int, directions: Int, input: Int, hidden: Int, projection: Int? = nil,
    inputLayout: DenseWeight.Layout = .outIn, seed: UInt64
  ) -> LSTM {
    var state = seed
    let scale = 2 / Float(hidden).squareRoot()
    func next() -> Float {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return (Float(state >> 40) / Float(1 << 24) - 0.5) * scale
    }
    func values(_ count: Int) -> [Float] { (0..<count).map { _ in next() } }
    let out = projection ?? hidden
    let cells = (0..<layers).map { layer in
      (0..<directions).map { _ in
        let inputs = layer == 0 ? input : directions * out
        return LSTM.Cell(
          input: DenseWeight(
            values: values(inputs * 4 * hidden), inFeatures: inputs, outFeatures: 4 * hidden,
            layout: inputLayout),
          recurrent: DenseWeight(
            values: values(out * 4 * hidden), inFeatures: out, outFeatures: 4 * hidden, layout: .outIn
          ).inOutLayout(),
          bias: values(4 * hidden),
          projection: projection.map {
            DenseWeight(values: values($0 * hidden), inFeatures: hidden, outFeatures: $0, layout: .outIn)
          })
      }
    }
    return LSTM(layers: cells, inputSize: input, hiddenSize: hidden, outputSize: out)
  }

  private func sample(_ shape: [Int], seed: Int) -> Matrix {
    let count = shape.reduce(1, *)
    return Matrix(shape: shape, values: (0..<count).map { Float((($0 + seed) * 7_919) % 1_000) / 500 - 1 })
  }

  /// `W[o, i]` of a weight in either layout.
  private func weight(_ w: DenseWeight, _ o: Int, _ i: Int) -> Double {
    Double(w.layout == .outIn ? w.values[o * w.inFeatures + i] : w.values[i * w.outFeatures + o])
  }

  /// The textbook recurrence in double precision: `y` `[B, T, D·R]`.
  private func reference(_ lstm: LSTM, _ x: Matrix, h0: Matrix?, c0: Matrix?) -> [Double] {
    let (batch, steps) = (x.shape[0], x.shape[1])
    let (hidden, out, nd) = (lstm.hiddenSize, lstm.outputSize, lstm.directions)
    func sigmoid(_ v: Double) -> Double { 1 / (1 + exp(-v)) }
    var input = x.values.map(Double.init)
    var width = x.shape[2]
    for (l, layer) in lstm.layers.enumerated() {
      var y = [Double](repeating: 0, count: batch * steps * nd * out)
      for (d, cell) in layer.enumerated() {
        for b in 0..<batch {
          let slot = (l * nd + d) * batch + b
          var h = (0..<out).map { k in h0.map { Double($0.values[slot * out + k]) } ?? 0 }
          var c = (0..<hidden).map { k in c0.map { Double($0.values[slot * hidden + k]) } ?? 0 }
          for s in 0..<steps {
            let t = d == 1 ? steps - 1 - s : s
            var gates = (0..<(4 * hidden)).map { Double(cell.bias[$0]) }
            for g in gates.indices {
              for i in 0..<width { gates[g] += weight(cell.input, g, i) * input[(b * steps + t) * width + i] }
              for i in 0..<out { gates[g] += weight(cell.recurrent, g, i) * h[i] }
            }
            var full = [Double](repeating: 0, count: hidden)
            for j in 0..<hidden {
              c[j] = sigmoid(gates[hidden + j]) * c[j] + sigmoid(gates[j]) * tanh(gates[2 * hidden + j])
              full[j] = sigmoid(gates[3 * hidden + j]) * tanh(c[j])
            }
            if let projection = cell.projection {
              h = (0..<out).map { p in (0..<hidden).reduce(0) { $0 + weight(projection, p, $1) * full[$1] } }
            } else {
              h = full
            }
            for k in 0..<out { y[(b * steps + t) * nd * out + d * out + k] = h[k] }
          }
        }
      }
      input = y
      width = nd * out
    }
    return input
  }

  private func assertClose(_ a: Matrix, _ b: Matrix, _ tolerance: Float, _ label: String) {
    XCTAssertEqual(a.shape, b.shape, label)
    XCTAssertLessThanOrEqual(a.maxAbsDifference(to: b), tolerance, label)
  }

  func testThreadedSchedulesMatchTheSequentialPass() {
    let cases: [(name: String, lstm: LSTM, batch: Int, steps: Int, states: Bool)] = [
      // Wavefronts of two and three layers; 13 steps make uneven chunks, batch 1 reads `x` in place.
      ("3 layers", makeLSTM(layers: 3, directions: 1, input: 5, hidden: 7, seed: 1), 3, 13, false),
      ("3 layers, batch 1", makeLSTM(layers: 3, directions: 1, input: 5, hidden: 7, seed: 2), 1, 13, true),
      ("bidirectional", makeLSTM(layers: 2, directions: 2, input: 6, hidden: 5, seed: 3), 2, 9, true),
      (
        "projection, Keras layout",
        makeLSTM(layers: 2, directions: 1, input: 4, hidden: 8, projection: 3, inputLayout: .inOut, seed: 4),
        4,
        21, true
      ),
      (
        "bidirectional projection",
        makeLSTM(layers: 2, directions: 2, input: 4, hidden: 6, projection: 3, seed: 5), 2, 7, false
      ),
      // Large enough for the blocked per-step products and a multi-row chunk projection.
      ("wide", makeLSTM(layers: 2, directions: 1, input: 64, hidden: 96, seed: 6), 8, 40, false),
      // Hidden units shared among threads, with a projection (two barriers per step).
      (
        "shared units, projection",
        makeLSTM(layers: 2, directions: 1, input: 16, hidden: 64, projection: 24, seed: 13), 3, 11, true
      ),
      (
        "shared units, batch 1", makeLSTM(layers: 1, directions: 1, input: 8, hidden: 72, seed: 14), 1, 10,
        false
      ),
      // Recurrent products split into blocks, run through panels (no double reference: too slow).
      ("panels", makeLSTM(layers: 2, directions: 1, input: 32, hidden: 256, seed: 12), 8, 24, true),
    ]
    for (name, lstm, batch, steps, withStates) in cases {
      let (nd, layers) = (lstm.directions, lstm.layers.count)
      let x = sample([batch, steps, lstm.inputSize], seed: 3)
      let h0 = withStates ? sample([layers * nd, batch, lstm.outputSize], seed: 5) : nil
      let c0 = withStates ? sample([layers * nd, batch, lstm.hiddenSize], seed: 11) : nil
      let sequential = lstm.forward(x, h0: h0, c0: c0, threads: 1)
      XCTAssertEqual(RecurrentSchedule(lstm, steps: steps, threads: 1).group, 1)
      if name != "panels" {
        let expected = reference(lstm, x, h0: h0, c0: c0)
        let worst = zip(sequential.y.values, expected).map { abs(Double($0) - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 1e-5, "\(name): against the double-precision reference")
      }
      for threads in [2, 3, 4] {
        let label = "\(name), \(threads) threads"
        let threaded = lstm.forward(x, h0: h0, c0: c0, threads: threads)
        assertClose(threaded.y, sequential.y, 1e-6, label + ": y")
        assertClose(threaded.hN, sequential.hN, 1e-6, label + ": h_n")
        assertClose(threaded.cN, sequential.cN, 1e-6, label + ": c_n")
      }
    }
  }

  func testScheduleRunsLayersOrDirectionsSideBySide() {
    let stack = makeLSTM(layers: 3, directions: 1, input: 2, hidden: 2, seed: 7)
    let plan = RecurrentSchedule(stack, steps: 64, threads: 2)
    XCTAssertEqual([plan.group, plan.chunk, plan.productThreads], [2, 8, 1])
    XCTAssertEqual(RecurrentSchedule(stack, steps: 64, threads: 8).group, 3)
    let bidirectional = RecurrentSchedule(
      makeLSTM(layers: 2, directions: 2, input: 2, hidden: 2, seed: 8), steps: 64, threads: 4)
    XCTAssertEqual([bidirectional.group, bidirectional.chunk, bidirectional.productThreads], [1, 64, 2])
    let single = RecurrentSchedule(
      makeLSTM(layers: 1, directions: 1, input: 2, hidden: 2, seed: 9), steps: 64, threads: 2)
    XCTAssertEqual([single.group, single.chunk, single.productThreads], [1, 64, 2])
    // From 64 units, an LSTM layer's units are shared among the threads instead.
    let shared = RecurrentSchedule(
      makeLSTM(layers: 2, directions: 1, input: 2, hidden: 64, seed: 9), steps: 64, threads: 4)
    XCTAssertEqual([shared.parties, shared.group, shared.chunk, shared.productThreads], [2, 1, 64, 1])
    XCTAssertEqual(
      RecurrentSchedule(
        makeLSTM(layers: 2, directions: 2, input: 2, hidden: 64, seed: 9), steps: 64, threads: 4
      ).parties, 1)
  }

  func testLayersReplayedAloneMatchTheThreadedPassExactly() {
    // `ckpt verify` replays each traced layer on its recorded inputs and expects the same bits.
    for lstm in [
      makeLSTM(layers: 3, directions: 1, input: 16, hidden: 24, seed: 10),
      makeLSTM(layers: 2, directions: 1, input: 16, hidden: 96, projection: 40, seed: 15),
      makeLSTM(layers: 2, directions: 2, input: 16, hidden: 24, projection: 8, seed: 11),
    ] {
      let x = sample([4, 19, lstm.inputSize], seed: 2)
      for threads in [1, 2] {
        let trace = ModuleTrace()
        let pass = lstm.forward(x, trace: trace, threads: threads)
        XCTAssertEqual(trace.records.map(\.name), (0..<lstm.layers.count).map { "lstm.l\($0)" })
        XCTAssertEqual(trace.records.last?.outputs.first, pass.y)
        for (index, record) in trace.records.enumerated() {
          let layer = lstm.forwardLayer(index, record.inputs[0], threads: threads)
          assertBitIdentical(
            [layer.y, layer.hN, layer.cN], record.outputs, "\(record.name), \(threads) threads")
        }
      }
    }
  }
}
