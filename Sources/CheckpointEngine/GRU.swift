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

  /// Runs the GRU on `x` `[B, T, I]`; returns `y` `[B, T, D·H]` and `h_n` `[L·D, B, H]`.
  func forward(_ x: Matrix) -> (y: Matrix, hN: Matrix) {
    let batch = x.shape[0]
    let steps = x.shape[1]
    let hidden = hiddenSize
    let nd = directions
    var hN = Matrix(zeros: [layers.count * nd, batch, hidden])
    var input = x
    for (layerIndex, layer) in layers.enumerated() {
      var y = Matrix(zeros: [batch, steps, nd * hidden])
      for (direction, cell) in layer.enumerated() {
        var h = [Float](repeating: 0, count: batch * hidden)
        run(
          cell, input: input, batch: batch, steps: steps, reverse: direction == 1, h: &h, y: &y,
          column: direction * hidden)
        let stateIndex = layerIndex * nd + direction
        hN.values.replaceSubrange(
          (stateIndex * batch * hidden)..<((stateIndex + 1) * batch * hidden), with: h)
      }
      input = y
    }
    return (input, hN)
  }

  // swift-format-ignore: FunctionParameterCount
  private func run(
    _ cell: Cell, input: Matrix, batch: Int, steps: Int, reverse: Bool, h: inout [Float],
    y: inout Matrix, column: Int
  ) {
    let hidden = hiddenSize
    let g3 = 3 * hidden
    let ldy = y.columns
    let rOff = order.reset * hidden
    let zOff = order.update * hidden
    let nOff = order.candidate * hidden
    var gi = [Float](repeating: 0, count: batch * steps * g3)
    var gh = [Float](repeating: 0, count: batch * g3)
    var rh = [Float](repeating: 0, count: batch * hidden)
    gi.withUnsafeMutableBufferPointer { giBuffer in
      let gip = giBuffer.baseAddress!
      for row in 0..<(batch * steps) { (gip + row * g3).update(from: cell.inputBias, count: g3) }
      input.values.withUnsafeBufferPointer { xin in
        cell.input.multiply(
          xin.baseAddress!, rows: batch * steps, ldx: input.columns, into: gip, ldy: g3, beta: 1)
      }
      y.values.withUnsafeMutableBufferPointer { yb in
        h.withUnsafeMutableBufferPointer { hb in
          gh.withUnsafeMutableBufferPointer { ghb in
            rh.withUnsafeMutableBufferPointer { rhb in
              let hp = hb.baseAddress!
              let ghp = ghb.baseAddress!
              for s in 0..<steps {
                let t = reverse ? steps - 1 - s : s
                for b in 0..<batch { (ghp + b * g3).update(from: cell.recurrentBias, count: g3) }
                if resetAfter {
                  cell.recurrent.multiply(
                    UnsafePointer(hp), rows: batch, ldx: hidden, into: ghp, ldy: g3, beta: 1)
                } else {
                  for offset in [rOff, zOff] {
                    cell.recurrent.multiply(
                      UnsafePointer(hp), rows: batch, ldx: hidden, outputs: offset..<(offset + hidden),
                      into: ghp + offset, ldy: g3, beta: 1)
                  }
                }
                for b in 0..<batch {
                  let x = gip + (b * steps + t) * g3
                  let r = ghp + b * g3
                  for j in 0..<hidden {
                    r[rOff + j] += x[rOff + j]
                    r[zOff + j] += x[zOff + j]
                  }
                  // Keep r and z in place for the candidate step.
                  VectorMath.sigmoid(r + rOff, count: hidden)
                  VectorMath.sigmoid(r + zOff, count: hidden)
                  if !resetAfter {
                    for j in 0..<hidden { rhb[b * hidden + j] = r[rOff + j] * hp[b * hidden + j] }
                  }
                }
                if !resetAfter {
                  cell.recurrent.multiply(
                    UnsafePointer(rhb.baseAddress!), rows: batch, ldx: hidden,
                    outputs: nOff..<(nOff + hidden),
                    into: ghp + nOff, ldy: g3, beta: 1)
                }
                for b in 0..<batch {
                  let x = gip + (b * steps + t) * g3
                  let r = ghp + b * g3
                  for j in 0..<hidden {
                    r[nOff + j] =
                      resetAfter ? x[nOff + j] + r[rOff + j] * r[nOff + j] : x[nOff + j] + r[nOff + j]
                  }
                  VectorMath.tanh(r + nOff, count: hidden)
                  for j in 0..<hidden {
                    let update = r[zOff + j]
                    hp[b * hidden + j] = (1 - update) * r[nOff + j] + update * hp[b * hidden + j]
                  }
                  (yb.baseAddress! + (b * steps + t) * ldy + column).update(
                    from: hp + b * hidden, count: hidden)
                }
              }
            }
          }
        }
      }
    }
  }
}
