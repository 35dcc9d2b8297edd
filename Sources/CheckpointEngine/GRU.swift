import CheckpointCore
import Dispatch

/// A multi-layer, optionally bidirectional GRU.
///
/// With `resetAfter` (PyTorch `nn.GRU`, Keras `reset_after=True`):
/// `r = σ(x W_r + b_ir + h U_r + b_hr)`, `z = σ(…)`,
/// `n = tanh(x W_n + b_in + r ⊙ (h U_n + b_hn))`, `h' = (1 − z) ⊙ n + z ⊙ h`.
/// Without it (Keras `reset_after=False`): `n = tanh(x W_n + b_n + (r ⊙ h) U_n)`.
/// The gate blocks are stored in the framework's order (PyTorch r, z, n; Keras z, r, h).
struct GRU: Sendable {
  /// The weights of one direction of one layer.
  struct Cell: Sendable {
    /// `[3H, I]` (or `[I, 3H]`).
    var input: DenseWeight
    /// `[3H, H]` (or `[H, 3H]`).
    var recurrent: DenseWeight
    /// `[3H]`.
    var inputBias: [Float]
    /// `[3H]`; zeros without reset-after.
    var recurrentBias: [Float]
  }

  /// Block positions of the reset, update and candidate gates.
  struct GateOrder: Sendable {
    var reset: Int
    var update: Int
    var candidate: Int

    /// PyTorch: r, z, n.
    static let pytorch = GateOrder(reset: 0, update: 1, candidate: 2)
    /// Keras: z, r, h.
    static let keras = GateOrder(reset: 1, update: 0, candidate: 2)
  }

  var layers: [[Cell]]
  var inputSize: Int
  var hiddenSize: Int
  var order: GateOrder
  var resetAfter: Bool

  var directions: Int { layers.first?.count ?? 1 }

  /// Runs the GRU on `x` `[B, T, I]` on up to `threads` threads (see ``RecurrentSchedule``);
  /// returns `y` `[B, T, D·H]` and `h_n` `[L·D, B, H]`.
  ///
  /// With a `trace`, each layer is recorded as module `{name}.l{k}` (input `x`; outputs `y`, `h_n`).
  func forward(
    _ x: Matrix, trace: ModuleTrace? = nil, name: String = "gru", threads: Int = Processors.threads
  ) -> (y: Matrix, hN: Matrix) {
    let batch = x.shape[0]
    let nd = directions
    let plan = RecurrentSchedule(self, steps: x.shape[1], threads: threads)
    var hN = Matrix(zeros: [layers.count * nd, batch, hiddenSize])
    var input = x
    var first = 0
    while first < layers.count {
      let count = min(plan.group, layers.count - first)
      for (offset, result) in forwardLayers(first, count: count, input, plan: plan).enumerated() {
        let index = first + offset
        trace?.append(
          name: "\(name).l\(index)", parent: nil, inputs: [input], outputs: [result.y, result.hN])
        hN.setSlab(index * nd, result.hN)
        input = result.y
      }
      first += count
    }
    return (input, hN)
  }

  /// Runs layer `index` (all directions) on `x` `[B, T, in]`; returns `y` and the layer's `h_n` `[D, B, H]`,
  /// the values the layer has in a whole forward pass at the same thread count, bit for bit.
  func forwardLayer(_ index: Int, _ x: Matrix, threads: Int = Processors.threads) -> (y: Matrix, hN: Matrix) {
    forwardLayers(index, count: 1, x, plan: RecurrentSchedule(self, steps: x.shape[1], threads: threads))[0]
  }

