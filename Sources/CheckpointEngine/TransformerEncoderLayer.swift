/// One Transformer encoder layer (PyTorch `nn.TransformerEncoderLayer`, keras_hub
/// `TransformerEncoder`, HF BERT layer).
///
/// Post-norm: `x = norm1(x + attn(x)); x = norm2(x + ff(x))`.
/// Pre-norm (`norm_first`): `x = x + attn(norm1(x)); x = x + ff(norm2(x))`.
struct TransformerEncoderLayer: Sendable {
  var selfAttention: MultiHeadAttention
  var feedForward: FeedForward
  var norm1: LayerNorm
  var norm2: LayerNorm
  var normFirst: Bool

  /// Runs the layer on `x` `[B, S, E]`; `keep` `[B·S]` marks real (non-padding) positions.
  ///
  /// With a `trace`, records the sub-modules `{name}.self_attn`, `.norm1`, `.feed_forward`,
  /// `.norm2` in execution order, then the layer as `{name}` (input `x`, output `y`).
  func callAsFunction(_ x: Matrix, keep: [Bool]?, trace: ModuleTrace? = nil, name: String = "") -> Matrix {
    let input = x
    var x = x
    let sub = Traced(trace: trace, parent: name)
    if normFirst {
      let n = sub.norm(norm1, x, "norm1")
      x.add(sub.attention(selfAttention, n, n, keep: keep, causal: false, "self_attn"))
      x.add(sub.feedForward(feedForward, sub.norm(norm2, x, "norm2"), "feed_forward"))
    } else {
      x.add(sub.attention(selfAttention, x, x, keep: keep, causal: false, "self_attn"))
      x = sub.norm(norm1, x, "norm1")
      x.add(sub.feedForward(feedForward, x, "feed_forward"))
      x = sub.norm(norm2, x, "norm2")
    }
    trace?.append(name: name, parent: nil, inputs: [input], outputs: [x], keep: keep)
    return x
  }
}
