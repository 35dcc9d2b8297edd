/// A module of an assembled model, under a canonical name that does not depend on the layout.
///
/// | architecture | modules, in execution order |
/// |---|---|
/// | `lstm`, `gru` | `lstm.l{k}` / `gru.l{k}` (one per layer, all directions) |
/// | `transformer-encoder` | per layer `encoder.layers.{i}.{self_attn, norm1, feed_forward, norm2}` (pre-norm: norms first), then `encoder.layers.{i}`; `encoder.norm` |
/// | `transformer` | the encoder's, then per decoder layer `decoder.layers.{i}.{self_attn, norm1, multihead_attn, norm2, feed_forward, norm3}`, `decoder.layers.{i}`; `decoder.norm` |
/// | `seq2seq-lstm` | `encoder.embedding`, `encoder.lstm.l{k}`, `decoder.embedding`, `decoder.lstm.l{k}`, `projection` |
public struct ModuleDescriptor: Sendable, Equatable {
  /// The canonical name.
  public var name: String
  /// What the module is: `lstm-layer`, `gru-layer`, `attention`, `layer-norm`, `feed-forward`,
  /// `encoder-layer`, `decoder-layer`, `embedding`, `linear`.
  public var kind: String
  /// The enclosing layer, for sub-modules.
  public var parent: String?
  /// The parameter shapes in a layout-independent form (`input 6, hidden 4, directions 2`);
  /// two modules with different signatures cannot compute the same function.
  public var signature: String
  /// Settings that are not shapes (`heads 2`, `eps 1e-05`, `activation relu`).
  public var settings: String
  /// The names of the inputs a ``ModuleRecord`` carries.
  public var inputNames: [String]
  /// The names of the outputs.
  public var outputNames: [String]
}