  /// Runs `count` consecutive layers from `first` on `x` (several only when unidirectional), each
  /// direction of each layer a lane of a ``Wavefront``; returns each layer's `y` and `h_n`.
  private func forwardLayers(
    _ first: Int, count: Int, _ x: Matrix, plan: RecurrentSchedule
  ) -> [(y: Matrix, hN: Matrix)] {
    let batch = x.shape[0]
    let steps = x.shape[1]
    let (hidden, nd) = (hiddenSize, directions)
    let lanes = count * nd
    let width = nd * hidden
    let chunks = (steps + plan.chunk - 1) / plan.chunk
    let ys = (0..<count).map { _ in FloatBuffer(batch * steps * width) }
    let hs = (0..<lanes).map { _ in FloatBuffer(batch * hidden) }
    let gates = (0..<lanes).map { _ in FloatBuffer(batch * steps * 3 * hidden, zeroed: false) }
    defer { for buffer in ys + hs + gates { buffer.free() } }
    x.values.withUnsafeBufferPointer { xb in
      guard let base = xb.baseAddress, batch > 0, steps > 0 else { return }
      let pass = Pass(
        gru: self,
        shape: WavefrontShape(batch: batch, steps: steps, chunk: plan.chunk, threads: plan.productThreads),
        lanes: Pass.Lane.stack(
          lanes: lanes, directions: nd, cell: { layers[first + $0][$1] }, input: base,
          inputColumns: x.columns,
          outputs: ys, width: width, columns: hidden, gates: gates, h: hs, state: { _ in () }))
      Wavefront.runLayers(lanes: lanes, directions: nd, chunks: chunks) { lane, board in
        pass.run(lane, chunks: chunks, board: board)
      }
    }
    return (0..<count).map { layer in
      (
        Matrix(shape: [batch, steps, width], values: ys[layer].array()),
        Matrix(
          shape: [nd, batch, hidden], values: ((layer * nd)..<((layer + 1) * nd)).flatMap { hs[$0].array() })
      )
    }
  }

  /// The lanes (directions of layers) of one run of ``forwardLayers(_:count:_:plan:)``, each over
  /// the whole sequence a chunk of time steps at a time: the input projection of the chunk as
  /// one product, then the recurrence over its steps.
  private struct Pass: WavefrontPass, @unchecked Sendable {
    typealias Lane = WavefrontLane<Cell, Void>

    /// Per-thread working memory.
    struct Scratch {
      /// A chunk's gathered input rows.
      var rows: UnsafeMutablePointer<Float>
      /// `h·U + b_h`, `[B, 3H]`.
      var recurrent: UnsafeMutablePointer<Float>
      /// `r ⊙ h`, `[B, H]` (without reset-after).
      var resetState: UnsafeMutablePointer<Float>
      /// The thread's lane's recurrent weight panel by panel (reset-after: one product per step).
      var panels: PanelWeight?
    }

    var gru: GRU
    var shape: WavefrontShape
    var lanes: [Lane]

    /// Runs `lane`'s chunks in order, taking its share of the projections from `board`.
    func run(_ lane: Int, chunks: Int, board: Wavefront) {
      let hidden = gru.hiddenSize
      let inputs = lanes.map(\.cell.input.inFeatures).max() ?? 0
      let scratch = Scratch(
        rows: .allocate(capacity: chunk < steps && batch > 1 ? batch * chunk * inputs : 1),
        recurrent: .allocate(capacity: batch * 3 * hidden), resetState: .allocate(capacity: batch * hidden),
        panels: gru.resetAfter
          ? PanelWeight(lanes[lane].cell.recurrent, rows: batch, threads: threads, steps: steps) : nil)
      defer {
        scratch.rows.deallocate()
        scratch.recurrent.deallocate()
        scratch.resetState.deallocate()
        scratch.panels?.free()
      }
      board.run(
        lane: lane, chunks: chunks, project: { project($0, $1, scratch: scratch.rows) },
        recur: { recur(lane, $0, scratch: scratch) })
    }

