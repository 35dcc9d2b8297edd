/// A checkpoint: ordered tensors and string metadata, as read from one file
/// (or one sharded set of files) or assembled in memory.
public struct Checkpoint: Sendable {
  /// The metadata key that holds a model's own configuration as JSON text: a Hugging Face
  /// folder's or a `.keras` archive's `config.json`, carried into every file written from it.
  public static let configKey = "config.json"
  /// The metadata key of a Keras model's layer names in model order (a JSON list), kept through
  /// layout conversions so that a Keras file written back lists its layers as the model does:
  /// tf.keras loads weights by layer position, and formats such as safetensors sort names.
  public static let kerasLayerOrderKey = "keras_layer_order"

  /// The format identifier it was read from (`safetensors`, `npz`, ...), or `memory`.
  public var format: String
  /// The tensors, in file order.
  public var tensors: [Tensor]
  /// String metadata (safetensors `__metadata__`, GGUF keys rendered as text, ...).
  public var metadata: [String: String]

  /// Creates a checkpoint.
  ///
  /// - Throws: ``CheckpointError`` `.duplicateName` when two tensors share a name.
  public init(format: String = "memory", tensors: [Tensor], metadata: [String: String] = [:]) throws {
    var seen = Set<String>()
    for tensor in tensors where !seen.insert(tensor.name).inserted {
      throw CheckpointError(.duplicateName, "duplicate tensor name", tensor: tensor.name)
    }
    self.format = format
    self.tensors = tensors
    self.metadata = metadata
  }

  /// The tensor named `name`, if any.
  public subscript(name: String) -> Tensor? {
    tensors.first { $0.name == name }
  }

  /// The number of elements of the model's parameters (block types count their elements):
  /// buffers and training state are not parameters (``TensorRole``).
  public var parameterCount: Int { elementCount(.parameter) }

  /// The total number of data bytes over all tensors.
  public var byteCount: Int {
    tensors.reduce(0) { $0 &+ $1.byteCount }
  }
}
