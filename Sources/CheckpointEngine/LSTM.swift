import Dispatch

/// A multi-layer, optionally bidirectional LSTM with optional projection (PyTorch `nn.LSTM`
/// semantics; Keras `LSTM` is the same cell with kernels stored transposed).
///
/// Gates are in the order i, f, g, o (PyTorch and Keras agree):
/// `c' = σ(f)⊙c + σ(i)⊙tanh(g)`, `h' = σ(o)⊙tanh(c')`, then `h' ← h'·W_hrᵀ` with a projection.
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

  /// Runs the LSTM on `x` `[B, T, I]` from states `h0` `[L·D, B, R]`, `c0` `[L·D, B, H]` (zeros if nil).
  ///
  /// Each time step splits the hidden units over `threads` workers: each computes its units'
  /// four gate columns of `h·W_hh` and their cell update, so one barrier per step suffices.
  func forward(_ x: Matrix, h0: Matrix? = nil, c0: Matrix? = nil, threads: Int = EngineThreads.count)
    -> Output
  {
    let batch = x.shape[0]
    let steps = x.shape[1]
    let hidden = hiddenSize
    let out = outputSize
    let nd = directions
    var hN = Matrix(zeros: [layers.count * nd, batch, out])
    var cN = Matrix(zeros: [layers.count * nd, batch, hidden])
    var input = x
    for (layerIndex, layer) in layers.enumerated() {
      var y = Matrix(zeros: [batch, steps, nd * out])
      for (direction, cell) in layer.enumerated() {
        let stateIndex = layerIndex * nd + direction
        var h = [Float](repeating: 0, count: batch * out)
        var c = [Float](repeating: 0, count: batch * hidden)
        if let h0 { h = Array(h0.values[(stateIndex * batch * out)..<((stateIndex + 1) * batch * out)]) }
        if let c0 {
          c = Array(c0.values[(stateIndex * batch * hidden)..<((stateIndex + 1) * batch * hidden)])
        }
        run(
          cell, input: input, batch: batch, steps: steps, reverse: direction == 1, h: &h, c: &c,
          y: &y, column: direction * out, threads: threads)
        hN.values.replaceSubrange((stateIndex * batch * out)..<((stateIndex + 1) * batch * out), with: h)
        cN.values.replaceSubrange(
          (stateIndex * batch * hidden)..<((stateIndex + 1) * batch * hidden), with: c)
      }
      input = y
    }
    return Output(y: input, hN: hN, cN: cN)
  }

  // swift-format-ignore: FunctionParameterCount
  private func run(
    _ cell: Cell, input: Matrix, batch: Int, steps: Int, reverse: Bool, h: inout [Float],
    c: inout [Float], y: inout Matrix, column: Int, threads: Int
  ) {
    let hidden = hiddenSize
    let out = outputSize
    let g4 = 4 * hidden
    let ldy = y.columns
    // Workers get at least 32 units each.
    let parts = max(1, min(threads, hidden / 32))
    // Input projection of every time step in one product: G = X·W_ihᵀ + b.
    var gates = [Float](repeating: 0, count: batch * steps * g4)
    // o·tanh(c) before the projection (with proj_size), and the double buffer for h.
    var full = [Float](repeating: 0, count: batch * hidden)
    var next = [Float](repeating: 0, count: batch * out)
    gates.withUnsafeMutableBufferPointer { g in
      let gp = g.baseAddress!
      for row in 0..<(batch * steps) { (gp + row * g4).update(from: cell.bias, count: g4) }
      input.values.withUnsafeBufferPointer { xin in
        cell.input.multiply(
          xin.baseAddress!, rows: batch * steps, ldx: input.columns, into: gp, ldy: g4, beta: 1)
      }
      y.values.withUnsafeMutableBufferPointer { yb in
        h.withUnsafeMutableBufferPointer { hb in
          next.withUnsafeMutableBufferPointer { nb in
            c.withUnsafeMutableBufferPointer { cb in
              full.withUnsafeMutableBufferPointer { fb in
                var previous = UnsafeSendablePointer(hb.baseAddress!)
                var current = UnsafeSendablePointer(nb.baseAddress!)
                let gates = UnsafeSendablePointer(gp)
                let cells = UnsafeSendablePointer(cb.baseAddress!)
                let projected = UnsafeSendablePointer(fb.baseAddress!)
                for s in 0..<steps {
                  let t = reverse ? steps - 1 - s : s
                  let (source, target) = (previous, cell.projection == nil ? current : projected)
                  let ldTarget = cell.projection == nil ? out : hidden
                  let body: @Sendable (Int) -> Void = { part in
                    let units = (part * hidden / parts)..<((part + 1) * hidden / parts)
                    // Recurrent term of these units' four gates, added in place to the rows of
                    // step t (stride T·4H).
                    for gate in 0..<4 {
                      let lower = gate * hidden + units.lowerBound
                      cell.recurrent.multiply(
                        UnsafePointer(source.pointer), rows: batch, ldx: out,
                        outputs: lower..<(lower + units.count), into: gates.pointer + t * g4 + lower,
                        ldy: steps * g4, beta: 1, threads: 1)
                    }
                    let (j0, n) = (units.lowerBound, units.count)
                    for b in 0..<batch {
                      let row = gates.pointer + (b * steps + t) * g4
                      let cRow = cells.pointer + b * hidden
                      let hRow = target.pointer + b * ldTarget
                      // Gates i, f (sigmoid), g (tanh), o (sigmoid), eight lanes at a time.
                      VectorMath.sigmoid(row + j0, count: n)
                      VectorMath.sigmoid(row + hidden + j0, count: n)
                      VectorMath.tanh(row + 2 * hidden + j0, count: n)
                      VectorMath.sigmoid(row + 3 * hidden + j0, count: n)
                      for j in units {
                        let cNew = row[hidden + j] * cRow[j] + row[j] * row[2 * hidden + j]
                        cRow[j] = cNew
                        hRow[j] = cNew
                      }
                      VectorMath.tanh(hRow + j0, count: n)
                      for j in units { hRow[j] *= row[3 * hidden + j] }
                    }
                  }
                  if parts > 1 {
                    DispatchQueue.concurrentPerform(iterations: parts, execute: body)
                  } else {
                    body(0)
                  }
                  if let projection = cell.projection {
                    projection.multiply(
                      UnsafePointer(projected.pointer), rows: batch, ldx: hidden, into: current.pointer,
                      ldy: out)
                  }
                  for b in 0..<batch {
                    (yb.baseAddress! + (b * steps + t) * ldy + column).update(
                      from: current.pointer + b * out, count: out)
                  }
                  swap(&previous, &current)
                }
                // The last step's h is in `previous`; keep it in `h`.
                if previous.pointer != hb.baseAddress! {
                  hb.baseAddress!.update(from: previous.pointer, count: batch * out)
                }
              }
            }
          }
        }
      }
    }
  }
}
