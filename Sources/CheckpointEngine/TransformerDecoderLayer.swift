/// One Transformer decoder layer (PyTorch `nn.TransformerDecoderLayer`, keras_hub
/// `TransformerDecoder`, HF BART decoder layer): causal self-attention, cross-attention
/// to the encoder's memory, feed-forward; post- or pre-norm as the encoder layer.
struct TransformerDecoderLayer: Sendable {
  var selfAttention: MultiHeadAttention
  var crossAttention: MultiHeadAttention
  var feedForward: FeedForward
  var norm1: LayerNorm
  var norm2: LayerNorm
  var norm3: LayerNorm
  var normFirst: Bool

  /// Runs the layer on `x` `[B, T, E]` attending to `memory` `[B, S, E]`.
  ///
  /// With a `trace`, records the sub-modules `{name}.self_attn`, `.norm1`, `.multihead_attn`
  /// (cross-attention), `.norm2`, `.feed_forward`, `.norm3` in execution order, then the
  /// layer as `{name}` (inputs `x`, `memory`; output `y`).
  func callAsFunction(
    _ x: Matrix, memory: Matrix, memoryKeep: [Bool]? = nil, trace: ModuleTrace? = nil, name: String = ""
  ) -> Matrix {
    let input = x
    var x = x
    let sub = Traced(trace: trace, parent: name)
    if normFirst {
      let n = sub.norm(norm1, x, "norm1")
      x.add(sub.attention(selfAttention, n, n, keep: nil, causal: true, "self_attn"))
      x.add(
        sub.attention(
          crossAttention, sub.norm(norm2, x, "norm2"), memory, keep: memoryKeep, causal: false,
          "multihead_attn"))
      x.add(sub.feedForward(feedForward, sub.norm(norm3, x, "norm3"), "feed_forward"))
    } else {
      x.add(sub.attention(selfAttention, x, x, keep: nil, causal: true, "self_attn"))
      x = sub.norm(norm1, x, "norm1")
      x.add(sub.attention(crossAttention, x, memory, keep: memoryKeep, causal: false, "multihead_attn"))
      x = sub.norm(norm2, x, "norm2")
      x.add(sub.feedForward(feedForward, x, "feed_forward"))
      x = sub.norm(norm3, x, "norm3")
    }
    trace?.append(name: name, parent: nil, inputs: [input, memory], outputs: [x], keep: memoryKeep)
    return x
  }
}
