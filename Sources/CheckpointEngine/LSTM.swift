import Dispatch

/// A multi-layer, optionally bidirectional LSTM with optional projection (PyTorch `nn.LSTM`
/// semantics; Keras `LSTM` is the same cell with kernels stored transposed).
///
/// Gates are in the order i, f, g, o (PyTorch and Keras agree):
/// `c' = σ(f)⊙c + σ(i)⊙tanh(g)`, `h' = σ(o)⊙tanh(c')`, then `h' ← h'·W_hrᵀ` with a projection.
///
/// With several threads, layers or directions run side by side (see ``Schedule``).
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
    threads: Int = EngineThreads.count
  ) -> Output {
    let batch = x.shape[0]
    let nd = directions
    let plan = Schedule(self, steps: x.shape[1], threads: threads)
    var hN = Matrix(zeros: [layers.count * nd, batch, outputSize])
    var cN = Matrix(zeros: [layers.count * nd, batch, hiddenSize])
    var input = x
    var first = 0
    while first < layers.count {
      let count = min(plan.group, layers.count - first)
      let states = (first..<(first + count)).map {
        (h: h0?.slab($0 * nd, count: nd), c: c0?.slab($0 * nd, count: nd))
      }
      let results = forwardLayers(first, input, states: states, plan: plan)
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
    _ index: Int, _ x: Matrix, h0: Matrix? = nil, c0: Matrix? = nil, threads: Int = EngineThreads.count
  ) -> Output {
    forwardLayers(index, x, states: [(h0, c0)], plan: Schedule(self, steps: x.shape[1], threads: threads))[0]
  }

  /// How a forward pass shares its work among threads.
  ///
  /// A unidirectional stack runs `group` layers at a time as a wavefront, one layer per thread:
  /// layer l + 1 follows layer l `chunk` steps behind, projecting each chunk of layer l's output
  /// as soon as it is published. The two directions of a bidirectional layer run side by side.
  /// Each of these tasks makes its products on `productThreads` threads (BLAS itself single-threaded),
  /// since the small per-step products gain little from splitting while a layer per thread scales.
  struct Schedule {
    /// Layers run together (1: one layer at a time).
    var group: Int
    /// Time steps per input projection (`T`: the whole sequence in one product).
    var chunk: Int
    /// Threads for each task's products.
    var productThreads: Int

    init(_ lstm: LSTM, steps: Int, threads: Int) {
      let threads = max(1, threads)
      let nd = lstm.directions
      group = nd == 1 ? min(threads, lstm.layers.count) : 1
      // Small enough for the next layer to start soon, large enough for an efficient projection.
      chunk = group > 1 ? max(1, min(16, (steps + 7) / 8)) : max(1, steps)
      productThreads = group * nd > 1 ? max(1, threads / (group * nd)) : threads
    }
  }

  /// Runs `states.count` consecutive layers from `first` on `x`, each from its `[D, B, ·]` states,
  /// and returns each layer's output and final states.
  ///
  /// Every direction of every layer is one task; tasks run side by side when there are several.
  /// A task only ever waits for a task with a lower index (the layer below), so the tasks
  /// finish whichever way they are scheduled.
  private func forwardLayers(
    _ first: Int, _ x: Matrix, states: [(h: Matrix?, c: Matrix?)], plan: Schedule
  ) -> [Output] {
    let batch = x.shape[0]
    let steps = x.shape[1]
    let (hidden, out, nd) = (hiddenSize, outputSize, directions)
    let count = states.count
    let tasks = count * nd
    let width = nd * out
    let ys = (0..<count).map { _ in Buffer(batch * steps * width) }
    let hs = (0..<tasks).map { _ in Buffer(batch * out) }
    let cs = (0..<tasks).map { _ in Buffer(batch * hidden) }
    let progress = (0..<count).map { _ in StepProgress() }
    defer { for buffer in ys + hs + cs { buffer.free() } }
    for task in 0..<tasks {
      let (layer, direction) = task.quotientAndRemainder(dividingBy: nd)
      if let h = states[layer].h { hs[task].copy(from: h.values, at: direction * batch * out) }
      if let c = states[layer].c { cs[task].copy(from: c.values, at: direction * batch * hidden) }
    }
    x.values.withUnsafeBufferPointer { xb in
      guard let base = xb.baseAddress, batch > 0, steps > 0 else { return }
      let source = UnsafeSendablePointer(UnsafeMutablePointer(mutating: base))
      let body: @Sendable (Int) -> Void = { task in
        let (layer, direction) = task.quotientAndRemainder(dividingBy: nd)
        var run = Recurrence(
          cell: layers[first + layer][direction], hidden: hidden, out: out, batch: batch, steps: steps,
          chunk: plan.chunk, reverse: direction == 1,
          x: UnsafePointer(layer == 0 ? source.pointer : ys[layer - 1].pointer),
          ldx: layer == 0 ? x.columns : width, ready: layer == 0 ? nil : progress[layer - 1],
          y: ys[layer].pointer + direction * out, ldy: width, done: progress[layer],
          h: hs[task].pointer, c: cs[task].pointer, threads: plan.productThreads)
        run.run()
      }
      if tasks > 1 {
        BLAS.singleThreaded { DispatchQueue.concurrentPerform(iterations: tasks, execute: body) }
      } else {
        body(0)
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

  /// A zeroed float buffer shared by the threads of one forward pass (each writes its own part).
  private struct Buffer: @unchecked Sendable {
    let count: Int
    let pointer: UnsafeMutablePointer<Float>

    init(_ count: Int) {
      self.count = count
      pointer = .allocate(capacity: max(1, count))
      pointer.initialize(repeating: 0, count: max(1, count))
    }

    /// Fills the buffer from `values[offset...]`.
    func copy(from values: [Float], at offset: Int) {
      values.withUnsafeBufferPointer { source in
        guard let base = source.baseAddress, count > 0 else { return }
        pointer.update(from: base + offset, count: count)
      }
    }

    func array() -> [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    func free() { pointer.deallocate() }
  }

  /// One direction of one layer over a whole sequence, a chunk of time steps at a time: the
  /// input projection of the chunk as one product, then the recurrence over its steps.
  private struct Recurrence {
    var cell: Cell
    var hidden: Int
    var out: Int
    var batch: Int
    var steps: Int
    var chunk: Int
    var reverse: Bool
    /// The input `[B, T, ldx]`; rows of a step may be read once `ready` has published it.
    var x: UnsafePointer<Float>
    var ldx: Int
    var ready: StepProgress?
    /// Where this direction's output columns start in `[B, T, ldy]`; `done` publishes the steps written.
    var y: UnsafeMutablePointer<Float>
    var ldy: Int
    var done: StepProgress
    /// The states `[B, R]` and `[B, H]`, updated in place.
    var h: UnsafeMutablePointer<Float>
    var c: UnsafeMutablePointer<Float>
    /// The threads each product may use.
    var threads: Int

    mutating func run() {
      let g4 = 4 * hidden
      let inputs = cell.input.inFeatures
      let span = min(chunk, steps)
      // A chunk's inputs and gates are batch-major: row b·n + s for step s of n (as `x` itself
      // when the chunk is the whole sequence or the batch is one, so no copy is needed then).
      let gathered = span < steps && batch > 1
      let xs = UnsafeMutablePointer<Float>.allocate(capacity: gathered ? batch * span * inputs : 1)
      let gates = UnsafeMutablePointer<Float>.allocate(capacity: batch * span * g4)
      let full = UnsafeMutablePointer<Float>.allocate(capacity: batch * hidden)
      defer {
        xs.deallocate()
        gates.deallocate()
        full.deallocate()
      }
      var processed = 0
      while processed < steps {
        let n = min(span, steps - processed)
        // Steps t0..<t0 + n, visited backwards in the reverse direction.
        let t0 = reverse ? steps - processed - n : processed
        ready?.wait(until: reverse ? steps : t0 + n)
        var a = x + t0 * ldx
        var lda = ldx
        if gathered {
          for b in 0..<batch {
            for s in 0..<n {
              (xs + (b * n + s) * inputs).update(from: x + (b * steps + t0 + s) * ldx, count: inputs)
            }
          }
          a = UnsafePointer(xs)
          lda = inputs
        }
        // G = X·W_ihᵀ + b for the chunk.
        cell.bias.withUnsafeBufferPointer { bias in
          for row in 0..<(batch * n) { (gates + row * g4).update(from: bias.baseAddress!, count: g4) }
        }
        cell.input.multiply(a, rows: batch * n, ldx: lda, into: gates, ldy: g4, beta: 1, threads: threads)
        for index in 0..<n {
          let s = reverse ? n - 1 - index : index
          step(gates + s * g4, stride: n * g4, full: full, t: t0 + s)
        }
        processed += n
        if !reverse { done.publish(t0 + n) }
      }
    }

    /// One time step: the recurrent term added to the gate rows (batch item b at
    /// `rows + b·stride`), the cell update, and `h` written to step `t` of `y`.
    private func step(
      _ rows: UnsafeMutablePointer<Float>, stride: Int, full: UnsafeMutablePointer<Float>, t: Int
    ) {
      cell.recurrent.multiply(
        UnsafePointer(h), rows: batch, ldx: out, into: rows, ldy: stride, beta: 1, threads: threads)
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
        (y + (b * steps + t) * ldy).update(from: h + b * out, count: out)
      }
    }
  }
}
