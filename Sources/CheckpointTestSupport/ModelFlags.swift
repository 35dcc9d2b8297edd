import CheckpointCore
import CheckpointModels

extension TestFixtures {
  /// The model settings of `ckpt` flags as a fixture's `NAME.json` lists them (`--heads 2`,
  /// `--activation gelu`, `--norm-first` / `--no-norm-first`, `--eps 1e-6`).
  public static func modelSettings(flags: [String]) -> ModelSettings {
    var settings = ModelSettings()
    var index = 0
    while index < flags.count {
      let value = index + 1 < flags.count ? flags[index + 1] : ""
      switch flags[index] {
      case "--heads": (settings.heads, index) = (Int(value), index + 1)
      case "--activation": (settings.activation, index) = (Activation(rawValue: value), index + 1)
      case "--eps": (settings.eps, index) = (Float(value), index + 1)
      case "--norm-first": settings.normFirst = true
      case "--no-norm-first": settings.normFirst = false
      default: break
      }
      index += 1
    }
    return settings
  }

  /// The settings of the engine fixture `engine/NAME.json`.
  public static func engineFixtureSettings(_ name: String) throws -> ModelSettings {
    let text = try String(decoding: bytes("engine/\(name).json"), as: UTF8.self)
    let json = try JSONValue.parse(Array(text.utf8))
    return modelSettings(flags: json["flags"]?.arrayValue?.compactMap(\.stringValue) ?? [])
  }
}
