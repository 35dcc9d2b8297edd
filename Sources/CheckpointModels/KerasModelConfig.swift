import CheckpointCore

/// What a Keras 2 `.h5` file's `model_config` says beyond names and shapes: the order of the
/// layers, and recurrent settings the engine must honour or refuse.
package struct KerasModelConfig {
  package struct Layer {
    package var name: String
    package var className: String
    package var config: JSONValue
  }

  /// Top-level layers in model order (a `Bidirectional` wrapper's inner layer replaces its config).
  package var layers: [Layer]

  /// Parses `metadata["model_config"]`; `nil` when absent or not a Keras model config.
  package init?(_ metadata: [String: String]) {
    guard let text = metadata["model_config"], let json = try? JSONValue.parse(Array(text.utf8)),
      let list = json["config"]?["layers"]?.arrayValue
    else { return nil }
    layers = list.compactMap { entry in
      guard let config = entry["config"], let className = entry["class_name"]?.stringValue else { return nil }
      let name = entry["name"]?.stringValue ?? config["name"]?.stringValue ?? ""
      if let inner = config["layer"], let innerClass = inner["class_name"]?.stringValue,
        let innerConfig = inner["config"]
      {
        return Layer(name: name, className: "\(className)(\(innerClass))", config: innerConfig)
      }
      return Layer(name: name, className: className, config: config)
    }
  }

  /// The position of layer `name` in the model, if listed.
  package func position(of name: String) -> Int? { layers.firstIndex { $0.name == name } }

  /// Refuses recurrent layers whose settings the engine does not implement.
  package func checkRecurrent(_ path: String) throws {
    let name = path.split(separator: ".").last.map(String.init) ?? path
    guard let layer = layers.first(where: { $0.name == name }) else { return }
    let config = layer.config
    let expectations: [(key: String, value: String)] = [
      ("activation", "tanh"), ("recurrent_activation", "sigmoid"),
    ]
    for (key, value) in expectations {
      if let actual = config[key]?.stringValue, actual != value {
        throw CheckpointError(
          .unsupported,
          "Keras layer '\(name)' (\(layer.className)) uses \(key) '\(actual)'; the engine implements '\(value)'"
        )
      }
    }
    for key in ["go_backwards", "time_major"] {
      if case .bool(true) = config[key] ?? .null, !layer.className.hasPrefix("Bidirectional") {
        throw CheckpointError(
          .unsupported, "Keras layer '\(name)' (\(layer.className)) uses \(key)=True; not supported")
      }
    }
  }
}
