import CheckpointCore
import Dispatch

/// A multi-layer, optionally bidirectional LSTM with optional projection (PyTorch `nn.LSTM`
/// semantics; Keras `LSTM` is the same cell with kernels stored transposed).
///
/// Gates are in the order i, f, g, o (PyTorch and Keras agree):
/// `c' = σ(f)⊙c + σ(i)⊙tanh(g)`, `h' = σ(o)⊙tanh(c')`, then `h' ← h'·W_hrᵀ` with a projection.
///
/// With several threads, a layer's hidden units (or small layers, or the two directions) are
/// shared among them (see ``RecurrentSchedule``).
struct LSTM: Sendable {
  /// The weights of one direction of one layer.
  struct Cell: Sendable {
    /// `[4H, I]` (or `[I, 4H]`).
    var input: DenseWeight
    /// `[4H, R]` (or `[R, 4H]`), R = projection size or H.
    var recurrent: DenseWeight
    /// `b_ih + b_hh`, `[4H]`.
    var bias: [Float]
    /// `[P, H]` when the LSTM has `proj_size`.
    var projection: DenseWeight?
  }

  /// `layers[l][d]`, d = 0 forward, 1 backward.
  var layers: [[Cell]]
  var inputSize: Int
  var hiddenSize: Int
  /// The size of `h` (the projection size, or H).
  var outputSize: Int

  var directions: Int { layers.first?.count ?? 1 }

  /// The result of a forward pass.
  struct Output {
    /// `[B, T, D·R]`.
    var y: Matrix
    /// `[L·D, B, R]`.
    var hN: Matrix
    /// `[L·D, B, H]`.
    var cN: Matrix
  }

  /// Runs the LSTM on `x` `[B, T, I]` from states `h0` `[L·D, B, R]`, `c0` `[L·D, B, H]` (zeros if nil),
  /// on up to `threads` threads.
  ///
  /// With a `trace`, each layer is recorded as module `{name}.l{k}` (inputs `x` and, when
  /// given, that layer's `h0`, `c0`; outputs `y`, `h_n`, `c_n` of the layer).
  func forward(
    _ x: Matrix, h0: Matrix? = nil, c0: Matrix? = nil, trace: ModuleTrace? = nil, name: String = "lstm",
    threads: Int = Processors.threads
  ) -> Output {
    let batch = x.shape[0]
    let nd = directions
    let plan = RecurrentSchedule(self, steps: x.shape[1], threads: threads)
    var hN = Matrix(zeros: [layers.count * nd, batch, outputSize])
    var cN = Matrix(zeros: [layers.count * nd, batch, hiddenSize])
    var input = x
    var first = 0
    while first < layers.count {
      let count = min(plan.group, layers.count - first)
      let states = (first..<(first + count)).map {
        (h: h0?.slab($0 * nd, count: nd), c: c0?.slab($0 * nd, count: nd))
      }
      let results =
        plan.parties > 1
        ? [forwardSplit(first, input, h0: states[0].h, c0: states[0].c, parties: plan.parties)]
        : forwardLayers(first, input, states: states, plan: plan)
      for (offset, result) in results.enumerated() {
        let index = first + offset
        let state = states[offset]
        trace?.append(
          name: "\(name).l\(index)", parent: nil,
          inputs: [input] + ([state.h, state.c] as [Matrix?]).compactMap { $0 },
          outputs: [result.y, result.hN, result.cN])
        hN.setSlab(index * nd, result.hN)
        cN.setSlab(index * nd, result.cN)
        input = result.y
      }
      first += count
    }
    return Output(y: input, hN: hN, cN: cN)
  }

