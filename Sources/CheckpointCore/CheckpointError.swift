/// An error about a checkpoint: what was wrong, and where.
///
/// Every error carries a ``Kind`` for programmatic handling and a message for
/// people; the location (file, tensor, byte offset) is added as the error
/// travels up, so the final description reads like
/// `model.safetensors: tensor 'encoder.weight' at byte 1032: declared 400 bytes, shape [10, 20] F32 needs 800`.
public struct CheckpointError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The category of the problem.
  public enum Kind: String, Sendable, Equatable {
    /// The file is not in the expected format (bad magic, unknown version).
    case badFormat
    /// The file is shorter than its own declarations.
    case truncated
    /// A structural field is out of range (header too large, bad offsets, trailing bytes).
    case corrupt
    /// A shape or byte count is inconsistent or overflows.
    case invalidShape
    /// A dtype the format or the operation cannot handle.
    case unsupportedDType
    /// A feature of the format that is recognised but not supported.
    case unsupported
    /// A tensor name appears twice.
    case duplicateName
    /// A tensor or entry that was asked for does not exist.
    case notFound
    /// A checksum did not match the data.
    case checksumMismatch
    /// The operating system refused an operation (open, read, write, rename).
    case io
    /// The user asked for something that cannot be done (bad option value).
    case invalidArgument
  }

  /// The category of the problem.
  public var kind: Kind
  /// What was wrong, in words.
  public var message: String
  /// The file the problem was found in, when known.
  public var file: String?
  /// The tensor the problem concerns, when known.
  public var tensor: String?
  /// The byte offset in `file` where the problem was found, when known.
  public var offset: Int?

  /// Creates an error of `kind` with a message and an optional location.
  public init(
    _ kind: Kind, _ message: String, file: String? = nil, tensor: String? = nil, offset: Int? = nil
  ) {
    self.kind = kind
    self.message = message
    self.file = file
    self.tensor = tensor
    self.offset = offset
  }

  /// A copy with the location filled in where it was not known yet.
  public func located(file: String? = nil, tensor: String? = nil, offset: Int? = nil) -> Self {
    var copy = self
    if copy.file == nil { copy.file = file }
    if copy.tensor == nil { copy.tensor = tensor }
    if copy.offset == nil { copy.offset = offset }
    return copy
  }

  /// The error as `ckpt` prints it: the file, the tensor and the byte offset, then the message.
  public var description: String {
    var location: [String] = []
    if let tensor { location.append("tensor '\(tensor)'") }
    if let offset { location.append("at byte \(offset)") }
    var text = ""
    if let file { text += file + ": " }
    if !location.isEmpty { text += location.joined(separator: " ") + ": " }
    return text + message
  }
}

extension CheckpointError {
  /// Runs `body`, adding the location to any ``CheckpointError`` it throws.
  public static func locating<R>(
    file: String? = nil, tensor: String? = nil, offset: Int? = nil, _ body: () throws -> R
  ) throws -> R {
    do {
      return try body()
    } catch let error as CheckpointError {
      throw error.located(file: file, tensor: tensor, offset: offset)
    }
  }
}
