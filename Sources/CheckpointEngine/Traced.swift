/// Runs sub-modules of a layer, recording each in a trace when there is one.
struct Traced {
  var trace: ModuleTrace?
  var parent: String

  func norm(_ norm: LayerNorm, _ x: Matrix, _ name: String) -> Matrix {
    let y = x.normalized(norm)
    trace?.append(name: parent + "." + name, parent: parent, inputs: [x], outputs: [y])
    return y
  }

  // swift-format-ignore: FunctionParameterCount
  func attention(
    _ attention: MultiHeadAttention, _ x: Matrix, _ memory: Matrix, keep: [Bool]?, causal: Bool,
    _ name: String
  ) -> Matrix {
    let y = attention(x, memory: memory, keep: keep, causal: causal)
    trace?.append(
      name: parent + "." + name, parent: parent, inputs: [x, memory], outputs: [y], keep: keep, causal: causal
    )
    return y
  }

  func feedForward(_ feedForward: FeedForward, _ x: Matrix, _ name: String) -> Matrix {
    let y = feedForward(x)
    trace?.append(name: parent + "." + name, parent: parent, inputs: [x], outputs: [y])
    return y
  }
}
