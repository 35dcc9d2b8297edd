/// One input array a model takes, with the sizes its weights fix.
public struct InputSpec: Sendable, Equatable {
  /// The input's name (`x`, `src`, `tgt`).
  public var name: String
  /// Token ids `[B, T]` (else floats `[B, T, features]`).
  public var isTokens: Bool
  /// The feature count of a float input; the vocabulary size of a token input.
  public var size: Int

  /// Creates a description.
  public init(name: String, isTokens: Bool, size: Int) {
    self.name = name
    self.isTokens = isTokens
    self.size = size
  }
}