    /// `G = X·Wᵀ + b_i` for the steps of one chunk of a lane.
    func project(_ index: Int, _ number: Int, scratch: UnsafeMutablePointer<Float>) {
      let lane = lanes[index]
      let g3 = 3 * gru.hiddenSize
      let (t0, n) = span(number, reverse: lane.reverse)
      let gates = lane.gates + number * chunk * batch * g3
      lane.cell.input.projectSteps(
        lane.x, ldx: lane.ldx, batch: batch, steps: steps, t0: t0, n: n, bias: lane.cell.inputBias,
        into: gates,
        scratch: scratch, threads: threads)
    }

    /// The recurrence over the steps of one chunk of a lane (its projection done).
    func recur(_ index: Int, _ number: Int, scratch: Scratch) {
      let lane = lanes[index]
      let g3 = 3 * gru.hiddenSize
      let (t0, n) = span(number, reverse: lane.reverse)
      let gates = lane.gates + number * chunk * batch * g3
      for position in 0..<n {
        let s = lane.reverse ? n - 1 - position : position
        step(lane, gates + s * g3, stride: n * g3, scratch: scratch, t: t0 + s)
      }
    }

    /// One time step: the input terms of batch item b at `inputs + b·stride`, the recurrent
    /// terms, the gates, and `h` written to step `t` of `y`.
    private func step(
      _ lane: Lane, _ inputs: UnsafeMutablePointer<Float>, stride: Int, scratch: Scratch, t: Int
    ) {
      let hidden = gru.hiddenSize
      let g3 = 3 * hidden
      let (rOff, zOff, nOff) = (
        gru.order.reset * hidden, gru.order.update * hidden, gru.order.candidate * hidden
      )
      let (cell, hp, ghp, rhp) = (lane.cell, lane.h, scratch.recurrent, scratch.resetState)
      cell.recurrentBias.withUnsafeBufferPointer { bias in
        for b in 0..<batch { (ghp + b * g3).update(from: bias.baseAddress!, count: g3) }
      }
      if let panels = scratch.panels {
        panels.multiply(
          UnsafePointer(hp), rows: batch, ldx: hidden, into: ghp, ldy: g3, beta: 1, threads: threads)
      } else if gru.resetAfter {
        cell.recurrent.multiply(
          UnsafePointer(hp), rows: batch, ldx: hidden, into: ghp, ldy: g3, beta: 1, threads: threads)
      } else {
        for offset in [rOff, zOff] {
          cell.recurrent.multiply(
            UnsafePointer(hp), rows: batch, ldx: hidden, outputs: offset..<(offset + hidden),
            into: ghp + offset, ldy: g3, beta: 1, threads: threads)
        }
      }
      for b in 0..<batch {
        let x = inputs + b * stride
        let r = ghp + b * g3
        for j in 0..<hidden {
          r[rOff + j] += x[rOff + j]
          r[zOff + j] += x[zOff + j]
        }
        // Keep r and z in place for the candidate step.
        VectorMath.sigmoid(r + rOff, count: hidden)
        VectorMath.sigmoid(r + zOff, count: hidden)
        if !gru.resetAfter {
          for j in 0..<hidden { rhp[b * hidden + j] = r[rOff + j] * hp[b * hidden + j] }
        }
      }
      if !gru.resetAfter {
        cell.recurrent.multiply(
          UnsafePointer(rhp), rows: batch, ldx: hidden, outputs: nOff..<(nOff + hidden),
          into: ghp + nOff, ldy: g3, beta: 1, threads: threads)
      }
      for b in 0..<batch {
        let x = inputs + b * stride
        let r = ghp + b * g3
        for j in 0..<hidden {
          r[nOff + j] = gru.resetAfter ? x[nOff + j] + r[rOff + j] * r[nOff + j] : x[nOff + j] + r[nOff + j]
        }
        VectorMath.tanh(r + nOff, count: hidden)
        for j in 0..<hidden {
          let update = r[zOff + j]
          hp[b * hidden + j] = (1 - update) * r[nOff + j] + update * hp[b * hidden + j]
        }
        (lane.y + (b * steps + t) * lane.ldy).update(from: hp + b * hidden, count: hidden)
      }
    }
  }
}
