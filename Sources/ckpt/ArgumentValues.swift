import ArgumentParser
import CheckpointConversion
import CheckpointCore
import CheckpointKit
import CheckpointModels
import CheckpointQuantization

/// Runs a check of the arguments in a command's `validate()`: a ``CheckpointError`` it throws
/// becomes a usage error (exit 64) with the same text.
@discardableResult
func validating<R>(_ body: () throws -> R) throws -> R {
  do {
    return try body()
  } catch let error as CheckpointError {
    throw ValidationError(error.description)
  }
}

/// Checks `--rtol` and `--atol` (`ckpt verify`, `ckpt diff`): finite and not negative.
func validateTolerances(rtol: Double?, atol: Double?) throws {
  for value in [rtol, atol].compactMap({ $0 }) where !(value >= 0) || !value.isFinite {
    throw ValidationError("--rtol and --atol must be finite numbers ≥ 0")
  }
}

// The values of `--arch`, `--layout`, `--format` and `--scheme`: `allValueStrings` lists the
// canonical spellings (in `--help`, in shell completions and in the message of an invalid
// value, which is a usage error, exit 64); `init?(argument:)` also takes every other spelling
// `ckpt` has accepted (any case, aliases).

extension Activation: ExpressibleByArgument {}

extension Architecture: ExpressibleByArgument {
  /// An architecture name in any case (`Architecture(parsing:)`).
  public init?(argument: String) {
    guard let value = try? Architecture(parsing: argument) else { return nil }
    self = value
  }
}

extension QuantizationScheme: ExpressibleByArgument {
  /// A scheme name in any case (`q8_0`, `Q8_0`).
  public init?(argument: String) {
    guard let value = QuantizationScheme(rawValue: argument.lowercased()) else { return nil }
    self = value
  }
}

/// A `--layout` / `--from-layout` value: a layout family (`pytorch`, `keras`, `keras3`, `hf`),
/// or a Hugging Face naming that picks the family and its style (`hf-bert`, `hf-bart`); any
/// case, and `keras2` for `keras`.
struct LayoutArgument: ExpressibleByArgument {
  /// The value as given (the conversion record and `--json` name it so).
  var argument: String
  /// The layout family.
  var layout: Layout
  /// The Hugging Face naming, for `hf-bert` and `hf-bart`.
  var naming: Naming?

  static let allValueStrings = ["pytorch", "keras", "keras3", "hf", "hf-bert", "hf-bart"]

  static var defaultCompletionKind: CompletionKind { .list(allValueStrings) }

  init?(argument: String) {
    self.argument = argument
    switch argument.lowercased() {
    case "hf-bert": (self.layout, self.naming) = (.hf, .hfBert)
    case "hf-bart": (self.layout, self.naming) = (.hf, .hfBart)
    case "keras2": (self.layout, self.naming) = (.keras, nil)
    default:
      guard let layout = Layout(rawValue: argument.lowercased()), layout != .unknown else { return nil }
      (self.layout, self.naming) = (layout, nil)
    }
  }
}

/// A `--format` / `--input-format` value: a format identifier of ``FormatRegistry``, in any case.
struct FormatArgument: ExpressibleByArgument {
  /// The identifier as given (the libraries take it so and compare it in lower case).
  var name: String

  static var allValueStrings: [String] { FormatRegistry.identifiers }

  static var defaultCompletionKind: CompletionKind { .list(allValueStrings) }

  init?(argument: String) {
    guard (try? FormatRegistry.format(named: argument)) != nil else { return nil }
    name = argument
  }
}