  /// Runs layer `index` (all directions) on `x` `[B, T, in]` from `h0` `[D, B, R]`, `c0` `[D, B, H]`;
  /// the states returned are the layer's `[D, B, ·]`.
  ///
  /// The values are those the layer has in ``forward(_:h0:c0:trace:name:threads:)`` at the same
  /// thread count, bit for bit: the layer's products have the same shapes either way.
  func forwardLayer(
    _ index: Int, _ x: Matrix, h0: Matrix? = nil, c0: Matrix? = nil, threads: Int = Processors.threads
  ) -> Output {
    let plan = RecurrentSchedule(self, steps: x.shape[1], threads: threads)
    if plan.parties > 1 { return forwardSplit(index, x, h0: h0, c0: c0, parties: plan.parties) }
    return forwardLayers(index, x, states: [(h0, c0)], plan: plan)[0]
  }

  /// Runs `states.count` consecutive layers from `first` on `x` (several only when unidirectional),
  /// each from its `[D, B, ·]` states, and returns each layer's output and final states.
  ///
  /// Every direction of every layer is a lane of a ``Wavefront``, run by a thread of its own
  /// when there are several.
  private func forwardLayers(
    _ first: Int, _ x: Matrix, states: [(h: Matrix?, c: Matrix?)], plan: RecurrentSchedule
  ) -> [Output] {
    let batch = x.shape[0]
    let steps = x.shape[1]
    let (hidden, out, nd) = (hiddenSize, outputSize, directions)
    let count = states.count
    let lanes = count * nd
    let width = nd * out
    let chunks = (steps + plan.chunk - 1) / plan.chunk
    let ys = (0..<count).map { _ in FloatBuffer(batch * steps * width) }
    let hs = (0..<lanes).map { _ in FloatBuffer(batch * out) }
    let cs = (0..<lanes).map { _ in FloatBuffer(batch * hidden) }
    let gates = (0..<lanes).map { _ in FloatBuffer(batch * steps * 4 * hidden, zeroed: false) }
    defer { for buffer in ys + hs + cs + gates { buffer.free() } }
    for lane in 0..<lanes {
      let (layer, direction) = lane.quotientAndRemainder(dividingBy: nd)
      if let h = states[layer].h { hs[lane].copy(from: h.values, at: direction * batch * out) }
      if let c = states[layer].c { cs[lane].copy(from: c.values, at: direction * batch * hidden) }
    }
    x.values.withUnsafeBufferPointer { xb in
      guard let base = xb.baseAddress, batch > 0, steps > 0 else { return }
      let pass = Pass(
        hidden: hidden, out: out,
        shape: WavefrontShape(batch: batch, steps: steps, chunk: plan.chunk, threads: plan.productThreads),
        lanes: Pass.Lane.stack(
          lanes: lanes, directions: nd, cell: { layers[first + $0][$1] }, input: base,
          inputColumns: x.columns,
          outputs: ys, width: width, columns: out, gates: gates, h: hs, state: { cs[$0].pointer }))
      Wavefront.runLayers(lanes: lanes, directions: nd, chunks: chunks) { lane, board in
        pass.run(lane, chunks: chunks, board: board)
      }
    }
    return (0..<count).map { layer in
      let own = (layer * nd)..<((layer + 1) * nd)
      return Output(
        y: Matrix(shape: [batch, steps, width], values: ys[layer].array()),
        hN: Matrix(shape: [nd, batch, out], values: own.flatMap { hs[$0].array() }),
        cN: Matrix(shape: [nd, batch, hidden], values: own.flatMap { cs[$0].array() }))
    }
  }

  /// The lanes (directions of layers) of one run of ``forwardLayers(_:_:states:plan:)``, each
  /// over the whole sequence a chunk of time steps at a time: the input projection of the chunk
  /// as one product, then the recurrence over its steps.
  private struct Pass: WavefrontPass, @unchecked Sendable {
    /// A lane whose other state is the cell state `c` `[B, H]`.
    typealias Lane = WavefrontLane<Cell, UnsafeMutablePointer<Float>>

    var hidden: Int
    var out: Int
    var shape: WavefrontShape
    var lanes: [Lane]

