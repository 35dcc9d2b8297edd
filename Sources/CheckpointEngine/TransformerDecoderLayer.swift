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
  func callAsFunction(_ x: Matrix, memory: Matrix, memoryKeep: [Bool]? = nil) -> Matrix {
    var x = x
    if normFirst {
      let n = x.normalized(norm1)
      x.add(selfAttention(n, memory: n, causal: true))
      x.add(crossAttention(x.normalized(norm2), memory: memory, keep: memoryKeep))
      x.add(feedForward(x.normalized(norm3)))
    } else {
      x.add(selfAttention(x, memory: x, causal: true))
      norm1.apply(&x)
      x.add(crossAttention(x, memory: memory, keep: memoryKeep))
      norm2.apply(&x)
      x.add(feedForward(x))
      norm3.apply(&x)
    }
    return x
  }
}
