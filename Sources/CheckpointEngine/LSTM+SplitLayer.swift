extension LSTM {
  /// Runs unidirectional layer `index` with its hidden units shared among `parties` threads.
  ///
  /// Each thread owns a range of units: it projects the input for those units' four gates over
  /// the whole sequence, then at every step multiplies `h` by those gates' columns of the
  /// recurrent weight (its own copy, panel by panel), updates its units' `c` and `h`, and meets
  /// the others at a barrier (with a projection, a second barrier before its share of
  /// `h = h_full·W_hrᵀ`). One layer's weights are read at a time, split between the threads,
  /// where a wavefront of layers would stream two layers' weights at once.
  func forwardSplit(_ index: Int, _ x: Matrix, h0: Matrix?, c0: Matrix?, parties: Int) -> Output {
    let cell = layers[index][0]
    let batch = x.shape[0]
    let steps = x.shape[1]
    let (hidden, out) = (hiddenSize, outputSize)
    let g4 = 4 * hidden
    let y = FloatBuffer(batch * steps * out)
    let hs = [FloatBuffer(batch * out), FloatBuffer(batch * out)]
    let c = FloatBuffer(batch * hidden)
    let gates = FloatBuffer(batch * steps * g4, zeroed: false)
    let full = FloatBuffer(cell.projection == nil ? 0 : batch * hidden)
    defer { for buffer in [y, c, gates, full] + hs { buffer.free() } }
    if let h0 { hs[0].copy(from: h0.values, at: 0) }
    if let c0 { c.copy(from: c0.values, at: 0) }
    // Units and projected outputs per party, in multiples of 8 (the vector width).
    let share: @Sendable (Int, Int) -> Range<Int> = { count, party in
      let bound = { (p: Int) in min(count, (count * p / parties + 7) / 8 * 8) }
      return bound(party)..<(party + 1 == parties ? count : bound(party + 1))
    }
    let barrier = SpinBarrier(parties: parties)
    x.values.withUnsafeBufferPointer { xb in
      guard let xp = xb.baseAddress, batch > 0, steps > 0 else { return }
      let input = UnsafeSendablePointer(UnsafeMutablePointer(mutating: xp))
      let ldx = x.columns
      SpinBarrier.run(parties: parties) { party in
        let units = share(hidden, party)
        let n = units.count
        let columns = (0..<4).map {
          (($0 * hidden) + units.lowerBound)..<(($0 * hidden) + units.upperBound)
        }
        // G = X·W_ihᵀ + b for this party's columns.
        cell.bias.withUnsafeBufferPointer { bias in
          for range in columns where !range.isEmpty {
            for row in 0..<(batch * steps) {
              (gates.pointer + row * g4 + range.lowerBound).update(
                from: bias.baseAddress! + range.lowerBound, count: range.count)
            }
            cell.input.multiply(
              UnsafePointer(input.pointer), rows: batch * steps, ldx: ldx, outputs: range,
              into: gates.pointer + range.lowerBound, ldy: g4, beta: 1, threads: 1)
          }
        }
        let panels =
          n == 0
          ? nil : PanelWeight(cell.recurrent, columns: columns, rows: batch, threads: 1, steps: steps)
        let local = FloatBuffer(batch * 4 * n, zeroed: false)
        defer {
          panels?.free()
          local.free()
        }
        let outputs = cell.projection == nil ? units : share(out, party)
        for t in 0..<steps {
          let previous = UnsafePointer(hs[t % 2].pointer)
          let next = hs[(t + 1) % 2].pointer
          let row0 = local.pointer
          if n > 0 {
            if let panels {
              panels.multiply(previous, rows: batch, ldx: out, into: row0, ldy: 4 * n, threads: 1)
            } else {
              for (g, range) in columns.enumerated() {
                cell.recurrent.multiply(
                  previous, rows: batch, ldx: out, outputs: range, into: row0 + g * n, ldy: 4 * n,
                  threads: 1)
              }
            }
          }
          for b in 0..<batch where n > 0 {
            let row = row0 + b * 4 * n
            let projected = gates.pointer + (b * steps + t) * g4
            for g in 0..<4 {
              let source = projected + g * hidden + units.lowerBound
              for j in 0..<n { row[g * n + j] += source[j] }
            }
            // Gates i, f (sigmoid), g (tanh), o (sigmoid), eight lanes at a time.
            VectorMath.sigmoid(row, count: 2 * n)
            VectorMath.tanh(row + 2 * n, count: n)
            VectorMath.sigmoid(row + 3 * n, count: n)
            let cRow = c.pointer + b * hidden + units.lowerBound
            let target =
              (cell.projection == nil ? next + b * out : full.pointer + b * hidden) + units.lowerBound
            for j in 0..<n {
              let cNew = row[n + j] * cRow[j] + row[j] * row[2 * n + j]
              cRow[j] = cNew
              target[j] = cNew
            }
            VectorMath.tanh(target, count: n)
            for j in 0..<n { target[j] *= row[3 * n + j] }
          }
          if let projection = cell.projection {
            barrier.wait()
            if !outputs.isEmpty {
              projection.multiply(
                UnsafePointer(full.pointer), rows: batch, ldx: hidden, outputs: outputs,
                into: next + outputs.lowerBound, ldy: out, threads: 1)
            }
          }
          for b in 0..<batch where !outputs.isEmpty {
            (y.pointer + (b * steps + t) * out + outputs.lowerBound).update(
              from: next + b * out + outputs.lowerBound, count: outputs.count)
          }
          barrier.wait()
        }
      }
    }
    let last = hs[steps % 2]
    return Output(
      y: Matrix(shape: [batch, steps, out], values: y.array()),
      hN: Matrix(shape: [1, batch, out], values: last.array()),
      cN: Matrix(shape: [1, batch, hidden], values: c.array()))
  }
}
