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
  func callAsFunction(_ x: Matrix, keep: [Bool]?) -> Matrix {
    var x = x
    if normFirst {
      let n = x.normalized(norm1)
      x.add(selfAttention(n, memory: n, keep: keep))
      x.add(feedForward(x.normalized(norm2)))
    } else {
      x.add(selfAttention(x, memory: x, keep: keep))
      norm1.apply(&x)
      x.add(feedForward(x))
      norm2.apply(&x)
    }
    return x
  }
}