    /// Runs `lane`'s chunks in order, taking its share of the projections from `board`.
    func run(_ lane: Int, chunks: Int, board: Wavefront) {
      let inputs = lanes.map(\.cell.input.inFeatures).max() ?? 0
      // Scratch for gathering a chunk's input rows and for the unprojected `h`.
      let scratch = UnsafeMutablePointer<Float>.allocate(
        capacity: chunk < steps && batch > 1 ? batch * chunk * inputs : 1)
      let full = UnsafeMutablePointer<Float>.allocate(capacity: batch * hidden)
      // Only this thread runs the lane's recurrence: its weight, panel by panel, is its own.
      let panels = PanelWeight(lanes[lane].cell.recurrent, rows: batch, threads: threads, steps: steps)
      defer {
        scratch.deallocate()
        full.deallocate()
        panels?.free()
      }
      board.run(
        lane: lane, chunks: chunks, project: { project($0, $1, scratch: scratch) },
        recur: { recur(lane, $0, panels: panels, full: full) })
    }

    /// `G = X·W_ihᵀ + b` for the steps of one chunk of a lane.
    func project(_ index: Int, _ number: Int, scratch: UnsafeMutablePointer<Float>) {
      let lane = lanes[index]
      let g4 = 4 * hidden
      let (t0, n) = span(number, reverse: lane.reverse)
      let gates = lane.gates + number * chunk * batch * g4
      lane.cell.input.projectSteps(
        lane.x, ldx: lane.ldx, batch: batch, steps: steps, t0: t0, n: n, bias: lane.cell.bias, into: gates,
        scratch: scratch, threads: threads)
    }

    /// The recurrence over the steps of one chunk of a lane (its projection done).
    func recur(_ index: Int, _ number: Int, panels: PanelWeight?, full: UnsafeMutablePointer<Float>) {
      let lane = lanes[index]
      let g4 = 4 * hidden
      let (t0, n) = span(number, reverse: lane.reverse)
      let gates = lane.gates + number * chunk * batch * g4
      for position in 0..<n {
        let s = lane.reverse ? n - 1 - position : position
        step(lane, gates + s * g4, stride: n * g4, panels: panels, full: full, t: t0 + s)
      }
    }

    /// One time step: the recurrent term added to the gate rows (batch item b at
    /// `rows + b·stride`), the cell update, and `h` written to step `t` of `y`.
    private func step(
      _ lane: Lane, _ rows: UnsafeMutablePointer<Float>, stride: Int, panels: PanelWeight?,
      full: UnsafeMutablePointer<Float>, t: Int
    ) {
      let (h, c, cell) = (lane.h, lane.state, lane.cell)
      if let panels {
        panels.multiply(
          UnsafePointer(h), rows: batch, ldx: out, into: rows, ldy: stride, beta: 1, threads: threads)
      } else {
        cell.recurrent.multiply(
          UnsafePointer(h), rows: batch, ldx: out, into: rows, ldy: stride, beta: 1, threads: threads)
      }
      for b in 0..<batch {
        let row = rows + b * stride
        let cRow = c + b * hidden
        let target = cell.projection == nil ? h + b * out : full + b * hidden
        // Gates i, f (sigmoid), g (tanh), o (sigmoid), eight lanes at a time.
        VectorMath.sigmoid(row, count: 2 * hidden)
        VectorMath.tanh(row + 2 * hidden, count: hidden)
        VectorMath.sigmoid(row + 3 * hidden, count: hidden)
        for j in 0..<hidden {
          let cNew = row[hidden + j] * cRow[j] + row[j] * row[2 * hidden + j]
          cRow[j] = cNew
          target[j] = cNew
        }
        VectorMath.tanh(target, count: hidden)
        for j in 0..<hidden { target[j] *= row[3 * hidden + j] }
      }
      if let projection = cell.projection {
        projection.multiply(
          UnsafePointer(full), rows: batch, ldx: hidden, into: h, ldy: out, threads: threads)
      }
      for b in 0..<batch {
        (lane.y + (b * steps + t) * lane.ldy).update(from: h + b * out, count: out)
      }
    }
  }
}
