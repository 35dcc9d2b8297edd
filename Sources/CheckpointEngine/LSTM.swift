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
  func forward(_ x: Matrix, h0: Matrix? = nil, c0: Matrix? = nil) -> Output {
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
          y: &y, column: direction * out)
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
    c: inout [Float], y: inout Matrix, column: Int
  ) {
    let hidden = hiddenSize
    let out = outputSize
    let g4 = 4 * hidden
    let ldy = y.columns
    // Input projection of every time step in one product: G = X·W_ihᵀ + b.
    var gates = [Float](repeating: 0, count: batch * steps * g4)
    var full = [Float](repeating: 0, count: batch * hidden)
    gates.withUnsafeMutableBufferPointer { g in
      let gp = g.baseAddress!
      for row in 0..<(batch * steps) { (gp + row * g4).update(from: cell.bias, count: g4) }
      input.values.withUnsafeBufferPointer { xin in
        cell.input.multiply(
          xin.baseAddress!, rows: batch * steps, ldx: input.columns, into: gp, ldy: g4, beta: 1)
      }
      y.values.withUnsafeMutableBufferPointer { yb in
        h.withUnsafeMutableBufferPointer { hb in
          c.withUnsafeMutableBufferPointer { cb in
            full.withUnsafeMutableBufferPointer { fb in
              for s in 0..<steps {
                let t = reverse ? steps - 1 - s : s
                // Recurrent term, added in place to the rows of step t (stride T·4H).
                cell.recurrent.multiply(
                  UnsafePointer(hb.baseAddress!), rows: batch, ldx: out, into: gp + t * g4,
                  ldy: steps * g4, beta: 1)
                for b in 0..<batch {
                  let row = gp + (b * steps + t) * g4
                  let cRow = cb.baseAddress! + b * hidden
                  let target =
                    cell.projection == nil ? hb.baseAddress! + b * out : fb.baseAddress! + b * hidden
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
                    UnsafePointer(fb.baseAddress!), rows: batch, ldx: hidden, into: hb.baseAddress!, ldy: out)
                }
                for b in 0..<batch {
                  (yb.baseAddress! + (b * steps + t) * ldy + column).update(
                    from: hb.baseAddress! + b * out, count: out)
                }
              }
            }
          }
        }
      }
    }
  }
}
